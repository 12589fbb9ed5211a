"""The pages around the article (issue 13, items 5 and 6): the authors and topics indexes,
author, topic, section and series pages with their pagination, breadcrumbs and their
BreadcrumbList JSON-LD, canonical URLs, OpenGraph/Twitter tags, the topics admin, related
articles, bad `?page=` input, and that no listing ever carries paywalled text."""

import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone
from taggit.models import Tag
from wagtail.models import Site
from wagtail.rich_text import RichText

from masthead.access import context
from masthead.access.models import MeterSettings
from masthead.news.models import ArticlePage
from masthead.subscriptions import actions
from masthead.subscriptions.models import Subscription
from tests.crawlers import TrustEveryCrawler
from tests.factories import make_article, make_author, make_image, make_section
from tests.integration.subscription_factories import make_plan, make_reader

pytestmark = pytest.mark.django_db

SECRET = "The harbour master kept the second ledger in a biscuit tin"


def soup_of(client, path, **params):
    response = client.get(path, params)
    assert response.status_code == 200, (path, params, response.status_code)
    return BeautifulSoup(response.content, "html.parser")


def meta_of(soup) -> dict:
    return {m.get("property") or m.get("name"): m.get("content") for m in soup.select("meta")}


def links_of(soup) -> dict:
    return {link["rel"][0]: link["href"] for link in soup.select("head link[rel]")}


def json_ld(soup, kind) -> list[dict]:
    found = [json.loads(s.string) for s in soup.select('script[type="application/ld+json"]')]
    return [data for data in found if data["@type"] == kind]


def trail(soup) -> list[tuple[str, str | None]]:
    """(name, link) of each crumb; the last one, the page itself, is not a link."""
    nav = soup.select_one('nav[aria-label="Breadcrumb"]')
    assert nav is not None and nav.ol is not None
    return [
        (li.get_text(strip=True), li.a["href"] if li.a else None) for li in nav.select("ol > li")
    ]


def card_titles(soup) -> list[str]:
    return [a.get_text(strip=True) for a in soup.select(".card__headline a")]


@pytest.fixture
def page_size(settings):
    settings.MASTHEAD_LISTING_PAGE_SIZE = 2
    return 2


# --- authors -------------------------------------------------------------------------------


def test_the_authors_index_lists_authors_with_live_articles_a_to_z_with_counts(site, client):
    ada, ben = site["authors"]
    ada.photo = make_image("Ada")
    ada.save()
    make_author("Zed Idle")  # no articles
    drafted = make_author("Cy Drafter")
    unpublished = make_article(site["world"], "Withdrawn story", authors=[drafted])
    unpublished.unpublish()

    soup = soup_of(client, "/authors/")

    items = soup.select(".author-index__item")
    assert [i.select_one(".author-index__name").get_text(strip=True) for i in items] == [
        "Ada Reporter",
        "Ben Writer",
    ]
    assert items[0].select_one(".author-index__count").get_text() == "3 articles"
    assert items[1].select_one(".author-index__count").get_text() == "2 articles"
    assert items[0].select_one(".author-role").get_text() == "Reporter"
    assert items[0].select_one("img")["src"].startswith("/media/images/")
    assert items[1].select_one("img") is None  # no photo: no picture, no broken image
    assert items[0].select_one("a")["href"] == "/authors/ada-reporter/"


def test_the_authors_index_is_paginated_a_to_z(site, client, page_size):
    # given three authors with live articles, two to a page
    cy = make_author("Cy Columnist")
    make_article(site["world"], "A column", authors=[cy])

    # when the reader pages through the index
    first = soup_of(client, "/authors/")
    second = soup_of(client, "/authors/", page=2)

    # then each page names its own authors, A to Z, with links between the pages
    names = [a.get_text(strip=True) for a in first.select(".author-index__name")]
    assert names == ["Ada Reporter", "Ben Writer"]
    assert [a.get_text(strip=True) for a in second.select(".author-index__name")] == [
        "Cy Columnist"
    ]
    assert second.select_one(".author-index__count").get_text() == "1 article"
    assert links_of(first)["canonical"] == "http://testserver/authors/"
    assert links_of(first)["next"] == "http://testserver/authors/?page=2"
    assert links_of(second)["canonical"] == "http://testserver/authors/?page=2"
    assert links_of(second)["prev"] == "http://testserver/authors/"
    assert first.select_one('.pagination a[rel="next"]')["href"] == "?page=2"
    assert second.select_one('.pagination a[rel="prev"]')["href"] == "/authors/"
    assert second.title.get_text().startswith("Authors, page 2")
    assert client.get("/authors/", {"page": 3}).status_code == 404


def test_the_author_page_shows_photo_role_bio_and_links(site, client):
    ada = site["authors"][0]
    ada.photo = make_image("Ada portrait")
    ada.role = "Seoul bureau chief"
    ada.bio = "Ada covers the peninsula.\n\nShe reads three languages."
    ada.website = "https://ada.example/"
    ada.email = "ada@news.example"
    ada.x_handle = "@ada_r"
    ada.save()

    soup = soup_of(client, "/authors/ada-reporter/")

    profile = soup.select_one(".author-profile")
    assert profile.h1.get_text() == "Ada Reporter"
    assert profile.select_one(".author-role").get_text() == "Seoul bureau chief"
    assert [p.get_text() for p in profile.select(".author-bio")] == [
        "Ada covers the peninsula.",
        "She reads three languages.",
    ]
    picture = profile.select_one("picture")
    assert picture is not None and "fill-160x160" in picture.img["src"]
    assert "320x320" in str(picture)  # a 2x rendition in the srcset
    assert [(a.get_text(), a["href"]) for a in profile.select(".author-links a")] == [
        ("Website", "https://ada.example/"),
        ("E-mail", "mailto:ada@news.example"),
        ("X: @ada_r", "https://x.com/ada_r"),
    ]
    # Teasers only: headline, deck and date of each article.
    assert set(card_titles(soup)) == {
        "Seoul and Jakarta sign pact",
        "Seoul pledges aid",
        "Ports go automatic",
    }
    meta = meta_of(soup)
    assert meta["og:type"] == "profile"
    assert meta["og:title"] == "Ada Reporter"
    assert meta["og:description"] == "Ada covers the peninsula."
    assert meta["og:image"].startswith("http://testserver/media/images/")
    assert "fill-600x600" in meta["og:image"]


def test_an_author_page_is_paginated_with_prev_next_and_canonical(site, client, page_size):
    first = soup_of(client, "/authors/ada-reporter/")
    second = soup_of(client, "/authors/ada-reporter/", page=2)

    assert card_titles(first) == ["Seoul and Jakarta sign pact", "Ports go automatic"]
    assert card_titles(second) == ["Seoul pledges aid"]
    assert links_of(first)["canonical"] == "http://testserver/authors/ada-reporter/"
    assert links_of(first)["next"] == "http://testserver/authors/ada-reporter/?page=2"
    assert "prev" not in links_of(first)
    assert links_of(second)["canonical"] == "http://testserver/authors/ada-reporter/?page=2"
    assert links_of(second)["prev"] == "http://testserver/authors/ada-reporter/"
    assert "next" not in links_of(second)
    # The visible links: Older from page 1; Newer from page 2 goes to the plain address.
    assert first.select_one('.pagination a[rel="next"]')["href"] == "?page=2"
    assert second.select_one('.pagination a[rel="prev"]')["href"] == "/authors/ada-reporter/"
    assert "Page 2 of 2" in second.select_one(".pagination").get_text()
    assert client.get("/authors/ada-reporter/", {"page": 3}).status_code == 404


def test_the_admin_edits_every_field_of_an_author(site, admin_client):
    ada = site["authors"][0]
    html = admin_client.get(f"/admin/snippets/news/author/edit/{ada.pk}/").content.decode()
    for name in (
        "name",
        "slug",
        "role",
        "photo",
        "bio",
        "website",
        "email",
        "x_handle",
        "mastodon",
        "linkedin",
    ):
        assert f'name="{name}"' in html, name


def test_a_bad_x_handle_is_refused(site):
    from django.core.exceptions import ValidationError

    ada = site["authors"][0]
    ada.x_handle = "not a handle!"
    with pytest.raises(ValidationError):
        ada.full_clean()


# --- topics --------------------------------------------------------------------------------


def test_the_topics_index_lists_topics_with_live_articles_and_counts(site, client):
    make_article(site["world"], "Shipping note", topics=["ports"])
    gone = make_article(site["world"], "Gone story", topics=["Hidden"])
    gone.unpublish()

    soup = soup_of(client, "/topics/")

    rows = [
        (
            li.a.get_text(),
            li.a["href"],
            li.select_one(".topic-index__count").get_text(" ", strip=True),
        )
        for li in soup.select(".topic-index li")
    ]
    assert rows == [
        ("Defence", "/topics/defence/", "2 articles"),
        ("Korea", "/topics/korea/", "2 articles"),
        ("ports", "/topics/ports/", "1 article"),
    ]
    assert trail(soup) == [("Home", "http://testserver/"), ("Topics", None)]


def test_a_topic_page_is_paginated(site, client, page_size):
    make_article(site["world"], "Third on Korea", topics=["Korea"], days_ago=9)
    first = soup_of(client, "/topics/korea/")
    second = soup_of(client, "/topics/korea/", page=2)
    assert card_titles(first) == ["Seoul and Jakarta sign pact", "Shipyards boom"]
    assert card_titles(second) == ["Third on Korea"]
    assert links_of(second)["canonical"] == "http://testserver/topics/korea/?page=2"
    assert meta_of(second)["og:url"] == "http://testserver/topics/korea/?page=2"


def test_unknown_author_and_topic_slugs_are_404(site, client):
    Tag.objects.create(name="Empty", slug="empty")  # a topic with no live article
    for path in ("/authors/nobody/", "/topics/nothing-here/", "/topics/empty/"):
        assert client.get(path).status_code == 404, path


def test_editors_manage_topics_and_a_renamed_topic_reaches_every_page(site, client):
    from masthead.demo.roles import newsroom_editors

    group, _ = newsroom_editors()
    editor = make_reader("topiceditor")
    editor.groups.add(group)
    editor_client = Client()
    editor_client.force_login(editor)
    korea = Tag.objects.get(name="Korea")
    article = site["lead"]
    assert "Korea" in client.get(article.url).content.decode()  # cached now

    listing = editor_client.get("/admin/snippets/taggit/tag/")
    assert listing.status_code == 200
    assert "Defence" in listing.content.decode()
    heading = BeautifulSoup(listing.content, "html.parser").select_one("h1, h2")
    assert "Topics" in heading.get_text() and "Add topic" in listing.content.decode()
    response = editor_client.post(
        f"/admin/snippets/taggit/tag/edit/{korea.pk}/",
        {"name": "Korean peninsula", "slug": "korea"},
    )
    assert response.status_code == 302

    assert "Korean peninsula" in client.get(article.url).content.decode()
    assert soup_of(client, "/topics/korea/").h1.get_text() == "Korean peninsula"
    added = editor_client.post(
        "/admin/snippets/taggit/tag/add/", {"name": "Ports", "slug": "ports"}
    )
    assert added.status_code == 302 and Tag.objects.filter(slug="ports").exists()


# --- sections and series -------------------------------------------------------------------


def test_section_and_series_pages_paginate_newer_and_older(site, client, page_size):
    for n in range(3):
        make_article(site["world"], f"World filler {n}", series=site["series"], days_ago=10 + n)
    section = [soup_of(client, "/world/", page=n) for n in (1, 2, 3)]
    assert [len(card_titles(s)) for s in section] == [2, 2, 1]
    assert card_titles(section[2]) == ["World filler 2"]
    assert section[1].select_one('.pagination a[rel="prev"]').get_text() == "Newer"
    assert section[1].select_one('.pagination a[rel="next"]').get_text() == "Older"
    assert links_of(section[1])["prev"] == "http://testserver/world/"
    assert links_of(section[1])["next"] == "http://testserver/world/?page=3"
    series = soup_of(client, "/series/southern-compass/", page=2)
    assert links_of(series)["canonical"] == "http://testserver/series/southern-compass/?page=2"
    assert card_titles(series) == ["World filler 0", "World filler 1"]
    assert series.title.get_text().startswith("Southern Compass, page 2")


# --- breadcrumbs, canonical, OpenGraph ------------------------------------------------------


TRAILS = {
    "/world/": [("Home", "/"), ("World", "/world/")],
    "/series/": [("Home", "/"), ("Series", "/series/")],
    "/series/southern-compass/": [
        ("Home", "/"),
        ("Series", "/series/"),
        ("Southern Compass", "/series/southern-compass/"),
    ],
    "/authors/": [("Home", "/"), ("Authors", "/authors/")],
    "/authors/ben-writer/": [
        ("Home", "/"),
        ("Authors", "/authors/"),
        ("Ben Writer", "/authors/ben-writer/"),
    ],
    "/topics/": [("Home", "/"), ("Topics", "/topics/")],
    "/topics/defence/": [("Home", "/"), ("Topics", "/topics/"), ("Defence", "/topics/defence/")],
    "/world/seoul-and-jakarta-sign-pact/": [
        ("Home", "/"),
        ("World", "/world/"),
        ("Southern Compass", "/series/southern-compass/"),
        ("Seoul and Jakarta sign pact", "/world/seoul-and-jakarta-sign-pact/"),
    ],
}


@pytest.mark.parametrize("path", TRAILS)
def test_breadcrumbs_and_their_json_ld_name_the_same_trail(site, client, path):
    soup = soup_of(client, path)
    expected = [(name, "http://testserver" + url) for name, url in TRAILS[path]]
    assert trail(soup) == [*expected[:-1], (expected[-1][0], None)]
    nav = soup.select_one('nav[aria-label="Breadcrumb"]')
    assert nav.select("li")[-1].span["aria-current"] == "page"
    (data,) = json_ld(soup, "BreadcrumbList")
    assert data["@context"] == "https://schema.org"
    assert [(i["position"], i["name"], i["item"]) for i in data["itemListElement"]] == [
        (n, name, url) for n, (name, url) in enumerate(expected, start=1)
    ]


def test_the_article_breadcrumb_is_in_the_cached_frame_the_same_for_a_subscriber(site, client):
    article = site["lead"]
    anonymous = soup_of(client, article.url)
    reader = make_reader()
    now = timezone.now()
    actions.start(user=reader, plan=make_plan(), period_end=now + timedelta(days=30), now=now)
    subscriber = Client()
    subscriber.force_login(reader)
    assert trail(soup_of(subscriber, article.url)) == trail(anonymous)


LISTINGS = {
    "/": ("website", "The Test Gazette", "Test news"),
    "/world/": ("website", "World", ""),
    "/series/": ("website", "Series", ""),
    "/series/southern-compass/": ("website", "Southern Compass", ""),
    "/authors/": ("website", "Authors", None),
    "/authors/ben-writer/": ("profile", "Ben Writer", "Reporter"),
    "/topics/": ("website", "Topics", None),
    "/topics/korea/": ("website", "Korea", None),
}


@pytest.mark.parametrize("path", LISTINGS)
def test_every_listing_has_canonical_and_open_graph_tags(site, client, settings, path):
    settings.MASTHEAD_SITE_NAME = "The Test Gazette"
    og_type, title, description = LISTINGS[path]
    soup = soup_of(client, path)
    meta = meta_of(soup)
    canonical = links_of(soup)["canonical"]
    assert canonical == "http://testserver" + path
    assert meta["og:url"] == canonical
    assert meta["og:type"] == og_type
    assert meta["og:title"] == meta["twitter:title"] == title
    assert meta["og:description"] == meta["twitter:description"] == meta["description"]
    if description is not None:
        assert meta["og:description"] == description
    assert meta["og:site_name"] == "The Test Gazette"
    assert meta["twitter:card"] in ("summary", "summary_large_image")
    # With a ?page=1 or a malformed page, the canonical address is still the plain one.
    for value in ("1", "abc"):
        again = soup_of(client, path, page=value)
        assert links_of(again)["canonical"] == canonical, value


def test_listings_with_a_lead_picture_share_it(site, client):
    for path in ("/", "/world/", "/series/southern-compass/", "/topics/korea/"):
        image = meta_of(soup_of(client, path))["og:image"]
        assert image.startswith("http://testserver/media/images/") and "1200x630" in image, path


def test_every_page_of_a_listing_shares_the_listings_own_picture(site, client, page_size):
    # given a section whose newest story has no picture and whose second has one, and an
    # older page whose stories have pictures of their own
    world = site["world"]
    newest = make_article(world, "Newest words only", series=site["series"], days_ago=0)
    for n in range(4):
        make_article(
            world,
            f"Older pictured {n}",
            series=site["series"],
            days_ago=20 + n,
            lead_image=make_image(f"Older {n}"),
        )
    assert newest.lead_image is None

    for path in ("/world/", "/series/southern-compass/"):
        # when the reader opens each page of the listing
        pages = [meta_of(soup_of(client, path, page=n)) for n in (1, 2, 3)]

        # then og:image is the picture of the listing's newest pictured story on every page
        images = {meta["og:image"] for meta in pages}
        assert len(images) == 1, (path, images)
        (image,) = images
        assert image == meta_of(soup_of(client, site["lead"].url))["og:image"], path
        assert all(meta["twitter:image"] == image for meta in pages)


def test_a_listing_without_pictures_has_no_og_image_on_any_page(site, client, page_size):
    # given a section whose stories have no pictures, over two pages
    opinion = make_section(site["home"], "Opinion")
    for n in range(3):
        make_article(opinion, f"Opinion {n}", days_ago=n)

    for n in (1, 2):
        # when the reader opens a page, then it names no picture
        meta = meta_of(soup_of(client, "/opinion/", page=n))
        assert "og:image" not in meta and "twitter:image" not in meta
        assert meta["twitter:card"] == "summary"


# --- bad input -----------------------------------------------------------------------------

PAGINATED = [
    "/world/",
    "/authors/",
    "/series/southern-compass/",
    "/authors/ada-reporter/",
    "/topics/korea/",
    "/topics/",
]
FIRST_PAGE = [
    "0",
    "-1",
    "10^20",
    "100000000000000000000",
    "abc",
    "",
    "２",
    "1.5",
    " 2",
    "+2",
    "1' OR 1=1",
]


@pytest.mark.parametrize("path", PAGINATED)
def test_bad_page_numbers_show_the_first_page_never_an_error(site, client, page_size, path):
    first = client.get(path).content
    for value in FIRST_PAGE:
        response = client.get(path, {"page": value})
        assert response.status_code == 200, value
        assert response.content == first, value
    repeated = client.get(f"{path}?page=2&page=3")
    assert repeated.status_code == 200 and repeated.content == first
    fullwidth = client.get(f"{path}?page=%EF%BC%92")  # ?page=２, percent-encoded
    assert fullwidth.status_code == 200 and fullwidth.content == first
    assert client.get(path, {"page": "99999"}).status_code == 404


# --- related articles ----------------------------------------------------------------------


def test_related_articles_never_repeat_one_nor_show_the_article_itself(site, client):
    series, world = site["series"], site["world"]
    lead = site["lead"]
    # Articles in the same series AND sharing topics: candidates by both routes.
    both = [
        make_article(
            world, f"Both ways {n}", series=series, topics=["Korea", "Defence"], days_ago=n + 1
        )
        for n in range(2)
    ]
    related = lead.related_articles(limit=6)
    pks = [a.pk for a in related]
    assert len(pks) == len(set(pks))
    assert lead.pk not in pks
    assert {b.pk for b in both} <= set(pks)
    assert site["topical"].pk in pks  # by topics, after the series
    soup = soup_of(client, lead.url)
    shown = [a["href"] for a in soup.select(".related .card__headline a")]
    assert len(shown) == len(set(shown)) and lead.url not in shown


# --- teasers only --------------------------------------------------------------------------


def test_no_listing_carries_a_paywalled_sentence_for_anyone(site, client, page_size, monkeypatch):
    body = [("paragraph", RichText(f"<p>Open paragraph {n}.</p>")) for n in range(1, 5)]
    body += [("paragraph", RichText(f"<p>Closed paragraph. {SECRET}.</p>"))]
    body += [("paragraph", RichText(f"<p>Closed paragraph {n}.</p>")) for n in range(6, 10)]
    ada = site["authors"][0]
    secret = make_article(
        site["world"],
        "The ledger in the tin",
        authors=[ada],
        series=site["series"],
        topics=["Korea"],
        access="subscribers",
        body=body,
    )
    other = make_section(site["home"], "Opinion")
    make_article(other, "Unrelated", authors=[ada], topics=["Korea"], days_ago=30)
    reader = make_reader()
    now = timezone.now()
    actions.start(user=reader, plan=make_plan(), period_end=now + timedelta(days=30), now=now)
    subscriber = Client()
    subscriber.force_login(reader)
    assert SECRET in subscriber.get(secret.url).content.decode()  # the sentence is real
    # a lapsed subscriber (their period ended yesterday) and a verified search crawler,
    # to whom the article page itself gives every word
    lapsed_reader = make_reader()
    sub = actions.start(
        user=lapsed_reader, plan=make_plan(), period_end=now + timedelta(days=1), now=now
    )
    Subscription.objects.filter(pk=sub.pk).update(
        status="expired", current_period_end=now - timedelta(days=1)
    )
    lapsed = Client()
    lapsed.force_login(lapsed_reader)
    assert SECRET not in lapsed.get(secret.url).content.decode()
    monkeypatch.setattr(context, "crawler_verifier", TrustEveryCrawler)
    crawler = Client(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")
    assert SECRET in crawler.get(secret.url).content.decode()
    # and a reader who has used up the allowance (one, here): the next metered story is
    # the paywall's
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = 1
    config.save()
    metered = list(ArticlePage.objects.live().filter(access="metered").order_by("pk")[:2])
    exhausted = Client()
    exhausted.get(metered[0].url)
    assert "paywall_exhausted" in str(exhausted.get(metered[1].url).context["access"].message)

    paths = [
        "/",
        "/world/",
        "/world/?page=2",
        "/series/",
        "/series/southern-compass/",
        "/series/southern-compass/?page=2",
        "/authors/",
        "/authors/ada-reporter/",
        "/authors/ada-reporter/?page=2",
        "/topics/",
        "/topics/korea/",
        "/topics/korea/?page=2",
        site["lead"].url,  # its related articles list the secret story
    ]
    seen_on = 0
    for reader_client in (client, exhausted, subscriber, lapsed, crawler):
        for path in paths:
            response = reader_client.get(path)
            assert response.status_code == 200, path
            html = response.content.decode()
            assert SECRET not in html, path
            assert "Closed paragraph" not in html, path
            seen_on += "The ledger in the tin" in html
    assert seen_on >= 25  # the story is listed, as a teaser, on several of them, for each


# --- the indexes' counts are cached under the listings generation ---------------------------


def test_the_indexes_are_cached_until_an_article_or_topic_changes(site, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get("/topics/").status_code == 200
    assert client.get("/authors/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/topics/").status_code == 200
        assert client.get("/authors/").status_code == 200
    counted = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counted == []  # the counts came from the cache

    # A publish changes the listings generation: the new topic and author show at once.
    newcomer = make_author("Nia Newcomer")
    make_article(site["world"], "Fresh story", authors=[newcomer], topics=["Fresh"])
    assert "Fresh" in client.get("/topics/").content.decode()
    assert "Nia Newcomer" in client.get("/authors/").content.decode()
    # An unpublish too.
    site["topical"].unpublish()
    soup = soup_of(client, "/topics/")
    counts = {
        li.a.get_text(): li.select_one(".topic-index__count").get_text(" ", strip=True)
        for li in soup.select(".topic-index li")
    }
    assert counts["Korea"] == "1 article"
    # A renamed topic (the pages generation).
    fresh = Tag.objects.get(name="Fresh")
    fresh.name = "Very fresh"
    fresh.save()
    assert "Very fresh" in client.get("/topics/").content.decode()
