"""The article page, its print view and the app API show what access.channels answers for
their channel, not what they read off the decision themselves."""

import pytest
from django.test import Client

from masthead.access.channels import Visibility
from masthead.news import models, rendering
from tests.factories import make_article

pytestmark = pytest.mark.django_db

BEYOND_TEASER = "Paragraph 9 text."


@pytest.fixture
def metered(site):
    return make_article(site["world"], "Answered by the channel")


@pytest.fixture
def channels_say_teaser(monkeypatch):
    """Every channel answers TEASER, whatever the reader's decision: the channels module is
    the only place a full text can come from."""
    asked = []

    def teaser_only(channel, access, decision=None):
        asked.append(str(channel))
        return Visibility.TEASER

    monkeypatch.setattr(rendering, "what_may_be_seen", teaser_only)
    monkeypatch.setattr(models, "what_may_be_seen", teaser_only)
    return asked


def test_the_page_and_print_view_follow_the_channels_answer(metered, channels_say_teaser):
    # given a reader whose allowance covers the story (their decision is full text)
    client = Client()
    # when the page and its print view are opened
    page = client.get(metered.url).content.decode()
    printed = client.get(metered.url + "print/").content.decode()
    # then each shows what its channel answered: the teaser, and the paywall with it
    assert channels_say_teaser == ["html", "print"]
    for html in (page, printed):
        assert "Paragraph 1 text." in html and BEYOND_TEASER not in html
    assert 'class="paywall"' in page


def test_the_api_follows_the_channels_answer(metered, channels_say_teaser):
    # given an app reading a free article (every decision is full text)
    free = make_article(metered.get_parent(), "Free for all", access="free")
    # when it asks for the article
    found = Client().get(f"/api/v1/articles/{free.pk}").json()
    # then the flag is what the API channel answered, not the decision's
    assert channels_say_teaser == ["api"]
    assert found["decision"]["full"] is False
