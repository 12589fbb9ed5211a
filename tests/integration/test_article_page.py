import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.django_db

ARTICLE = "/world/seoul-and-jakarta-sign-pact/"


def soup_of(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_article_has_the_reference_anatomy(site, client):
    soup = soup_of(client, ARTICLE)
    article = soup.select_one("main article.article")
    kicker = article.select_one(".kicker a")
    assert kicker.get_text() == "Southern Compass"
    assert kicker["href"] == "/series/southern-compass/"
    assert article.select_one("h1").get_text() == "Seoul and Jakarta sign pact"
    assert [d.get_text() for d in article.select(".deck")] == [
        "The deck of Seoul and Jakarta sign pact",
        "Beijing warns of bloc politics",
    ]
    figure = article.select_one("figure.lead-figure")
    assert figure.img["alt"] == "A described picture"
    assert "Two ministers shake hands" in figure.figcaption.get_text()
    assert "Source photos by Pool via Agency" in figure.select_one(".credit").get_text()
    first_paragraph = article.select_one(".article__body p")
    assert first_paragraph.get_text().startswith("SEOUL -- Paragraph 1 text.")
    byline = article.select_one(".byline")
    assert [a.get_text() for a in byline.select("a")] == ["Ada Reporter", "Ben Writer"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d", byline.time["datetime"])
    assert article.select_one(".pull-quote blockquote").get_text(strip=True) == (
        "A memorable line."
    )
    assert [h.name for h in soup.select("h1, h2")][:2] == ["h1", "h2"]


def test_share_row_links_carry_the_encoded_article_url(site, client):
    soup = soup_of(client, ARTICLE)
    links = {a["class"][1]: a["href"] for a in soup.select(".share a")}
    canonical = soup.select_one('link[rel="canonical"]')["href"]
    assert canonical == "http://testserver" + ARTICLE
    assert parse_qs(urlsplit(links["share__link--facebook"]).query)["u"] == [canonical]
    assert parse_qs(urlsplit(links["share__link--linkedin"]).query)["url"] == [canonical]
    assert parse_qs(urlsplit(links["share__link--x"]).query)["url"] == [canonical]
    assert parse_qs(urlsplit(links["share__link--email"]).query)["body"] == [canonical]
    assert links["share__link--print"] == ARTICLE + "print/"
    assert not soup.select("script[src]"), "no script may load from anywhere"


def test_json_ld_is_a_valid_news_article_without_body_text(site, client):
    soup = soup_of(client, ARTICLE)
    scripts = soup.select('script[type="application/ld+json"]')
    # The article, and its breadcrumb trail (tests/integration/test_listings.py).
    assert [json.loads(s.string)["@type"] for s in scripts] == ["NewsArticle", "BreadcrumbList"]
    data = json.loads(scripts[0].string)
    assert data["headline"] == "Seoul and Jakarta sign pact"
    assert data["url"] == "http://testserver" + ARTICLE
    assert [a["name"] for a in data["author"]] == ["Ada Reporter", "Ben Writer"]
    assert data["image"][0].startswith("http://testserver/media/")
    assert data["articleSection"] == "World"
    assert set(data["keywords"]) == {"Korea", "Defence"}
    assert "articleBody" not in data
    assert "Paragraph 2" not in scripts[0].string


def test_open_graph_and_twitter_card(site, client):
    soup = soup_of(client, ARTICLE)
    meta = {m.get("property") or m.get("name"): m.get("content") for m in soup.select("meta")}
    assert meta["og:type"] == "article"
    assert meta["og:title"] == "Seoul and Jakarta sign pact"
    assert meta["og:url"] == "http://testserver" + ARTICLE
    assert meta["og:image"].startswith("http://testserver/media/images/")
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["description"] == "The deck of Seoul and Jakarta sign pact"


def test_sponsored_article_is_labelled_and_discloses_its_sponsor(site, client):
    soup = soup_of(client, "/business/ports-go-automatic/")
    assert soup.select_one(".label--sponsored").get_text() == "Sponsored content"
    disclosure = soup.select_one(".sponsor-disclosure")
    assert disclosure.h2.get_text() == "About sponsored content"
    assert "commissioned by Acme Shipping" in disclosure.get_text()
    data = json.loads(soup.select_one('script[type="application/ld+json"]').string)
    assert data["sponsor"]["name"] == "Acme Shipping"


@pytest.mark.parametrize("path", ["/", "/business/", "/authors/ada-reporter/"])
def test_sponsored_article_is_labelled_wherever_it_is_listed(site, client, path):
    soup = soup_of(client, path)
    cards = [c for c in soup.select("article.card") if "Ports go automatic" in c.get_text()]
    assert cards, path
    assert all("Sponsored" in c.select_one(".label--sponsored").get_text() for c in cards)
    others = [c for c in soup.select("article.card") if c not in cards]
    assert all(c.select_one(".label--sponsored") is None for c in others)


def test_print_view_has_the_story_but_no_navigation_or_share_row(site, client):
    soup = soup_of(client, ARTICLE + "print/")
    assert soup.select_one("h1").get_text() == "Seoul and Jakarta sign pact"
    assert "Paragraph 10 text." in soup.get_text()
    assert soup.select_one(".section-nav") is None
    assert soup.select_one(".share") is None
    assert soup.select_one('meta[name="robots"]')["content"] == "noindex"
    assert soup.select_one('link[rel="canonical"]')["href"] == "http://testserver" + ARTICLE


def test_article_page_links_a_print_stylesheet(site, client):
    soup = soup_of(client, ARTICLE)
    sheets = soup.select('link[rel="stylesheet"][media="print"]')
    assert [s["href"] for s in sheets] == ["/static/masthead/css/print.css"]


def test_related_articles_put_the_series_first_then_shared_topics(site, client):
    soup = soup_of(client, ARTICLE)
    titles = [h.get_text() for h in soup.select(".related .card__headline")]
    assert titles[:2] == ["Seoul pledges aid", "Shipyards boom"]
    assert "Seoul and Jakarta sign pact" not in titles


def test_home_page_leads_with_the_newest_story_and_lists_sections(site, client):
    soup = soup_of(client, "/")
    assert len(soup.select(".card--lead")) == 1
    lead = soup.select_one(".lead-story .card__headline")
    assert lead.get_text() == "Seoul and Jakarta sign pact"
    sections = [h.get_text(strip=True) for h in soup.select(".home-section__title")]
    assert sections == ["World", "Business"]
    world = soup.select(".home-section")[0].get_text()
    assert "Seoul pledges aid" in world and "Seoul and Jakarta sign pact" not in world


def test_sponsored_content_never_leads_by_default(site, client):
    site["sponsored"].published_at = site["lead"].published_at + timedelta(hours=1)
    site["sponsored"].save_revision().publish()
    soup = soup_of(client, "/")
    assert soup.select_one(".lead-story .card__headline").get_text() == (
        "Seoul and Jakarta sign pact"
    )


def test_chosen_lead_article_overrides_the_newest(site, client):
    home = site["home"]
    home.lead_article = site["topical"]
    home.save_revision().publish()
    soup = soup_of(client, "/")
    assert soup.select_one(".lead-story .card__headline").get_text() == "Shipyards boom"


def test_author_and_topic_pages_list_their_articles(site, client):
    author = soup_of(client, "/authors/ben-writer/")
    assert author.h1.get_text() == "Ben Writer"
    assert {h.get_text() for h in author.select(".card__headline")} == {
        "Seoul and Jakarta sign pact",
        "Shipyards boom",
    }
    topic = soup_of(client, "/topics/defence/")
    assert {h.get_text() for h in topic.select(".card__headline")} == {
        "Seoul and Jakarta sign pact",
        "Shipyards boom",
    }


def test_series_page_lists_only_its_articles(site, client):
    soup = soup_of(client, "/series/southern-compass/")
    assert [h.get_text() for h in soup.select(".card__headline")] == [
        "Seoul and Jakarta sign pact",
        "Seoul pledges aid",
    ]


def test_the_home_page_title_names_the_publication_once(site, client, settings):
    settings.MASTHEAD_SITE_NAME = site["home"].title
    title = client.get("/").content.decode().split("<title>")[1].split("</title>")[0]
    assert title.strip() == site["home"].title
    article = client.get(site["lead"].url).content.decode()
    assert f"{site['lead'].title} | {site['home'].title}" in article.split("</title>")[0]
