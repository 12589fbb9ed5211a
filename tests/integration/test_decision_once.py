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
