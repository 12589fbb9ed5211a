"""Links that can't be turned against a reader: a sign-in link works only in the browser (or
app) that asked for it, for 10 minutes; elsewhere it shows a code for the asking browser.
Confirming an address signs in only the browser that signed up, and whoever signed up with
somebody else's address keeps nothing once the owner confirms it."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from masthead.api.models import ApiToken
from masthead.readers import tokens
from masthead.readers.models import SignInLink

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
NONCE = "an-apps-own-nonce-of-43-characters-0123456"


def make_reader(email="reader@example.com", *, verified=True):
    return get_user_model().objects.create_user(
        username=email.split("@")[0], email=email, password=PASSWORD, email_verified=verified
    )


def request_link(client, email="reader@example.com"):
    response = client.post("/account/sign-in/link/", {"email": email})
    assert response.status_code == 200
    return response


def link_path(message=None):
    message = message or mail.outbox[-1]
    found = re.search(r"http://testserver(/account/sign-in/link/[^\s\"]+/)", message.body)
    assert found, message.body
    return found.group(1)


def verify_path(message):
    found = re.search(r"http://testserver(/account/verify/[^\s\"?]+/)", message.body)
    assert found, message.body
    return found.group(1)


def shown_code(response) -> str:
    found = re.search(
        r'class="sign-in-code"[^>]*><strong>(\d{6})</strong>', response.content.decode()
    )
    assert found, response.content.decode()
    return found.group(1)


def is_signed_in(client):
    return client.get("/account/").status_code == 200


def enter_code(client, code):
    return client.post("/account/sign-in/link/code/", {"code": code})


def sign_in(client, email, password=PASSWORD):
    return client.post("/account/sign-in/", {"username": email, "password": password})


def reset_password(client, email, new="another-long-password") -> str:
    """Ask for the reset link in `client`, follow it and set `new`; returns `new`."""
    client.post("/account/password/reset/", {"email": email})
    found = re.search(r"http://testserver(/account/password/reset/\S+/\S+/)", mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    form = client.get(found.group(1), follow=True)
    client.post(form.request["PATH_INFO"], {"new_password1": new, "new_password2": new})
    return new


def sign_up(client, email="new@example.com"):
    response = client.post("/account/sign-up/", {"email": email, "password": PASSWORD})
    assert response.status_code == 200
    return mail.outbox[-1]


# Bound to the browser that asked


def test_a_link_opened_in_another_browser_signs_nothing_in_and_shows_a_code():
    make_reader()
    asking, other = Client(), Client()
    request_link(asking)
    path = link_path()
    # when the link is opened, and its page posted, in another browser
    opened = other.get(path)
    posted = other.post(path)
    # then: a code to take back to the browser that asked, and nobody signed in
    assert opened.status_code == 200
    assert re.fullmatch(r"\d{6}", shown_code(opened))
    assert "Sign me in" not in opened.content.decode()
    assert posted.status_code == 403
    assert not is_signed_in(other)
    assert SignInLink.objects.get().used_at is None


def test_a_link_somebody_sent_does_not_sign_the_victim_into_their_account():
    # given an attacker who asks for a link to the attacker's own account
    make_reader("attacker@example.com")
    attacker, victim = Client(), Client()
    request_link(attacker, "attacker@example.com")
    path = link_path()
    # when the victim presses the link's button
    victim.get(path)
    response = victim.post(path)
    # then the victim's browser is signed into nothing
    assert response.status_code == 403
    assert not is_signed_in(victim)


def test_the_code_typed_into_the_asking_browser_signs_it_in():
    reader = make_reader()
    asking, phone = Client(), Client()
    request_link(asking)
    code = shown_code(phone.get(link_path()))
    # when
    response = enter_code(asking, code)
    # then
    assert response.status_code == 302 and response["Location"] == "/"
    assert is_signed_in(asking) and not is_signed_in(phone)
    assert SignInLink.objects.get(user=reader).used_at is not None
    assert enter_code(asking, code).status_code == 400  # once


def test_a_code_typed_into_another_browser_signs_nothing_in():
    make_reader()
    asking, stranger = Client(), Client()
    request_link(asking)
    code = shown_code(Client().get(link_path()))
    request_link(stranger, "someone@example.com")  # a nonce of its own, for another address
    assert enter_code(stranger, code).status_code == 400
    assert enter_code(Client(), code).status_code == 400
    assert not is_signed_in(stranger)


def test_a_few_wrong_codes_spend_the_link():
    make_reader()
    asking = Client()
    request_link(asking)
    path = link_path()
    code = shown_code(Client().get(path))
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(SignInLink.MAX_CODE_ATTEMPTS):
        assert enter_code(asking, wrong).status_code == 400
    # then neither the right code nor the link's own button works any more
    assert enter_code(asking, code).status_code == 400
    assert asking.post(path).status_code == 400
    assert not is_signed_in(asking)


def test_the_right_code_on_the_last_try_still_works():
    make_reader()
    asking = Client()
    request_link(asking)
    code = shown_code(Client().get(link_path()))
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(SignInLink.MAX_CODE_ATTEMPTS - 1):
        enter_code(asking, wrong)
    assert enter_code(asking, code).status_code == 302


def test_a_forged_nonce_cookie_is_no_nonce(client):
    make_reader()
    request_link(client)
    path = link_path()
    client.cookies[tokens.LINK_NONCE_COOKIE] = "forged"
    assert client.post(path).status_code == 403
    assert not is_signed_in(client)


def test_a_link_lasts_ten_minutes(client, time_machine):
    make_reader()
    request_link(client)
    path = link_path()
    assert "10 minutes" in mail.outbox[-1].body
    time_machine.move_to(timezone.now() + timedelta(minutes=10, seconds=1), tick=False)
    assert client.post(path).status_code == 400
    assert not is_signed_in(client)


def test_every_link_asked_for_in_one_browser_works_there():
    make_reader()
    make_reader("second@example.com")
    browser = Client()
    request_link(browser)
    first = link_path()
    request_link(browser, "second@example.com")
    assert browser.post(first).status_code == 302


def test_the_page_after_asking_looks_the_same_for_known_and_unknown_addresses():
    make_reader()
    known = request_link(Client())
    unknown = request_link(Client(), "nobody@example.com")
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    assert csrf.sub("", known.content.decode()) == csrf.sub("", unknown.content.decode())
    assert tokens.LINK_NONCE_COOKIE in known.cookies and tokens.LINK_NONCE_COOKIE in unknown.cookies


# The app binds its links to its own nonce


def api_post(client, path, data):
    return client.post(f"/api/v1/{path}", json.dumps(data), content_type="application/json")


def test_an_apps_link_is_traded_only_with_the_apps_nonce(client):
    reader = make_reader()
    assert (
        api_post(client, "sign-in-link", {"email": reader.email, "nonce": NONCE}).status_code == 202
    )
    token = link_path().rstrip("/").rsplit("/", 1)[1]
    other = NONCE.replace("a", "b")
    assert api_post(client, "token", {"link_token": token, "nonce": other}).status_code == 401
    assert Client().post(link_path()).status_code == 403  # nor in a browser
    assert api_post(client, "token", {"link_token": token, "nonce": NONCE}).status_code == 201


def test_an_apps_link_opened_in_a_browser_gives_a_code_for_the_app(client):
    reader = make_reader()
    api_post(client, "sign-in-link", {"email": reader.email, "nonce": NONCE})
    code = shown_code(Client().get(link_path()))
    assert api_post(client, "token", {"code": code, "nonce": NONCE.upper()}).status_code == 401
    traded = api_post(client, "token", {"code": code, "nonce": NONCE})
    assert traded.status_code == 201
    assert ApiToken.objects.get().user == reader


# Confirming an address, and account squatting


def test_an_unconfirmed_account_cannot_sign_in_with_its_password(client):
    make_reader(verified=False)
    response = sign_in(client, "reader@example.com")
    assert response.status_code == 200
    assert not is_signed_in(client)


def test_confirming_in_the_browser_that_signed_up_keeps_the_password_and_signs_in(client):
    message = sign_up(client)
    path = verify_path(message)
    client.get(path)
    assert client.post(path).status_code == 200
    assert is_signed_in(client)
    user = get_user_model().objects.get(email="new@example.com")
    assert user.email_verified and user.check_password(PASSWORD)


def test_confirming_from_another_browser_signs_nobody_in_and_drops_the_sign_up_password():
    # given someone signs up with an address in one browser
    squatter = Client()
    path = verify_path(sign_up(squatter))
    user = get_user_model().objects.get(email="new@example.com")
    salt = user.session_key_salt
    # when the address's owner confirms it in their own browser
    owner = Client()
    owner.get(path)
    response = owner.post(path, {"next": "/account/"})
    # then: confirmed, nobody signed in, sessions ended, the sign-up password gone
    assert response.status_code == 200
    assert "set a password" in response.content.decode().lower()
    assert not is_signed_in(owner)
    user.refresh_from_db()
    assert user.email_verified
    assert not user.has_usable_password()
    assert user.session_key_salt != salt
    assert sign_in(squatter, "new@example.com").status_code == 200
    assert not is_signed_in(squatter)


def test_a_squatters_password_does_not_survive_the_owner_signing_in_by_link():
    # given someone signed up with the owner's address, and the owner asks for a link
    squatter = Client()
    sign_up(squatter)
    owner = Client()
    request_link(owner, "new@example.com")
    # when the owner uses it
    assert owner.post(link_path()).status_code == 302
    # then the owner is in, and the squatter's password opens nothing
    assert is_signed_in(owner)
    user = get_user_model().objects.get(email="new@example.com")
    assert user.email_verified and not user.has_usable_password()
    assert sign_in(squatter, "new@example.com").status_code == 200
    assert not is_signed_in(squatter)


def test_the_owner_sets_a_password_after_the_sign_up_one_was_dropped():
    squatter = Client()
    path = verify_path(sign_up(squatter))
    Client().post(path)
    # when the owner asks to set a password
    owner = Client()
    new = reset_password(owner, "new@example.com")
    # then the new password signs in
    assert sign_in(owner, "new@example.com", new).status_code == 302


def test_a_password_reset_confirms_the_address_and_its_new_password_works():
    # given an unconfirmed account somebody else signed up for
    squatter = Client()
    sign_up(squatter)
    # when the owner of the address sets a password by the reset link
    owner = Client()
    new = reset_password(owner, "new@example.com")
    # then the address is confirmed, the new password signs in and the old one does not
    user = get_user_model().objects.get(email="new@example.com")
    assert user.email_verified
    assert sign_in(owner, "new@example.com", new).status_code == 302
    assert sign_in(squatter, "new@example.com").status_code == 200
