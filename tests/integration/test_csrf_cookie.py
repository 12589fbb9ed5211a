"""Pages a signed-in reader reads carry no CSRF token and set no CSRF cookie: the site
header links to the sign-out page instead of holding a form (readers.views.SignOutView).
Pages with forms carry a token, and signing in still gives the browser a new secret."""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.integration.subscription_factories import make_reader

pytestmark = pytest.mark.django_db

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_the_pages_a_signed_in_reader_reads_carry_no_csrf_token(site):
    # given a signed-in reader whose browser holds no CSRF cookie
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_reader())
    # when they open an article, a section and the front page
    for url in (site["sponsored"].url, site["world"].url, "/"):
        page = client.get(url)
        # then the page shows them signed in, with no token and no CSRF cookie
        assert page.status_code == 200
        assert "account-menu" in page.content.decode(), url
        assert not _TOKEN.search(page.content.decode()), url
        assert settings.CSRF_COOKIE_NAME not in page.cookies, url


def test_the_sign_out_pages_token_signs_the_reader_out(site):
    # given a signed-in reader on the sign-out page, which sets the CSRF cookie
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_reader())
    page = client.get("/account/sign-out/")
    assert settings.CSRF_COOKIE_NAME in page.cookies
    token = _TOKEN.search(page.content.decode()).group(1)
    # when they press Sign out without the token, nothing happens
    assert client.post("/account/sign-out/").status_code == 403
    assert client.get("/account/").status_code == 200
    # and with it they are signed out
    response = client.post("/account/sign-out/", {"csrfmiddlewaretoken": token})
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
