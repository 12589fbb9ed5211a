"""The article header reads in order: labels and kicker, headline, decks, byline and dates,
the share-and-print row, then the lead photo; the meter notice never comes between the
kicker and the headline."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from masthead.news.models import ArticlePage
from tests.factories import make_article

pytestmark = pytest.mark.django_db


def article_of(response):
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").select_one("main article.article")


def classes_in_order(article) -> list[str]:
    wanted = {
        "meter-notice",
        "label--sponsored",
        "label--subscribers",
        "kicker",
        "headline",
        "deck",
        "byline",
        "share",
        "lead-figure",
        "article__body",
    }
    found = []
    for element in article.find_all(True):
        for name in element.get("class") or []:
            if name in wanted and (not found or found[-1] != name):
                found.append(name)
    return found


def test_the_header_reads_kicker_headline_decks_byline_share_then_photo(site):
    # given an anonymous reader with free articles left (so the meter notice shows)
    article = article_of(Client().get(site["lead"].url))
    # then the notice comes first, and the header in the reference's order
    assert classes_in_order(article) == [
        "meter-notice",
        "kicker",
        "headline",
        "deck",
        "byline",
        "share",
        "lead-figure",
        "article__body",
    ]
    header = article.select_one("header.article__header")
    assert header.select_one(".kicker").find_next_sibling() is None  # kicker ends its row
    assert header.select_one(".article__labels").find_next_sibling().name == "h1"


def test_share_and_print_icons_have_accessible_names_and_no_outside_assets(site):
    article = article_of(Client().get(site["lead"].url))
    names = {
        link["class"][1]: link.select_one(".visually-hidden").get_text()
        for link in article.select(".share a")
    }
    assert names == {
        "share__link--facebook": "Share on Facebook",
        "share__link--linkedin": "Share on LinkedIn",
        "share__link--x": "Share on X",
        "share__link--email": "Share by e-mail",
        "share__link--print": "Print",
    }
    for icon in article.select(".share svg"):
        assert icon["aria-hidden"] == "true"
        assert not icon.select("[href], image, use")  # drawn inline, nothing fetched


def test_a_subscribers_only_story_carries_the_subscribers_label_beside_its_kicker(site):
    exclusive = make_article(site["world"], "Exclusive story", access="subscribers")
    exclusive.series = site["series"]
    exclusive.save_revision().publish()
    article = article_of(Client().get(exclusive.url))
    labels = article.select_one(".article__labels")
    assert labels.select_one(".label--subscribers").get_text() == "Subscribers"
    assert labels.select_one(".kicker a").get_text() == "Southern Compass"
    # and a metered story carries none
    assert article_of(Client().get(site["lead"].url)).select_one(".label--subscribers") is None


def test_published_and_updated_are_apart_and_updated_only_when_it_differs(site):
    lead = ArticlePage.objects.get(pk=site["lead"].pk)
    byline = article_of(Client().get(lead.url)).select_one(".byline")
    published = byline.select_one(".byline__published")
    assert published.get_text(" ", strip=True).startswith("Published ")
    assert published.time["datetime"]
    assert byline.select_one(".byline__updated") is None
    # when an editor sets an update time
    lead.updated_at = lead.published_at + timedelta(hours=5)
    lead.save_revision().publish()
    byline = article_of(Client().get(lead.url)).select_one(".byline")
    updated = byline.select_one(".byline__updated")
    # then it is its own element, after the published time
    assert updated.get_text(" ", strip=True).startswith("Updated ")
    assert updated.time["datetime"] != byline.select_one(".byline__published time")["datetime"]
    assert updated.find_previous_sibling(class_="byline__published") is not None
    # and an update time equal to the publication's is not shown twice
    lead.updated_at = lead.published_at
    lead.save_revision().publish()
    byline = article_of(Client().get(lead.url)).select_one(".byline")
    assert byline.select_one(".byline__updated") is None
