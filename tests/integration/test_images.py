"""Responsive pictures: WebP with a JPEG fallback in several widths, `sizes`, width and
height, lazy loading below the fold and high fetch priority on each page's largest picture;
renditions made ahead by load_demo with the templates' own specs; a missing original file
leaves the picture out instead of failing the page."""

import dataclasses
import logging

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from wagtail.images.models import Rendition

from masthead.demo import loader
from masthead.demo.content import load_catalogue
from masthead.news.images import lead_image_specs
from masthead.news.models import ArticlePage
from tests.factories import make_article, make_image

pytestmark = pytest.mark.django_db

ARTICLE = "/world/seoul-and-jakarta-sign-pact/"


def soup_of(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def widths(srcset: str) -> list[int]:
    return [int(candidate.split()[1].removesuffix("w")) for candidate in srcset.split(", ")]


def assert_webp_and_jpeg_picture(picture, *, min_widths=3):
    """A <picture> with a WebP <source> and a JPEG <img>, each in the same several widths,
    one `sizes`, and the <img>'s width and height (no layout shift)."""
    assert picture is not None and picture.name == "picture"
    (source,) = picture.find_all("source")
    img = picture.img
    assert source["type"] == "image/webp"
    assert all(url.split()[0].endswith(".webp") for url in source["srcset"].split(", "))
    assert img["src"].endswith(".jpg")
    assert all(url.split()[0].endswith(".jpg") for url in img["srcset"].split(", "))
    assert len(widths(img["srcset"])) >= min_widths
    assert widths(source["srcset"]) == widths(img["srcset"])
    assert img["sizes"] and source["sizes"] == img["sizes"]
    assert int(img["width"]) > 0 and int(img["height"]) > 0
    return img


def test_article_lead_image_is_the_pages_priority_picture(site, client):
    figure = soup_of(client, ARTICLE).select_one("main figure.lead-figure")
    img = assert_webp_and_jpeg_picture(figure.picture)
    assert img["fetchpriority"] == "high"
    assert not img.has_attr("loading")
    assert img["alt"] == "A described picture"
    # caption and credit as before
    assert figure.figcaption.select_one(".caption").get_text() == "Two ministers shake hands"
    assert figure.figcaption.select_one(".credit").get_text() == "Source photos by Pool via Agency"


def test_print_view_shows_one_jpeg(site, client):
    figure = soup_of(client, ARTICLE + "print/").select_one("figure.lead-figure")
    assert figure.picture is None
    (img,) = figure.find_all("img")
    assert img["src"].endswith(".jpg")
    assert not img.has_attr("srcset")
    assert img["width"] == "800"


def test_home_lead_is_high_priority_and_later_sections_load_lazily(site, client):
    world_card = make_article(
        site["world"], "Port strike ends", lead_image=make_image("Port"), days_ago=1
    )
    business_card = make_article(
        site["business"], "Chip exports rise", lead_image=make_image("Chips"), days_ago=2
    )
    soup = soup_of(client, "/")

    lead = assert_webp_and_jpeg_picture(soup.select_one(".lead-story .card__image picture"))
    assert lead["fetchpriority"] == "high"
    assert not lead.has_attr("loading")

    def card_img(article):
        link = soup.select_one(f'.home-section .card__image[href="{article.url}"]')
        return assert_webp_and_jpeg_picture(link.picture)

    first_section, later_section = card_img(world_card), card_img(business_card)
    assert not first_section.has_attr("loading")
    assert later_section["loading"] == "lazy"
    for img in (first_section, later_section):
        assert not img.has_attr("fetchpriority")
        assert img["alt"] == ""  # the card's headline link names the story


def test_listing_loads_its_first_row_at_once_and_the_rest_lazily(site, client):
    for number in range(6):
        make_article(
            site["business"],
            f"Market report {number}",
            lead_image=make_image(f"Market {number}"),
            days_ago=10 + number,
        )
    cards = soup_of(client, "/business/").select(".card-list .card")
    lazy = []
    for card in cards:
        picture = card.select_one(".card__image picture")
        if picture is not None:
            img = assert_webp_and_jpeg_picture(picture)
            assert not img.has_attr("fetchpriority")
            lazy.append(img.get("loading"))
    # Business: "Ports go automatic" and "Shipyards boom" have no picture; cards 1-4 are eager.
    assert len(cards) == 8
    assert lazy == [None, None, "lazy", "lazy", "lazy", "lazy"]


def test_a_missing_original_file_leaves_the_picture_out(site, client, caplog):
    # given an article whose image file was lost (a database restored without its media)
    image = site["lead"].lead_image
    image.file.storage.delete(image.file.name)
    caplog.set_level(logging.WARNING, logger="masthead.news.renditions")

    # then its page, print view and the home page still render, without that picture
    soup = soup_of(client, ARTICLE)
    assert soup.select_one("figure.lead-figure") is None
    assert soup.select_one('meta[property="og:image"]') is None
    assert soup.select_one("h1").get_text() == "Seoul and Jakarta sign pact"
    assert soup_of(client, ARTICLE + "print/").select_one("figure.lead-figure") is None
    home = soup_of(client, "/")
    assert home.select_one(".lead-story .card__headline").get_text() == site["lead"].title
    assert home.select_one(".lead-story .card__image") is None
    # and the log names the image
    assert f"Image {image.pk} " in caplog.text
    assert not Rendition.objects.filter(image=image).exists()


def test_load_demo_makes_every_rendition_the_pages_show(settings, monkeypatch, client, capsys):
    # given load_demo with renditions on, and two of the demo's articles (for speed)
    settings.MASTHEAD_DEMO_RENDITIONS = True
    full = load_catalogue()
    few = dataclasses.replace(full, articles=full.articles[:2])
    monkeypatch.setattr(loader, "load_catalogue", lambda: few)

    call_command("load_demo")

    # then each lead image has every rendition, and the progress was shown
    articles = list(ArticlePage.objects.live().select_related("lead_image"))
    assert len(articles) == 2
    for article in articles:
        made = set(article.lead_image.renditions.values_list("filter_spec", flat=True))
        assert made == set(lead_image_specs())
    out = capsys.readouterr().out
    assert "Renditions 1/2" in out and "Renditions 2/2" in out

    # and the pages make none of their own: templates and loader share their specs
    before = Rendition.objects.count()
    for path in ["/", *(a.url for a in articles), *(a.url + "print/" for a in articles)]:
        soup = soup_of(client, path)
        assert soup.select("picture, figure img")
    assert Rendition.objects.count() == before
