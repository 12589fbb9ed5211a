"""One-time sign-in links, and the meter carried over by every way of signing in."""

import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone
from wagtail.models import Site

from masthead.access.models import MeterSettings
from masthead.readers.models import SignInLink
from tests.factories import make_article

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture
def reader():
    return get_user_model().objects.create_user(
        username="reader", email="reader@example.com", password=PASSWORD, email_verified=True
    )


def request_link(client, email="reader@example.com", **extra):
    return client.post("/account/sign-in/link/", {"email": email, **extra})


def link_path():
    found = re.search(r"http://testserver(/account/sign-in/link/[^\s\"]+/)", mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return found.group(1)


def is_signed_in(client):
    return client.get("/account/").status_code == 200


def test_link_request_answers_the_same_for_known_and_unknown_addresses(reader):
    known = request_link(Client(), "reader@example.com")
    unknown = request_link(Client(), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert CSRF.sub("", known.content.decode()) == CSRF.sub("", unknown.content.decode())
    assert "If an account exists for that address, we have sent a link" in known.content.decode()
    assert [m.to for m in mail.outbox] == [["reader@example.com"]]


def test_link_email_says_how_long_it_lasts_and_has_both_parts(reader, client):
    request_link(client)
    message = mail.outbox[0]
    assert message.subject.startswith("Your sign-in link for ")
    assert "{" not in message.subject + message.body
    assert "10 minutes" in message.body
    assert link_path() in message.alternatives[0][0]


def test_opening_the_link_shows_a_confirm_page_and_signs_nobody_in(reader, client):
    request_link(client)
    opened = client.get(link_path())
    assert opened.status_code == 200
    assert '<form method="post"' in opened.content.decode()
    assert not is_signed_in(client)
    assert SignInLink.objects.get().used_at is None


def test_posting_the_confirm_page_signs_in_once(reader, client):
    request_link(client)
    path = link_path()
    client.get(path)  # a mail scanner, or the reader, opening it
    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == "/"
    assert is_signed_in(client)
    again = Client()
    assert again.post(path).status_code == 400
    assert again.get(path).status_code == 400
    assert not is_signed_in(again)


def test_an_expired_link_fails(reader, client, time_machine):
    request_link(client)
    path = link_path()
    time_machine.move_to(timezone.now() + timedelta(minutes=10, seconds=1), tick=False)
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert not is_signed_in(client)


def test_a_link_still_works_just_inside_its_lifetime(reader, client, time_machine):
    request_link(client)
    path = link_path()
    time_machine.move_to(timezone.now() + timedelta(minutes=9, seconds=50), tick=False)
    assert client.post(path).status_code == 302


def test_a_tampered_link_fails(reader, client):
    request_link(client)
    path = link_path()
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = path.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert client.post(forged).status_code == 400
    assert client.post("/account/sign-in/link/not-a-token/").status_code == 400
    assert not is_signed_in(client)


def test_the_link_returns_to_the_page_asked_for_but_never_off_site(reader, client):
    request_link(client, next="/world/a-story/")
    assert client.post(link_path())["Location"] == "/world/a-story/"
    other = Client()
    request_link(other, next="https://evil.example/")
    assert other.post(link_path())["Location"] == "/"


def test_signing_in_by_link_verifies_the_address(client):
    user = get_user_model().objects.create_user(
        username="new", email="new@example.com", password=PASSWORD
    )
    request_link(client, "new@example.com")
    client.post(link_path())
    user.refresh_from_db()
    assert user.email_verified


# The meter carried over


@pytest.fixture
def metered(site):
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = 3
    config.registered_allowance = 6
    config.save()
    return [
        make_article(site["world"], f"Metered story {n}", prefix=f"M{n}", days_ago=n)
        for n in range(1, 4)
    ]


def notice(client, page):
    response = client.get(page.url)
    assert response.status_code == 200
    found = BeautifulSoup(response.content, "html.parser").select_one(".meter-notice")
    return " ".join(found.get_text().split()) if found else None


def test_an_article_read_before_password_sign_in_counts_as_read(metered, reader, client):
    assert notice(client, metered[0]).startswith("You have 2 free articles left")
    response = client.post(
        "/account/sign-in/", {"username": "reader@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert notice(client, metered[0]) is None  # already counted: not counted again
    assert notice(client, metered[1]) is not None  # a new one is counted


def test_an_article_read_before_link_sign_in_counts_as_read(metered, reader, client):
    assert notice(client, metered[0]).startswith("You have 2 free articles left")
    request_link(client)
    client.get(link_path())
    assert not is_signed_in(client)
    assert client.post(link_path()).status_code == 302
    assert is_signed_in(client)
    assert notice(client, metered[0]) is None
    assert notice(client, metered[1]) is not None
