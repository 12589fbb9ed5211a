"""One decision per channel and request, passed explicitly: no answer depends on which
caller asked first (issue 20, item 10)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory

from masthead.access.gate import article_decision
from masthead.access.readers import ReaderIdentity

pytestmark = pytest.mark.django_db


def anonymous_request():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.reader = ReaderIdentity(request)
    return request


def test_the_page_asking_first_does_not_open_the_api_to_an_anonymous_app(site):
    request = anonymous_request()
    page_decision = article_decision(request, site["lead"])
    api_decision = article_decision(request, site["lead"], meter_anonymous=False)
    assert page_decision.full
    assert not api_decision.full


def test_the_api_asking_first_does_not_close_the_page_to_a_new_reader(site):
    request = anonymous_request()
    api_decision = article_decision(request, site["lead"], meter_anonymous=False)
    page_decision = article_decision(request, site["lead"])
    assert not api_decision.full
    assert page_decision.full


def test_the_api_hands_its_decision_to_the_body_it_sends(site):
    response = Client().get(f"/api/v1/articles/{site['lead'].pk}")
    data = response.json()
    assert data["decision"]["full"] is False
    assert not any("Paragraph 10 text." in piece["html"] for piece in data["body"])
    assert any("Paragraph 1 text." in piece["html"] for piece in data["body"])
