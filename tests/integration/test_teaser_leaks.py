"""Teasers never give the whole story away, in any representation: a story pasted as one
rich-text block, a story in two blocks and a story of only images are cut inside the rich
text, for an anonymous reader whose allowance is used up and for a subscribers-only story;
a subscriber still gets every word."""

import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone
from wagtail.models import Site
from wagtail.rich_text import RichText

from masthead.access.models import MeterSettings
from masthead.api import tokens
from masthead.subscriptions import actions
from tests.factories import make_article, make_image
from tests.integration.subscription_factories import make_plan, make_reader

pytestmark = pytest.mark.django_db

SECRET = "The minister resigned at dawn"  # only in the paywalled part of every story below
SECRET_CAPTION = "Flooded archive photographed by night"


def paragraphs(first, last, *, secret_from):
    return "".join(
        f"<p>Story paragraph {n}.{f' {SECRET}, said paragraph {n}.' if n >= secret_from else ''}"
        "</p>"
        for n in range(first, last + 1)
    )


def one_block():
    """What an editor gets by pasting a story from a word processor."""
    return [("paragraph", RichText(paragraphs(1, 8, secret_from=7)))]


def two_blocks():
    return [
        ("paragraph", RichText(paragraphs(1, 6, secret_from=5))),
        ("paragraph", RichText(paragraphs(7, 8, secret_from=7))),
    ]


def only_images():
    image = make_image("Archive")
    return [
        ("image", {"image": image, "alt_text": "", "caption": SECRET_CAPTION, "credit": ""}),
        ("image", {"image": image, "alt_text": "", "caption": "Second", "credit": ""}),
    ]


BODIES = {"one block": one_block, "two blocks": two_blocks, "only images": only_images}


@pytest.fixture
def meter(site):
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = 1
    config.teaser_paragraphs = 2
    config.save()
    return config


@pytest.fixture(params=BODIES)
def story(request, site, meter):
    """(name, metered article, subscribers-only article) with that body."""
    body = BODIES[request.param]
    metered = make_article(site["world"], f"Metered {request.param}", body=body())
    exclusive = make_article(
        site["world"], f"Exclusive {request.param}", body=body(), access="subscribers"
    )
    return request.param, metered, exclusive


def channels(client, page, **api_headers) -> dict[str, str]:
    """Every representation of the article this client receives."""
    html = client.get(page.url)
    printed = client.get(page.url + "print/")
    api = client.get(f"/api/v1/articles/{page.pk}", **api_headers)
    assert (html.status_code, printed.status_code, api.status_code) == (200, 200, 200)
    soup = BeautifulSoup(html.content, "html.parser")
    json_ld = soup.select_one('script[type="application/ld+json"]').string
    return {
        "html": html.content.decode(),
        "print": printed.content.decode(),
        "api": json.dumps(api.json(), ensure_ascii=False),
        "json-ld": json_ld,
    }


def exhausted_reader(site) -> Client:
    """An anonymous reader who has read the one free article of the month."""
    client = Client()
    assert client.get(site["earlier"].url).status_code == 200
    return client


def assert_teaser_only(name, received):
    for channel, text in received.items():
        assert SECRET not in text, (name, channel)
        assert SECRET_CAPTION not in text, (name, channel)
        assert "Story paragraph 3." not in text, (name, channel)
    for channel in ("html", "print", "api"):
        # 8 paragraphs, 2 configured: the teaser is the first two; no paragraphs: nothing
        if name != "only images":
            assert "Story paragraph 1." in received[channel], (name, channel)
            assert "Story paragraph 2." in received[channel], (name, channel)


def test_a_reader_whose_allowance_is_used_up_receives_only_the_teaser(story, site):
    # given
    name, metered, _ = story
    client = exhausted_reader(site)
    # when
    received = channels(client, metered)
    # then
    assert "You have read all your free articles" in received["html"]
    assert_teaser_only(name, received)


def test_an_anonymous_reader_of_a_subscribers_only_story_receives_only_the_teaser(story):
    # given
    name, _, exclusive = story
    # when
    received = channels(Client(), exclusive)
    # then
    assert "This article is for subscribers" in received["html"]
    assert_teaser_only(name, received)


def test_the_dateline_still_leads_the_first_paragraph_of_the_teaser(site, meter):
    article = make_article(site["world"], "Pasted", body=one_block(), access="subscribers")
    html = Client().get(article.url).content.decode()
    assert '<p><span class="dateline">SEOUL --</span> Story paragraph 1.</p>' in html


def test_a_subscriber_receives_every_word(story):
    # given
    name, metered, exclusive = story
    reader = make_reader()
    now = timezone.now()
    actions.start(user=reader, plan=make_plan(), period_end=now + timedelta(days=30), now=now)
    client = Client()
    client.force_login(reader)
    token = tokens.issue(user=reader, name="test", now=now).token
    for article in (metered, exclusive):
        # when
        received = channels(client, article, HTTP_AUTHORIZATION=f"Bearer {token}")
        # then
        for channel in ("html", "print", "api"):
            text = received[channel]
            if name == "only images":
                assert SECRET_CAPTION in text and "Second" in text, (name, channel)
            else:
                for n in range(1, 9):
                    assert f"Story paragraph {n}." in text, (name, channel, n)
                assert SECRET in text, (name, channel)
