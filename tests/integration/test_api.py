"""The app API: tokens, and articles under the same access decision as the web page."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from masthead.access import gate
from masthead.access.context import ReaderContext
from masthead.api.models import ApiToken
from masthead.subscriptions import actions
from tests.factories import make_article
from tests.integration.subscription_factories import make_plan, make_reader

pytestmark = pytest.mark.django_db

PASSWORD = "a long test password"  # subscription_factories.make_reader's
TOKEN_URL = "/api/v1/token"


def post_json(client, data, **headers):
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(TOKEN_URL, body, content_type="application/json", **headers)


def issue_token(client, reader):
    response = post_json(client, {"email": reader.email, "password": PASSWORD})
    assert response.status_code == 201
    return response.json()["token"]


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def get_article(client, page, **headers):
    return client.get(f"/api/v1/articles/{page.pk}", **headers)


@pytest.fixture
def reader(db):
    """A reader who confirmed the address (an unconfirmed account has no password sign-in)."""
    found = make_reader()
    found.email_verified = True
    found.save(update_fields=["email_verified"])
    return found


@pytest.fixture
def articles(site):
    world = site["world"]
    return {
        "free": make_article(world, "Free story", access="free"),
        "metered": site["lead"],
        "subscribers": make_article(world, "Exclusive story", access="subscribers"),
    }


def test_a_reader_exchanges_email_and_password_for_a_token(client, reader):
    # when
    response = post_json(client, {"email": reader.email.upper(), "password": PASSWORD})
    # then
    assert response.status_code == 201
    data = response.json()
    assert len(data["token"]) == 43
    assert "no-store" in response["Cache-Control"]
    stored = ApiToken.objects.get(user=reader)
    assert stored.token_hash != data["token"] and data["token"] not in stored.token_hash
    assert stored.expires_at.isoformat() == data["expires_at"]
    assert "sessionid" not in response.cookies  # no django.contrib.auth.login()


def test_a_wrong_password_and_an_unknown_address_get_the_same_401(client, reader):
    wrong = post_json(client, {"email": reader.email, "password": "not it"})
    unknown = post_json(client, {"email": "nobody@example.com", "password": "not it"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content
    assert not ApiToken.objects.exists()


@override_settings(MASTHEAD_SIGN_IN_LIMIT_ACCOUNT_NETWORK=(2, 900))
def test_token_requests_are_rate_limited_per_account_and_network(client, reader):
    for _ in range(2):
        assert post_json(client, {"email": reader.email, "password": "x"}).status_code == 401
    # then: from this network even the right password waits, and is told how long
    response = post_json(client, {"email": reader.email, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= 900
    # but from another network the owner signs in
    elsewhere = post_json(
        Client(REMOTE_ADDR="10.9.9.9"), {"email": reader.email, "password": PASSWORD}
    )
    assert elsewhere.status_code == 201


def test_an_unconfirmed_account_gets_no_token_for_its_password(client):
    unconfirmed = make_reader()
    response = post_json(client, {"email": unconfirmed.email, "password": PASSWORD})
    assert response.status_code == 401
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        b"\xff\xfe",
        "[]",
        '"a string"',
        "{}",
        '{"email": "a@example.com"}',
        '{"email": 1, "password": "x"}',
        '{"email": "a@example.com", "password": "x", "name": 5}',
        json.dumps({"email": "a@example.com", "password": "x", "name": "n" * 101}),
        '{"link_token": 5}',
        '{"link_token": null}',
        json.dumps({"link_token": "x" * 43}),  # no nonce
        json.dumps({"link_token": "x" * 43, "nonce": "short"}),
        json.dumps({"code": 123456, "nonce": "n" * 43}),
        json.dumps({"code": "123456", "link_token": "x" * 43, "nonce": "n" * 43}),
    ],
)
def test_a_body_that_is_not_credentials_gets_400(client, body):
    response = post_json(client, body)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


def test_a_revoked_token_no_longer_works(client, reader, articles):
    token = issue_token(client, reader)
    assert get_article(client, articles["free"], **bearer(token)).status_code == 200
    # when
    response = client.delete(TOKEN_URL, **bearer(token))
    # then
    assert response.status_code == 204
    assert ApiToken.objects.get().revoked_at is not None
    assert get_article(client, articles["free"], **bearer(token)).status_code == 401
    assert client.delete(TOKEN_URL, **bearer(token)).status_code == 401


def test_signing_out_everywhere_revokes_the_apps_tokens_too(client, reader, articles):
    # given a token, and a browser session of the same reader
    token = issue_token(client, reader)
    browser = Client()
    browser.force_login(reader)
    # when the reader signs out everywhere
    assert browser.post("/account/sign-out/everywhere/").status_code == 302
    # then the app's token is dead, and a new one works
    assert get_article(client, articles["free"], **bearer(token)).status_code == 401
    fresh = issue_token(client, reader)
    assert get_article(client, articles["free"], **bearer(fresh)).status_code == 200


NONCE = "an-apps-own-nonce-of-43-characters-0123456"


def link_token_from(message) -> str:
    found = re.search(r"/account/sign-in/link/([A-Za-z0-9_-]+)/", message.body)
    assert found, message.body
    return found.group(1)


def ask_for_link(client, email, nonce=NONCE):
    return client.post(
        "/api/v1/sign-in-link",
        json.dumps({"email": email, "nonce": nonce}),
        content_type="application/json",
    )


def test_an_app_signs_in_by_link_and_trades_the_link_for_a_token(client, reader, articles):
    # given: the app asks for a link, bound to its nonce
    response = ask_for_link(client, reader.email)
    assert response.status_code == 202
    link = link_token_from(mail.outbox[-1])
    # when it trades the link (opened as a universal link) for a token
    traded = post_json(client, {"link_token": link, "nonce": NONCE, "name": "Phone"})
    # then
    assert traded.status_code == 201
    token = traded.json()["token"]
    assert ApiToken.objects.get().name == "Phone"
    assert get_article(client, articles["free"], **bearer(token)).status_code == 200
    # The link works once, here as on the web.
    assert post_json(client, {"link_token": link, "nonce": NONCE}).status_code == 401
    assert client.post(f"/account/sign-in/link/{link}/").status_code == 400


def test_link_requests_answer_the_same_for_unknown_addresses(client, reader):
    known = ask_for_link(client, reader.email)
    unknown = ask_for_link(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [m.to for m in mail.outbox] == [[reader.email]]


def test_a_link_request_without_a_nonce_gets_400(client, reader):
    response = client.post(
        "/api/v1/sign-in-link", json.dumps({"email": reader.email}), content_type="application/json"
    )
    assert response.status_code == 400
    assert not mail.outbox


def test_an_unknown_link_token_gets_401(client):
    response = post_json(client, {"link_token": "x" * 43, "nonce": NONCE})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_credentials"


def test_revoking_needs_a_token(client):
    response = client.delete(TOKEN_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_gets_401(client, reader, articles):
    token = issue_token(client, reader)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = get_article(client, articles["free"], **bearer(token))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer a b",
        "Bearer " + "x" * 43 + "!",
        "Bearer " + "x" * 43,  # well formed, unknown
        "Bearer \u00e9\u00e9",
        "Bearer " + "a" * 10_000,
    ],
)
def test_malformed_authorization_headers_get_401_not_500(client, articles, header):
    response = get_article(client, articles["free"], HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert client.delete(TOKEN_URL, HTTP_AUTHORIZATION=header).status_code == 401


def test_an_anonymous_app_reads_a_free_article_in_full(client, articles):
    response = get_article(client, articles["free"])
    assert response.status_code == 200
    data = response.json()
    assert data["decision"] == {
        "full": True,
        "reason": "free",
        "message": "none",
        "remaining": None,
    }
    assert "Paragraph 10 text." in data["body"][-1]["html"]
    assert data["headline"] == "Free story"
    assert data["url"] == "http://testserver/world/free-story/"
    assert response["Cache-Control"] == "private"
    assert set(response["Vary"].split(", ")) >= {"Authorization", "Cookie"}


@pytest.mark.parametrize(
    ("kind", "reason"), [("metered", "exhausted"), ("subscribers", "subscribers_only")]
)
def test_an_anonymous_app_gets_only_the_teaser(client, articles, kind, reason):
    # given: a reader cookie from the web site changes nothing
    client.get(articles["metered"].url)
    # when
    response = get_article(client, articles[kind])
    # then
    assert response.status_code == 200
    data = response.json()
    assert data["decision"]["full"] is False
    assert data["decision"]["reason"] == reason
    assert "Paragraph 1 text." in response.content.decode()
    for n in range(3, 11):
        assert f"Paragraph {n} text." not in response.content.decode()
    assert [piece["type"] for piece in data["body"]] == ["paragraph", "paragraph"]
    assert not response.cookies  # no anonymous meter id handed out


def test_the_article_json_describes_the_story(client, site):
    response = get_article(client, site["sponsored"])
    data = response.json()
    assert data["sponsor"] == {
        "name": "Acme Shipping",
        "disclosure": "This content was commissioned by Acme Shipping.",
    }
    assert data["authors"] == [
        {"name": "Ada Reporter", "url": "http://testserver/authors/ada-reporter/"}
    ]
    lead = get_article(client, site["lead"]).json()
    assert lead["kicker"] == "Southern Compass"
    assert lead["decks"] == [
        "The deck of Seoul and Jakarta sign pact",
        "Beijing warns of bloc politics",
    ]
    assert lead["access"] == "metered"


def test_a_signed_in_app_reads_metered_articles_on_the_readers_meter(client, reader, articles):
    token = issue_token(client, reader)
    response = get_article(client, articles["metered"], **bearer(token))
    data = response.json()
    assert data["decision"]["full"] is True
    assert data["decision"]["reason"] == "metered"
    assert "Paragraph 10 text." in response.content.decode()
    again = get_article(client, articles["metered"], **bearer(token)).json()
    assert again["decision"]["reason"] == "already_counted"
    assert again["decision"]["remaining"] == data["decision"]["remaining"]
    assert ApiToken.objects.get().last_used is not None


def test_a_subscriber_reads_subscribers_only_articles_in_full(client, reader, articles):
    # given
    now = timezone.now()
    actions.start(user=reader, plan=make_plan(), period_end=now + timedelta(days=30), now=now)
    token = issue_token(client, reader)
    # when
    response = get_article(client, articles["subscribers"], **bearer(token))
    # then
    data = response.json()
    assert data["decision"]["full"] is True and data["decision"]["reason"] == "entitled"
    assert "Paragraph 10 text." in response.content.decode()


def test_a_reader_without_subscription_gets_the_teaser_of_subscribers_only(
    client, reader, articles
):
    token = issue_token(client, reader)
    response = get_article(client, articles["subscribers"], **bearer(token))
    assert response.json()["decision"]["reason"] == "subscribers_only"
    assert "Paragraph 3 text." not in response.content.decode()


@pytest.mark.parametrize("article_id", ["0", "999999", "abc", "99999999999999999999", "-1", "1.5"])
def test_unknown_ids_get_a_json_404(client, site, article_id):
    response = client.get(f"/api/v1/articles/{article_id}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_an_unpublished_article_is_not_found(client, articles):
    page = articles["free"]
    page.unpublish()
    assert get_article(client, page).status_code == 404


def test_other_methods_get_405(client, articles):
    response = client.post(f"/api/v1/articles/{articles['free'].pk}")
    assert response.status_code == 405
    assert client.get(TOKEN_URL).status_code == 405


def test_the_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.0")


def anonymous_reader():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    return ReaderContext(request)


def test_the_gate_decides_unmetered_anonymous_readers_as_exhausted(articles):
    # given
    reader = anonymous_reader()
    # when
    decision = gate.article_decision(reader, articles["metered"], meter_anonymous=False)
    # then: no meter id issued, nothing counted
    assert (decision.full, decision.reason, decision.remaining) == (False, "exhausted", 0)
    assert reader.identity.issued is False
    web = gate.article_decision(anonymous_reader(), articles["metered"])
    assert web.full is True and web.reason == "metered"
