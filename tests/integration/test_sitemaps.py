"""Sitemaps and robots.txt: the index and its files parse as the protocol's XML, list exactly
the live public pages (drafts, unpublished and view-restricted pages never), month files give
each article its lastmod and lead picture, the news sitemap the last 48 hours, files split at
the limit, answers are cached until an article is published or unpublished, robots.txt
follows Settings > Robots, and no sentence of an article's body appears in any of them."""

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction, Site
from wagtail.rich_text import RichText

from masthead.access import context
from masthead.access.models import MeterSettings
from masthead.news import sitemaps
from masthead.news.models import ArticlePage, RobotsSettings
from masthead.subscriptions import actions
from masthead.subscriptions.models import Subscription
from tests.crawlers import TrustEveryCrawler
from tests.factories import make_article, make_author, make_home, make_image, make_section
from tests.indexing import indexed_once
from tests.integration.subscription_factories import make_plan, make_reader
from tests.snapshots import restore_or_build, take_on_postgresql

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "image": "http://www.google.com/schemas/sitemap-image/1.1",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=TOKYO)
SECRET = "The harbour master sold the lighthouse at midnight"  # paywalled part only


def secret_body():
    teaser = [("paragraph", RichText(f"<p>Open paragraph {n}.</p>")) for n in range(1, 4)]
    rest = [("paragraph", RichText(f"<p>{SECRET}, paragraph {n}.</p>")) for n in range(4, 9)]
    return teaser + rest


def build_paper():
    with indexed_once():
        home = make_home()
        world = make_section(home, "World")
        ada = make_author("Ada Reporter")

        def article(title, published, **fields):
            return make_article(world, title, authors=[ada], published_at=published, **fields)

        october = article(
            "October story",
            datetime(2026, 10, 15, 9, tzinfo=TOKYO),
            lead_image=make_image("Harbour"),
            topics=["Shipping"],
            access="subscribers",
            body=secret_body(),
        )
        november = article(
            "November story", datetime(2026, 11, 3, 9, tzinfo=TOKYO), body=secret_body()
        )
        # The first minutes of November in Tokyo are still October in UTC: months are the
        # newsroom's.
        early = article("Early November story", datetime(2026, 11, 1, 0, 30, tzinfo=TOKYO))
        draft = make_article(world, "Draft story", published_at=datetime(2026, 11, 4, tzinfo=TOKYO))
        draft.unpublish()
        gone = article("Withdrawn story", datetime(2026, 11, 5, tzinfo=TOKYO))
        gone.unpublish()
        restricted = article("Members story", datetime(2026, 11, 6, tzinfo=TOKYO))
        PageViewRestriction.objects.create(
            page=restricted, restriction_type="password", password="x"
        )
        return {
            "home": home,
            "world": world,
            "october": october,
            "november": november,
            "early": early,
            "hidden": [draft, gone, restricted],
        }


@pytest.fixture(scope="session")
def _paper_snapshot(django_db_setup, django_db_blocker):
    return take_on_postgresql(build_paper, django_db_blocker, at=NOW)


@pytest.fixture
def paper(db, time_machine, _paper_snapshot):
    time_machine.move_to(NOW, tick=False)
    return restore_or_build(_paper_snapshot, build_paper)


def xml(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    assert response["Content-Type"].startswith("application/xml")
    return ET.fromstring(response.content)


def locs(root):
    return [el.text for el in root.iterfind(".//sm:loc", NS)]


def month_url(year, month):
    return f"http://testserver/sitemap-{sitemaps.month_section(year, month)}.xml"


def test_index_lists_the_pages_file_and_one_file_per_month_with_articles(client, paper):
    root = xml(client, "/sitemap.xml")

    assert root.tag == f"{{{NS['sm']}}}sitemapindex"
    assert locs(root) == [
        "http://testserver/sitemap-pages.xml",
        month_url(2026, 11),
        month_url(2026, 10),
    ]
    assert all(el.find("sm:lastmod", NS) is not None for el in root.iterfind("sm:sitemap", NS))


def test_a_month_file_lists_that_months_live_articles_with_lastmod_and_lead_image(client, paper):
    october = xml(client, "/sitemap-articles-2026-10.xml")
    november = xml(client, "/sitemap-articles-2026-11.xml")

    assert october.tag == f"{{{NS['sm']}}}urlset"
    assert locs(october) == ["http://testserver/world/october-story/"]
    assert locs(november) == [
        "http://testserver/world/early-november-story/",
        "http://testserver/world/november-story/",
    ]
    (url,) = october.iterfind("sm:url", NS)
    lastmod = datetime.fromisoformat(url.find("sm:lastmod", NS).text)
    assert lastmod == ArticlePage.objects.get(pk=paper["october"].pk).last_published_at
    image = url.find("image:image/image:loc", NS).text
    rendition = paper["october"].lead_image.get_rendition(sitemaps.IMAGE_SPEC)
    assert image == f"http://testserver{rendition.url}"
    assert all(u.find("image:image", NS) is None for u in november.iterfind("sm:url", NS))


def test_drafts_unpublished_and_view_restricted_pages_are_in_no_sitemap(client, paper):
    every = "".join(
        client.get(url).content.decode()
        for url in (
            "/sitemap.xml",
            "/sitemap-pages.xml",
            "/sitemap-articles-2026-11.xml",
            "/sitemap-news.xml",
        )
    )

    for page in paper["hidden"]:
        assert page.slug not in every
    assert "november-story" in every


def test_the_pages_file_lists_home_sections_and_the_author_and_topic_pages(client, paper):
    found = locs(xml(client, "/sitemap-pages.xml"))

    assert "http://testserver/" in found
    assert "http://testserver/world/" in found
    assert "http://testserver/authors/ada-reporter/" in found
    assert "http://testserver/topics/shipping/" in found
    assert "http://testserver/authors/" in found
    assert "http://testserver/topics/" in found
    assert not any("story" in url for url in found)


def lastmods(root) -> dict[str, datetime | None]:
    """{location: lastmod} of every entry of a sitemap or an index."""
    found = {}
    for entry in [*root.iterfind("sm:url", NS), *root.iterfind("sm:sitemap", NS)]:
        lastmod = entry.find("sm:lastmod", NS)
        found[entry.find("sm:loc", NS).text] = (
            datetime.fromisoformat(lastmod.text) if lastmod is not None else None
        )
    return found


def test_author_and_topic_pages_are_dated_by_their_newest_live_article(client, paper):
    # given a second author whose newest story is older than Ada's, and a topic whose
    # newest story was unpublished
    ben = make_author("Ben Writer")
    make_article(
        paper["world"],
        "Ben's story",
        authors=[ben],
        topics=["Shipping", "Ports"],
        published_at=datetime(2026, 10, 20, 8, tzinfo=TOKYO),
    )
    withdrawn = make_article(
        paper["world"],
        "Withdrawn ports story",
        authors=[ben],
        topics=["Ports"],
        published_at=datetime(2026, 11, 10, tzinfo=TOKYO),
    )
    withdrawn.unpublish()

    # when a crawler reads the pages file
    dated = lastmods(xml(client, "/sitemap-pages.xml"))

    # then each author and topic page carries the date of its newest live article, and the
    # indexes that of the site's newest
    newest = paper["november"].published_at
    assert dated["http://testserver/authors/ada-reporter/"] == newest
    assert dated["http://testserver/authors/ben-writer/"] == datetime(2026, 10, 20, 8, tzinfo=TOKYO)
    assert dated["http://testserver/topics/shipping/"] == datetime(2026, 10, 20, 8, tzinfo=TOKYO)
    assert dated["http://testserver/topics/ports/"] == datetime(2026, 10, 20, 8, tzinfo=TOKYO)
    assert dated["http://testserver/authors/"] == newest
    assert dated["http://testserver/topics/"] == newest
    assert dated["http://testserver/"] >= newest


def test_the_index_dates_the_pages_file_without_listing_authors_and_topics(client, paper):
    from django.core.cache import cache

    # given a fresh cache
    cache.clear()

    # when a crawler reads the index
    with CaptureQueriesContext(connection) as captured:
        index = lastmods(xml(client, "/sitemap.xml"))

    # then the pages file's date is the latest of the file's own entries, found without
    # reading the authors' or topics' links to articles
    pages = lastmods(xml(client, "/sitemap-pages.xml"))
    assert index["http://testserver/sitemap-pages.xml"] == max(d for d in pages.values() if d)
    read = " ".join(q["sql"] for q in captured)
    assert "news_articleauthor" not in read
    assert "news_articlepagetag" not in read


def test_the_pages_file_is_split_at_the_limit_and_the_index_says_so(client, paper, monkeypatch):
    # given a limit of two URLs a file, below the number of pages, authors and topics
    monkeypatch.setattr(sitemaps.PagesSitemap, "limit", 2)

    # when a crawler reads the index and follows it
    index = locs(xml(client, "/sitemap.xml"))
    files = [url for url in index if "sitemap-pages" in url]
    listed = [locs(xml(client, url.removeprefix("http://testserver"))) for url in files]

    # then every file the index names has its part of the pages, and the next one is 404
    assert files[0] == "http://testserver/sitemap-pages.xml"
    assert files[1:] == [
        f"http://testserver/sitemap-pages.xml?p={n}" for n in range(2, len(files) + 1)
    ]
    assert all(len(urls) == 2 for urls in listed[:-1]) and 1 <= len(listed[-1]) <= 2
    every = [url for urls in listed for url in urls]
    assert "http://testserver/topics/shipping/" in every and len(every) == len(set(every))
    assert client.get(f"/sitemap-pages.xml?p={len(files) + 1}").status_code == 404


def test_an_empty_or_unknown_month_and_odd_page_numbers_are_404(client, paper):
    for url in (
        "/sitemap-articles-2026-09.xml",
        "/sitemap-articles-2026-13.xml",
        "/sitemap-nothing.xml",
        "/sitemap-articles-2026-11.xml?p=2",
        "/sitemap-articles-2026-11.xml?p=0",
        "/sitemap-articles-2026-11.xml?p=abc",
        "/sitemap-articles-2026-11.xml?p=%EF%BC%91",  # a fullwidth 1
    ):
        assert client.get(url).status_code == 404, url


def test_news_sitemap_lists_only_the_last_48_hours(client, paper, time_machine, settings):
    fresh = make_article(paper["world"], "Fresh story", published_at=NOW - timedelta(hours=2))
    older = make_article(paper["world"], "Day old story", published_at=NOW - timedelta(hours=47))
    make_article(paper["world"], "Stale story", published_at=NOW - timedelta(hours=49))

    root = xml(client, "/sitemap-news.xml")

    assert locs(root) == [f"http://testserver{fresh.url}", f"http://testserver{older.url}"]
    first = root.find("sm:url/news:news", NS)
    assert first.find("news:publication/news:name", NS).text == settings.MASTHEAD_SITE_NAME
    assert first.find("news:publication/news:language", NS).text == "en"
    assert first.find("news:title", NS).text == "Fresh story"
    published = datetime.fromisoformat(first.find("news:publication_date", NS).text)
    assert published == NOW - timedelta(hours=2)


def test_a_month_is_split_at_the_limit(client, paper, monkeypatch):
    monkeypatch.setattr(sitemaps.ArticleMonthSitemap, "limit", 1)

    index = locs(xml(client, "/sitemap.xml"))

    assert f"{month_url(2026, 11)}?p=2" in index
    assert f"{month_url(2026, 11)}?p=3" not in index
    first = locs(xml(client, "/sitemap-articles-2026-11.xml"))
    second = locs(xml(client, "/sitemap-articles-2026-11.xml?p=2"))
    assert first == ["http://testserver/world/early-november-story/"]
    assert second == ["http://testserver/world/november-story/"]
    assert client.get("/sitemap-articles-2026-11.xml?p=3").status_code == 404


def test_a_month_file_costs_the_same_queries_for_many_articles_with_pictures(client, paper):
    """Images and their renditions come in bulk: no query per article."""

    def queries():
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/sitemap-articles-2026-10.xml").status_code == 200
        return len(captured)

    queries()  # makes the rendition, as a first view of the article would
    one = queries()
    for n in range(4):
        make_article(
            paper["world"],
            f"October story {n}",
            published_at=datetime(2026, 10, 2 + n, tzinfo=TOKYO),
            lead_image=make_image(f"Picture {n}"),
        )
    queries()
    five = queries()

    assert five == one


def test_sitemaps_are_cached_and_follow_publish_and_unpublish(client, paper):
    url = "/sitemap-articles-2026-11.xml"
    before = locs(xml(client, url))
    with CaptureQueriesContext(connection) as captured:
        assert locs(xml(client, url)) == before
    assert not [q for q in captured if "news_articlepage" in q["sql"]]

    added = make_article(
        paper["world"], "Late story", published_at=datetime(2026, 11, 19, tzinfo=TOKYO)
    )
    assert f"http://testserver{added.url}" in locs(xml(client, url))
    assert month_url(2026, 11) in locs(xml(client, "/sitemap.xml"))

    paper["november"].unpublish()
    after = locs(xml(client, url))
    assert "http://testserver/world/november-story/" not in after
    assert f"http://testserver{added.url}" in after


def test_a_crawler_with_the_current_copy_gets_304(client, paper):
    first = client.get("/sitemap.xml")

    again = client.get("/sitemap.xml", HTTP_IF_NONE_MATCH=first["ETag"])
    since = client.get("/sitemap.xml", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert again.status_code == 304
    assert since.status_code == 304
    assert "public" in first["Cache-Control"]


def reader_of_kind(kind: str, paper, monkeypatch) -> tuple[Client, dict]:
    """A client reading as `kind`, and the headers it sends; checked against the article
    page, so each kind is what it claims to be."""
    client, headers = Client(), {}
    october, november = paper["october"].url, paper["november"].url
    if kind == "exhausted":
        config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
        config.anonymous_allowance = 1
        config.save()
        client.get(paper["early"].url)  # the allowance, spent
        assert SECRET not in client.get(november).content.decode()
    if kind in ("lapsed", "subscriber"):
        reader = make_reader()
        sub = actions.start(
            user=reader, plan=make_plan(), period_end=NOW + timedelta(days=30), now=NOW
        )
        if kind == "lapsed":
            Subscription.objects.filter(pk=sub.pk).update(
                status="expired", current_period_end=NOW - timedelta(days=1)
            )
        client.force_login(reader)
        assert (SECRET in client.get(october).content.decode()) == (kind == "subscriber")
    if kind == "crawler":
        monkeypatch.setattr(context, "crawler_verifier", TrustEveryCrawler)
        headers = {"HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
        assert SECRET in client.get(october, **headers).content.decode()
    return client, headers


@pytest.mark.parametrize("kind", ["anonymous", "exhausted", "lapsed", "subscriber", "crawler"])
def test_no_sentence_of_any_body_is_in_any_sitemap(paper, kind, monkeypatch):
    make_article(paper["world"], "Fresh secret", published_at=NOW - timedelta(hours=1))
    make_article(
        paper["world"],
        "Fresh exclusive",
        published_at=NOW - timedelta(hours=1),
        access="subscribers",
        body=secret_body(),
    )
    urls = ["/sitemap.xml", "/sitemap-pages.xml", "/sitemap-news.xml", "/robots.txt"]
    urls += ["/sitemap-articles-2026-10.xml", "/sitemap-articles-2026-11.xml"]
    client, headers = reader_of_kind(kind, paper, monkeypatch)

    for url in urls:
        text = client.get(url, **headers).content.decode()
        assert SECRET not in text, url
        assert "Open paragraph" not in text, url
    # The subscribers-only stories are listed: their page and teaser are public.
    assert "fresh-exclusive" in client.get("/sitemap-news.xml", **headers).content.decode()
    october = client.get("/sitemap-articles-2026-10.xml", **headers).content.decode()
    assert "october-story" in october


def test_sitemaps_never_read_an_articles_body(client, paper):
    """The sitemap channel may show nothing of a body (access.channels), and the sitemaps'
    queries do not even select the column."""
    from django.core.cache import cache

    from masthead.access.channels import Channel, Visibility, what_may_be_seen

    for access in ("free", "metered", "subscribers"):
        assert what_may_be_seen(Channel.SITEMAP, access) is Visibility.NOTHING
    urls = ["/sitemap.xml", "/sitemap-pages.xml", "/sitemap-news.xml"]
    urls += ["/sitemap-articles-2026-10.xml", "/sitemap-articles-2026-11.xml"]
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        for url in urls:
            assert client.get(url).status_code == 200, url

    assert captured
    assert not [q["sql"] for q in captured if '"news_articlepage"."body"' in q["sql"]]


def test_every_reader_and_a_crawler_get_the_same_sitemaps(client, paper):
    """One answer for everybody: a subscriber and a search engine's user agent are sent the
    bytes an anonymous reader gets, so no entitlement could ever add body text."""
    from django.core.cache import cache
    from django.test import Client

    from masthead.subscriptions import actions
    from tests.integration.subscription_factories import make_plan, make_reader

    subscriber = make_reader()
    actions.start(user=subscriber, plan=make_plan(), period_end=NOW + timedelta(days=30), now=NOW)
    signed_in = Client()
    signed_in.force_login(subscriber)
    crawler = Client(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")
    urls = ["/sitemap.xml", "/sitemap-pages.xml", "/sitemap-news.xml"]
    urls += ["/sitemap-articles-2026-10.xml", "/sitemap-articles-2026-11.xml"]

    def fresh(reader, url):  # rendered for this reader, not the cache's copy
        cache.clear()
        return reader.get(url).content

    for url in urls:
        anonymous = fresh(client, url)
        assert fresh(signed_in, url) == anonymous, url
        assert fresh(crawler, url) == anonymous, url
        assert SECRET.encode() not in anonymous


def test_robots_txt_has_the_default_rules_and_the_sitemap_lines(client, paper):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "User-agent: *\nDisallow: /admin/" in text
    assert "Disallow: /subscribe/checkout/" in text
    assert text.endswith(
        "Sitemap: http://testserver/sitemap.xml\nSitemap: http://testserver/sitemap-news.xml\n"
    )
    assert not RobotsSettings.objects.exists()  # reading it created no row


def test_robots_txt_follows_the_saved_setting(client, paper):
    client.get("/robots.txt")
    setting = RobotsSettings.for_site(Site.objects.get(is_default_site=True))
    setting.rules = "User-agent: *\nDisallow: /private/\n"
    setting.save()

    text = client.get("/robots.txt").content.decode()

    assert text.startswith("User-agent: *\nDisallow: /private/\n\nSitemap: ")
    assert "/admin/" not in text


def test_the_admin_refuses_rules_crawlers_do_not_know(admin_client, paper):
    site = Site.objects.get(is_default_site=True)
    url = f"/admin/settings/news/robotssettings/{site.pk}/"

    refused = admin_client.post(url, {"rules": "User-agent: *\nDisalow: /x/\nSitemap: /a.xml"})
    accepted = admin_client.post(url, {"rules": "User-agent: *\nDisallow: /x/\n# fine"})

    assert refused.status_code == 200
    page = refused.content.decode()
    assert "Line 2:" in page and "Disalow: /x/" in page
    assert "Line 3:" in page and "Sitemap lines" in page
    assert accepted.status_code == 302
    assert RobotsSettings.objects.get(site=site).rules.startswith("User-agent: *\nDisallow: /x/")
