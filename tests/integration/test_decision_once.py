"""One decision per channel and request, passed explicitly: no answer depends on which
caller asked first (issue 20, item 10)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory

from masthead.access.context import ReaderContext
from masthead.access.gate import article_decision

pytestmark = pytest.mark.django_db


def anonymous_reader():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    return ReaderContext(request)


def test_the_identity_follows_a_sign_in_and_a_sign_out_within_the_request(django_user_model):
    # given a request's identity, asked about its anonymous reader
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    identity = ReaderContext(request).identity
    assert not identity.signed_in
    # when the request signs a reader in (login() puts the account on the request)
    request.user = django_user_model(email="reader@example.com")
    # then the identity is that account's, and again anonymous after a sign-out
    assert identity.signed_in
    request.user = AnonymousUser()
    assert not identity.signed_in


def test_the_page_asking_first_does_not_open_the_api_to_an_anonymous_app(site):
    reader = anonymous_reader()
    page_decision = article_decision(reader, site["lead"])
    api_decision = article_decision(reader, site["lead"], meter_anonymous=False)
    assert page_decision.full
    assert not api_decision.full


def test_the_api_asking_first_does_not_close_the_page_to_a_new_reader(site):
    reader = anonymous_reader()
    api_decision = article_decision(reader, site["lead"], meter_anonymous=False)
    page_decision = article_decision(reader, site["lead"])
    assert not api_decision.full
    assert page_decision.full


def test_the_api_hands_its_decision_to_the_body_it_sends(site):
    response = Client().get(f"/api/v1/articles/{site['lead'].pk}")
    data = response.json()
    assert data["decision"]["full"] is False
    assert not any("Paragraph 10 text." in piece["html"] for piece in data["body"])
    assert any("Paragraph 1 text." in piece["html"] for piece in data["body"])
