"""Reader accounts: sign-up and verification, password sign-in, sign-out, password reset,
change of e-mail, rate limits and the same answer for known and unknown addresses."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def make_reader(email="reader@example.com", *, verified=True, username=None):
    return get_user_model().objects.create_user(
        username=username or email.split("@")[0],
        email=email,
        password=PASSWORD,
        email_verified=verified,
    )


def page(response, *replace):
    """A response's body without the per-response CSRF token and the given strings."""
    body = CSRF.sub("", response.content.decode())
    for value in replace:
        body = body.replace(value, "EMAIL")
    return body


def link_in(message, kind):
    found = re.search(rf"http://testserver(/account/{kind}/[^\s\"]+/(\?\S+)?)", message.body)
    assert found, message.body
    return found.group(1)


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/account/sign-in/", {"username": email, "password": password, **extra})


def is_signed_in(client):
    return client.get("/account/").status_code == 200


# Sign-up and verification


def confirm(client, path):
    """Open a verification link as a reader does: the page, then its button."""
    shown = client.get(path)
    assert shown.status_code == 200, shown.content
    return client.post(path.split("?")[0], {"next": shown.context["next"]})


def test_sign_up_sends_a_verification_link_whose_confirm_page_signs_in(client):
    # given / when
    response = client.post(
        "/account/sign-up/", {"email": "New.Reader@Example.com", "password": PASSWORD}
    )
    # then: an unverified account, nobody signed in yet, one message sent
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    user = get_user_model().objects.get()
    assert user.email == "new.reader@example.com"
    assert user.check_password(PASSWORD)
    assert user.email_verified is False
    assert not is_signed_in(client)
    assert len(mail.outbox) == 1
    verification = mail.outbox[0]
    assert verification.to == ["new.reader@example.com"]
    assert "{" not in verification.subject and "Confirm your e-mail address" in verification.subject
    assert verification.alternatives[0][1] == "text/html"

    # when the link is opened (as a mail scanner would): nothing happens
    assert client.get(link_in(verification, "verify")).status_code == 200
    user.refresh_from_db()
    assert user.email_verified is False and not is_signed_in(client)

    # when its button is pressed
    response = confirm(client, link_in(verification, "verify"))

    # then
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email_verified is True
    assert is_signed_in(client)
    welcome = mail.outbox[-1]
    assert welcome.subject.startswith("Welcome to") and welcome.to == ["new.reader@example.com"]
    # Confirming again changes nothing, signs nobody in and sends no second welcome.
    other = Client()
    assert confirm(other, link_in(verification, "verify")).status_code == 200
    assert not is_signed_in(other)
    assert len(mail.outbox) == 2


def test_sign_up_goes_on_to_the_page_it_started_from_once_confirmed(client):
    client.post(
        "/account/sign-up/",
        {"email": "new@example.com", "password": PASSWORD, "next": "/subscribe/"},
    )
    response = confirm(client, link_in(mail.outbox[0], "verify"))
    assert response.status_code == 302 and response["Location"] == "/subscribe/"
    assert is_signed_in(client)


def test_sign_up_never_goes_on_to_another_site(client):
    client.post(
        "/account/sign-up/",
        {"email": "new@example.com", "password": PASSWORD, "next": "https://evil.example/"},
    )
    path = link_in(mail.outbox[0], "verify")
    assert "evil" not in mail.outbox[0].body
    response = client.post(path, {"next": "https://evil.example/"})
    assert response.status_code == 200 and is_signed_in(client)


def test_sign_up_enforces_the_password_validators(client):
    response = client.post("/account/sign-up/", {"email": "a@example.com", "password": "123"})
    assert response.status_code == 200
    assert not get_user_model().objects.exists()
    body = response.content.decode()
    assert 'aria-invalid="true"' in body
    assert 'aria-describedby="id_password_error id_password_helptext"' in body
    assert 'id="id_password_error"' in body


# An address in another case: `iexact` is LIKE on SQLite and UPPER() on PostgreSQL.
@pytest.mark.sqlite
def test_sign_up_answers_the_same_for_an_address_in_use_and_tells_only_its_owner():
    # given
    make_reader("taken@example.com")
    # when
    taken = Client().post("/account/sign-up/", {"email": "TAKEN@example.com", "password": PASSWORD})
    free = Client().post("/account/sign-up/", {"email": "free@example.com", "password": PASSWORD})
    # then: the same page; one new account; the owner of the taken address is told how to
    # sign in, and nobody is signed in
    assert taken.status_code == free.status_code == 200
    assert page(taken) == page(free)
    assert get_user_model().objects.count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["free@example.com", "taken@example.com"]
    note = next(m for m in mail.outbox if m.to == ["taken@example.com"])
    assert "already" in note.subject
    assert "http://testserver/account/sign-in/" in note.body
    assert "http://testserver/account/password/reset/" in note.body
    assert get_user_model().objects.get(email="taken@example.com").check_password(PASSWORD)


def test_tampered_verification_link_does_nothing(client):
    client.post("/account/sign-up/", {"email": "new@example.com", "password": PASSWORD})
    path = link_in(mail.outbox[0], "verify")
    # One character of the signature changed (to one it is not: "x" would be no change
    # when the signature already has an "x" there, one link in 64).
    swap = "y" if path[-3] == "x" else "x"
    tampered = path[:-3] + swap + path[-2:]
    assert tampered != path
    assert Client().get(tampered).status_code == 400
    assert Client().post(tampered).status_code == 400
    assert get_user_model().objects.get().email_verified is False


# Password sign-in


# An address in another case: `iexact` is LIKE on SQLite and UPPER() on PostgreSQL.
@pytest.mark.sqlite
def test_password_sign_in_by_email_in_any_case(client):
    make_reader("reader@example.com")
    response = sign_in(client, "  Reader@EXAMPLE.com ")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert is_signed_in(client)


def test_wrong_password_gets_the_generic_error(client):
    make_reader("reader@example.com")
    response = sign_in(client, "reader@example.com", "not-the-password")
    assert response.status_code == 200
    assert "That e-mail address and password did not match" in response.content.decode()
    assert not is_signed_in(client)


def test_failed_sign_in_looks_the_same_for_known_and_unknown_addresses():
    make_reader("known@example.com")
    known = sign_in(Client(), "known@example.com", "wrong-password")
    unknown = sign_in(Client(), "nobody@example.com", "wrong-password")
    assert known.status_code == unknown.status_code == 200
    assert page(known, "known@example.com") == page(unknown, "nobody@example.com")


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_next_only_redirects_within_the_site(client, next_url):
    make_reader()
    response = sign_in(client, "reader@example.com", next=next_url)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_next_on_this_site_is_followed(client):
    make_reader()
    response = sign_in(client, "reader@example.com", next="/world/story/")
    assert response["Location"] == "/world/story/"


# Rate limits


@override_settings(
    MASTHEAD_SIGN_IN_LIMIT_ACCOUNT_NETWORK=(3, 900), MASTHEAD_SIGN_IN_LIMIT_NETWORK=(100, 900)
)
def test_sign_in_is_limited_per_account_without_revealing_the_account():
    make_reader("known@example.com")
    responses = {}
    for n, email in enumerate(["known@example.com", "nobody@example.com"]):
        client = Client(REMOTE_ADDR=f"10.0.0.{n + 1}")
        for _ in range(3):
            assert sign_in(client, email, "wrong").status_code == 200
        responses[email] = sign_in(client, email, "wrong")
    known, unknown = responses["known@example.com"], responses["nobody@example.com"]
    assert known.status_code == unknown.status_code == 429
    assert page(known, "known@example.com") == page(unknown, "nobody@example.com")
    assert "Too many attempts" in known.content.decode()
    # Even the right password is refused from that network...
    assert sign_in(Client(REMOTE_ADDR="10.0.0.1"), "known@example.com").status_code == 429
    # ...but not from another one: a stranger's failures do not lock the owner out.
    assert sign_in(Client(REMOTE_ADDR="10.0.0.9"), "known@example.com").status_code == 302


@override_settings(
    MASTHEAD_SIGN_IN_LIMIT_ACCOUNT_NETWORK=(100, 900), MASTHEAD_SIGN_IN_LIMIT_NETWORK=(4, 900)
)
def test_sign_in_is_limited_per_client_ip():
    make_reader("victim@example.com")
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    for n in range(4):
        assert sign_in(attacker, f"guess{n}@example.com", "wrong").status_code == 200
    assert sign_in(attacker, "victim@example.com").status_code == 429
    assert sign_in(Client(REMOTE_ADDR="10.0.0.7"), "victim@example.com").status_code == 302


@override_settings(MASTHEAD_RATE_LIMIT_ACCOUNT=(2, 900))
def test_link_and_reset_requests_are_limited_per_account():
    make_reader("known@example.com")
    for path in ["/account/sign-in/link/", "/account/password/reset/"]:
        for n in range(2):
            client = Client(REMOTE_ADDR=f"10.1.0.{n}")
            assert client.post(path, {"email": "known@example.com"}).status_code in (200, 302)
        limited = Client(REMOTE_ADDR="10.1.0.9").post(path, {"email": "known@example.com"})
        assert limited.status_code == 429
    assert len(mail.outbox) == 4


def test_a_dead_cache_lets_sign_in_through(client, dead_redis):
    # the rate limits' counters raise (the strict cache) and the limits let the attempt in
    make_reader()
    assert sign_in(client, "reader@example.com").status_code == 302


def test_successful_sign_in_forgets_failed_attempts():
    make_reader()
    client = Client(REMOTE_ADDR="10.2.0.1")
    for _ in range(4):
        sign_in(client, "reader@example.com", "wrong")
    assert sign_in(client, "reader@example.com").status_code == 302
    client.post("/account/sign-out/")
    for _ in range(4):
        assert sign_in(client, "reader@example.com", "wrong").status_code == 200


# Sign-out


def test_sign_out(client):
    make_reader()
    sign_in(client, "reader@example.com")
    assert client.post("/account/sign-out/").status_code == 302
    assert not is_signed_in(client)


def test_sign_out_everywhere_ends_every_other_session():
    make_reader()
    laptop, phone = Client(), Client()
    sign_in(laptop, "reader@example.com")
    sign_in(phone, "reader@example.com")
    assert is_signed_in(phone)
    assert laptop.post("/account/sign-out/everywhere/").status_code == 302
    assert not is_signed_in(phone)
    assert not is_signed_in(laptop)
    assert sign_in(phone, "reader@example.com").status_code == 302  # the password still works
    assert is_signed_in(phone)


def test_sign_out_everywhere_needs_a_post(client):
    make_reader()
    sign_in(client, "reader@example.com")
    assert client.get("/account/sign-out/everywhere/").status_code == 405
    assert is_signed_in(client)


def test_posts_need_a_csrf_token():
    make_reader()
    strict = Client(enforce_csrf_checks=True)
    assert sign_in(strict, "reader@example.com").status_code == 403
    assert strict.post("/account/sign-in/link/", {"email": "a@example.com"}).status_code == 403


# Password reset


def test_password_reset_answers_the_same_for_unknown_addresses():
    make_reader("known@example.com")
    known = Client().post("/account/password/reset/", {"email": "known@example.com"})
    unknown = Client().post("/account/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/account/password/reset/sent/"
    assert len(mail.outbox) == 1


def test_password_reset_sets_a_new_password(client):
    make_reader("known@example.com")
    client.post("/account/password/reset/", {"email": "known@example.com"})
    message = mail.outbox[0]
    assert message.subject == f"Reset your {settings.MASTHEAD_SITE_NAME} password"
    path = link_in(message, "password/reset/[^/]+")
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    new = "another-long-password"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done.status_code == 302
    assert sign_in(Client(), "known@example.com", new).status_code == 302


# Change of e-mail


def test_change_email_switches_only_when_the_new_address_is_verified(client):
    user = make_reader("old@example.com")
    sign_in(client, "old@example.com")
    # A wrong password sends nothing.
    wrong = client.post("/account/email/", {"email": "new@example.com", "password": "nope"})
    assert wrong.status_code == 200 and not mail.outbox
    # given
    response = client.post("/account/email/", {"email": "New@example.com", "password": PASSWORD})
    # then
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email == "old@example.com"
    assert mail.outbox[0].to == ["new@example.com"]
    # when the link is only fetched (a mail scanner), nothing changes
    assert Client().get(link_in(mail.outbox[0], "verify")).status_code == 200
    user.refresh_from_db()
    assert user.email == "old@example.com"
    # when it is confirmed
    assert confirm(Client(), link_in(mail.outbox[0], "verify")).status_code == 200
    # then
    user.refresh_from_db()
    assert user.email == "new@example.com" and user.email_verified
    assert sign_in(Client(), "new@example.com").status_code == 302
    # The old link is stale once the address has changed.
    assert Client().get(link_in(mail.outbox[0], "verify")).status_code == 400
    assert Client().post(link_in(mail.outbox[0], "verify")).status_code == 400


def test_change_email_to_an_address_in_use_answers_the_same_and_sends_nothing(client):
    make_reader("mine@example.com")
    make_reader("theirs@example.com")
    sign_in(client, "mine@example.com")
    taken = client.post("/account/email/", {"email": "theirs@example.com", "password": PASSWORD})
    free = client.post("/account/email/", {"email": "free@example.com", "password": PASSWORD})
    assert taken.status_code == free.status_code == 200
    assert page(taken) == page(free)
    assert [m.to for m in mail.outbox] == [["free@example.com"]]


def test_account_pages_need_sign_in(client):
    response = client.get("/account/email/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/sign-in/?next=")


def test_the_sign_in_page_names_the_publication_not_the_host(db, client, settings):
    response = client.get("/account/sign-in/", HTTP_HOST="127.0.0.1:8000")
    html = response.content.decode()
    assert response.status_code == 200
    assert settings.MASTHEAD_SITE_NAME in html.split("<title>")[1].split("</title>")[0]
    assert "127.0.0.1:8000" not in html
