"""The CSRF cookie is sent when the browser needs a new one, not again on every page that
carries the token it holds (masthead.core.middleware.HeldCsrfCookieMiddleware)."""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.integration.subscription_factories import make_reader

pytestmark = pytest.mark.django_db

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_a_page_with_the_token_sends_the_cookie_only_to_a_browser_without_one(site):
    # given a signed-in reader whose browser holds no CSRF cookie yet
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_reader())
    # when they open an article (its header holds a sign-out form with the token)
    first = client.get(site["sponsored"].url)
    # then the page sets the cookie
    assert settings.CSRF_COOKIE_NAME in first.cookies
    # and the next page, which carries the token of the cookie the browser now sends, does
    # not send that cookie again, and still varies on cookies
    second = client.get(site["sponsored"].url)
    assert second.status_code == 200
    assert _TOKEN.search(second.content.decode())
    assert settings.CSRF_COOKIE_NAME not in second.cookies
    assert "Cookie" in second["Vary"]


def test_the_token_of_a_page_that_sent_no_cookie_still_signs_the_reader_out(site):
    # given a signed-in reader on their second page, which set no CSRF cookie
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_reader())
    client.get(site["sponsored"].url)
    page = client.get(site["sponsored"].url)
    assert settings.CSRF_COOKIE_NAME not in page.cookies
    token = _TOKEN.search(page.content.decode()).group(1)
    # when they press Sign out on it
    response = client.post("/account/sign-out/", {"csrfmiddlewaretoken": token})
    # then the form is accepted and they are signed out
    assert response.status_code == 302
    assert client.get("/account/").status_code == 302


def test_signing_in_still_gives_the_browser_a_new_csrf_secret(site):
    # given a reader whose browser holds a CSRF cookie from the sign-in page
    reader = make_reader()
    reader.email_verified = True
    reader.save()
    client = Client()
    client.get("/account/sign-in/")
    before = client.cookies[settings.CSRF_COOKIE_NAME].value
    # when they sign in (rotate_token)
    response = client.post(
        "/account/sign-in/", {"username": reader.email, "password": "a long test password"}
    )
    # then the response sends a new secret
    assert response.status_code == 302
    assert response.cookies[settings.CSRF_COOKIE_NAME].value != before
