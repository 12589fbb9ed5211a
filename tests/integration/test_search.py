"""Site search at /search/ (masthead.news.search), on SQLite's FTS5 and PostgreSQL's full-text
search alike: results with their headline, deck, section, date, authors and a marked
snippet; filters, orders and pages; bad input answered with a page, never a 500; and the
leak test: a sentence of the paywalled part is neither findable nor shown, for any reader."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Site
from wagtail.rich_text import RichText

from masthead.access import context
from masthead.access.models import MeterSettings
from masthead.news import search, search_index
from masthead.news.search import MAX_PAGES, PAGE_SIZE
from masthead.subscriptions import actions
from tests.crawlers import TrustEveryCrawler
from tests.factories import make_article
from tests.indexing import indexed_once
from tests.integration.subscription_factories import make_plan, make_reader

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

SECRET = "Quorvath pelmarine subsidies were quietly doubled"  # only in paywalled parts
TEASER = "Zanthor shipyards opened their books"  # in the teaser of the same stories


def soup_of(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def results(response) -> list[str]:
    return [h.get_text() for h in soup_of(response).select(".search-result__headline")]


def story_body(first_paragraph: str):
    paragraphs = [first_paragraph, "Second paragraph of the teaser."]
    paragraphs += [f"Paragraph {n}. {SECRET} in paragraph {n}." for n in range(3, 9)]
    return [("paragraph", RichText("".join(f"<p>{p}</p>" for p in paragraphs)))]


@pytest.fixture
def meter(site):
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = 1
    config.teaser_paragraphs = 2
    config.save()
    return config


@pytest.fixture
def stories(site, meter):
    """A metered, a subscribers-only and a free story, each with SECRET after the teaser."""
    with indexed_once():
        return {
            access: make_article(
                site["world"],
                f"Harbour {access} story",
                body=story_body(f"{TEASER} in the {access} story."),
                access=access,
            )
            for access in ("metered", "subscribers", "free")
        }


def subscriber_client() -> Client:
    reader = make_reader()
    now = timezone.now()
    actions.start(user=reader, plan=make_plan(), period_end=now + timedelta(days=30), now=now)
    client = Client()
    client.force_login(reader)
    return client


def exhausted_client(site) -> Client:
    client = Client()
    assert client.get(site["earlier"].url).status_code == 200  # the one free article
    return client


# --- results ---------------------------------------------------------------------------


def test_a_result_shows_headline_deck_section_date_authors_and_a_marked_snippet(site, client):
    page = soup_of(client.get("/search/", {"q": "seoul jakarta"}))
    (result,) = page.select(".search-result")
    assert result.select_one(".search-result__headline a")["href"] == site["lead"].url
    assert [m.get_text() for m in result.select(".search-result__headline mark")] == [
        "Seoul",
        "Jakarta",
    ]
    assert "The deck of Seoul and Jakarta sign pact" in result.get_text()
    meta = result.select_one(".search-result__meta")
    assert "World" in meta.get_text() and "Ada Reporter" in meta.get_text()
    assert "Ben Writer" in meta.get_text()
    assert meta.select_one("time")["datetime"].startswith(str(timezone.localdate().year))
    assert "Paragraph 1 text." in result.select_one(".search-result__snippet").get_text()


def test_the_page_is_titled_with_the_query_and_kept_out_of_search_engines(site, client):
    page = soup_of(client.get("/search/", {"q": "korea"}))
    assert page.title.get_text() == f"Search: korea | {settings.MASTHEAD_SITE_NAME}"
    assert page.select_one('meta[name="robots"]')["content"] == "noindex"


def test_the_site_header_offers_the_search_form(site, client):
    page = soup_of(client.get(site["home"].url))
    form = page.select_one("form.site-search")
    assert form["action"] == "/search/"
    assert page.select_one("label[for=site-search-q]") is not None


def test_topics_and_authors_are_searchable(site, client):
    assert sorted(results(client.get("/search/", {"q": "defence"}))) == [
        "Seoul and Jakarta sign pact",
        "Shipyards boom",
    ]
    assert "Shipyards boom" in results(client.get("/search/", {"q": "ben writer"}))


def test_a_phrase_matches_only_words_in_that_order(site, client):
    assert results(client.get("/search/", {"q": '"sign pact"'})) == ["Seoul and Jakarta sign pact"]
    assert results(client.get("/search/", {"q": '"pact sign"'})) == []


def test_a_sponsored_result_is_labelled(site, client):
    page = soup_of(client.get("/search/", {"q": "ports automatic"}))
    assert "Sponsored" in page.select_one(".search-result .label--sponsored").get_text()


def test_a_story_published_now_is_found_at_once(site, client):
    assert results(client.get("/search/", {"q": "typhoon"})) == []
    make_article(site["world"], "Typhoon closes the port")
    assert results(client.get("/search/", {"q": "typhoon"})) == ["Typhoon closes the port"]


def test_a_search_asked_again_is_answered_from_the_cache_until_a_story_changes(site, client):
    with CaptureQueriesContext(connection) as first:
        assert results(client.get("/search/", {"q": "shipyards"})) == ["Shipyards boom"]
    with CaptureQueriesContext(connection) as again:
        assert results(client.get("/search/", {"q": "shipyards"})) == ["Shipyards boom"]
    assert any("wagtailsearch_indexentry" in q["sql"] for q in first.captured_queries)
    assert not any("wagtailsearch_indexentry" in q["sql"] for q in again.captured_queries)
    site["topical"].unpublish()
    assert results(client.get("/search/", {"q": "shipyards"})) == []


def test_an_article_saved_again_offers_the_search_its_new_text(site, meter):
    # given a free story whose whole body the search may index, its texts read once
    story = make_article(site["world"], "Open story", access="free", body=story_body(TEASER))
    story = type(story).objects.get(pk=story.pk)
    assert SECRET in story.search_body_text()

    # when the same instance is made metered and saved
    story.access = "metered"
    story.save()

    # then what it offers the index is the teaser alone, not the texts it read before
    assert TEASER in story.search_body_text()
    assert SECRET not in story.search_body_text()


def test_update_index_rebuilds_the_same_index(site, client):
    call_command("update_index", stdout=None, verbosity=0)
    assert results(client.get("/search/", {"q": "shipyards"})) == ["Shipyards boom"]


def test_a_new_teaser_length_reindexes_the_articles_in_the_background(
    site, meter, client, django_capture_on_commit_callbacks
):
    # given a metered story whose second and third paragraphs each have a word of their own,
    # indexed with a teaser of two paragraphs
    paragraphs = ["Opening words.", "Brellwick quays reopened.", "Tomvaric cranes stood idle."]
    body = [("paragraph", RichText("".join(f"<p>{p}</p>" for p in paragraphs * 2)))]
    make_article(site["world"], "Harbour rebuilt", body=body, access="metered")
    assert results(client.get("/search/", {"q": "brellwick"})) == ["Harbour rebuilt"]
    assert results(client.get("/search/", {"q": "tomvaric"})) == []
    # when the teaser is made three paragraphs long
    with django_capture_on_commit_callbacks(execute=True):
        meter.teaser_paragraphs = 3
        meter.save()
    # then the task (run at once by the test settings' task backend) has indexed the new
    # teaser: its third paragraph is found, and a search kept from before is not reused
    assert results(client.get("/search/", {"q": "tomvaric"})) == ["Harbour rebuilt"]
    # when it is made one paragraph long
    with django_capture_on_commit_callbacks(execute=True):
        meter.teaser_paragraphs = 1
        meter.save()
    # then only the first paragraph is found
    assert results(client.get("/search/", {"q": "brellwick"})) == []
    assert results(client.get("/search/", {"q": "tomvaric"})) == []
    assert results(client.get("/search/", {"q": "opening"})) == ["Harbour rebuilt"]


def test_only_a_new_teaser_length_queues_the_reindexing(
    site, meter, monkeypatch, django_capture_on_commit_callbacks
):
    # given a task queue that records what is queued
    queued = []
    recorder = SimpleNamespace(enqueue=lambda **kwargs: queued.append(kwargs))
    monkeypatch.setattr(search_index, "reindex_teasers", recorder)
    # when only the allowance changes
    with django_capture_on_commit_callbacks(execute=True):
        meter.anonymous_allowance = 5
        meter.save()
    # then nothing is queued
    assert queued == []
    # when the teaser length changes
    with django_capture_on_commit_callbacks(execute=True):
        meter.teaser_paragraphs = 4
        meter.save()
    # then the site's reindexing is queued once
    assert queued == [{"site_id": meter.site_id}]


# --- the leak test ---------------------------------------------------------------------


def lapsed_client() -> Client:
    reader = make_reader()
    now = timezone.now()
    started = now - timedelta(days=90)
    actions.start(user=reader, plan=make_plan(), period_end=now - timedelta(days=60), now=started)
    client = Client()
    client.force_login(reader)
    return client


def crawler_client(monkeypatch) -> Client:
    monkeypatch.setattr(context, "crawler_verifier", TrustEveryCrawler)
    return Client(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")


READERS = ["anonymous", "exhausted", "lapsed", "subscriber", "crawler"]


@pytest.mark.parametrize("who", READERS)
def test_a_sentence_of_a_paywalled_part_is_never_found_nor_shown(stories, site, who, monkeypatch):
    # given a reader of each kind; the subscriber and the verified crawler may read every
    # word of the subscribers-only story on its page, the others may not
    client = {
        "anonymous": Client,
        "exhausted": lambda: exhausted_client(site),
        "lapsed": lapsed_client,
        "subscriber": subscriber_client,
        "crawler": lambda: crawler_client(monkeypatch),
    }[who]()
    page_text = client.get(stories["subscribers"].url).content.decode()
    assert ("Quorvath" in page_text) == (who in ("subscriber", "crawler"))
    # when they search for the paywalled sentence
    secret = client.get("/search/", {"q": SECRET})
    # then only the free story, whose whole body is public, is found
    assert results(secret) == ["Harbour free story"]
    for hidden in (stories["metered"], stories["subscribers"]):
        assert hidden.url not in secret.content.decode()
    # when they search the teaser
    teaser = client.get("/search/", {"q": "zanthor shipyards"})
    # then all three are found, and no snippet of a paywalled story holds the sentence
    assert sorted(results(teaser)) == [
        "Harbour free story",
        "Harbour metered story",
        "Harbour subscribers story",
    ]
    for result in soup_of(teaser).select(".search-result"):
        text = result.get_text(" ")
        assert TEASER in " ".join(text.split())
        if "free" not in result.select_one(".search-result__headline").get_text():
            assert "Quorvath" not in text and "pelmarine" not in text
    # and nowhere on a page of results, in any markup, is a paywalled sentence
    for access in ("metered", "subscribers"):
        response = client.get("/search/", {"q": f"harbour {access}"})
        assert "Quorvath" not in response.content.decode()


# --- filters, order, pages ------------------------------------------------------------


ALL_SEOUL = [
    "Ports go automatic",
    "Seoul and Jakarta sign pact",
    "Seoul pledges aid",
    "Shipyards boom",
]


def found(client, **params) -> list[str]:
    """The headlines found, sorted (every story of the test site has the SEOUL dateline)."""
    return sorted(results(client.get("/search/", params)))


def test_filters_by_section_author_topic_and_dates(site, client):
    assert found(client, q="jakarta", section="business") == []
    assert found(client, q="seoul", section="business") == ["Ports go automatic", "Shipyards boom"]
    assert found(client, q="seoul", author="ada-reporter") == [
        "Ports go automatic",
        "Seoul and Jakarta sign pact",
        "Seoul pledges aid",
    ]
    assert found(client, q="seoul", author="ben-writer") == [
        "Seoul and Jakarta sign pact",
        "Shipyards boom",
    ]
    assert found(client, q="seoul", topic="korea") == [
        "Seoul and Jakarta sign pact",
        "Shipyards boom",
    ]
    today = timezone.localdate()
    assert found(client, q="seoul", **{"from": str(today - timedelta(days=2))}) == [
        "Ports go automatic",
        "Seoul and Jakarta sign pact",
    ]
    assert found(client, q="seoul", to=str(today - timedelta(days=4))) == ["Shipyards boom"]
    both = {"from": str(today - timedelta(days=4)), "to": str(today - timedelta(days=2))}
    assert found(client, q="seoul", **both) == ["Seoul pledges aid"]


@pytest.mark.parametrize(
    "params",
    [
        {"section": "nowhere"},
        {"author": "nobody"},
        {"topic": "x" * 500},
        {"from": "2026-02-30"},
        {"to": "yesterday"},
        {"from": "99999-01-01"},
        {"to": "9999-12-31"},
        {"from": "0001-01-01"},
        {"sort": "random"},
        {"section": "\x00"},
    ],
)
def test_a_filter_that_names_nothing_is_left_out(site, client, params):
    assert found(client, q="seoul", **params) == ALL_SEOUL


def test_dates_given_the_wrong_way_round_are_taken_the_right_way(site, client):
    today = timezone.localdate()
    params = {"from": str(today - timedelta(days=2)), "to": str(today - timedelta(days=4))}
    assert found(client, q="seoul", **params) == ["Seoul pledges aid"]


def test_sort_by_date_puts_the_newest_first(site, client):
    make_article(site["world"], "Seoul seoul seoul archive", days_ago=30)
    assert results(client.get("/search/", {"q": "seoul", "sort": "date"})) == [
        "Seoul and Jakarta sign pact",
        "Ports go automatic",
        "Seoul pledges aid",
        "Shipyards boom",
        "Seoul seoul seoul archive",
    ]


def test_results_come_in_pages_of_twenty(site, client):
    for n in range(PAGE_SIZE + 3):
        make_article(site["business"], f"Monsoon report {n}", days_ago=n + 10)
    first = client.get("/search/", {"q": "monsoon", "sort": "date"})
    second = client.get("/search/", {"q": "monsoon", "sort": "date", "page": "2"})
    assert len(results(first)) == PAGE_SIZE
    assert results(second) == [f"Monsoon report {n}" for n in range(PAGE_SIZE, PAGE_SIZE + 3)]
    assert "23 results" in soup_of(first).select_one(".search-count").get_text()
    next_link = soup_of(first).select_one(".pagination a[rel=next]")["href"]
    assert "q=monsoon" in next_link and "page=2" in next_link and "sort=date" in next_link
    assert client.get("/search/", {"q": "monsoon", "page": "3"}).status_code == 404


def test_with_more_matches_than_are_shown_the_newest_are_ranked_and_the_count_says_more(
    site, client, monkeypatch
):
    # given six matching stories, the oldest the most relevant, and room for four results
    monkeypatch.setattr(search, "SHOWN", 4)
    make_article(site["business"], "Monsoon monsoon monsoon", days_ago=40)
    for n in range(5):
        make_article(site["business"], f"Monsoon report {n}", days_ago=n + 10)
    # when searching by relevance
    page = soup_of(client.get("/search/", {"q": "monsoon"}))
    # then only the newest four come, ranked among themselves, and the count says more
    shown = [h.get_text() for h in page.select(".search-result__headline")]
    assert sorted(shown) == [f"Monsoon report {n}" for n in range(4)]
    assert page.select_one(".search-count").get_text().startswith("More than 4 results")


@pytest.mark.parametrize(
    "page", ["0", "-1", "10" * 10, "abc", "２", "1.5", "", " 1", str(MAX_PAGES + 1)]
)
def test_a_page_number_that_is_not_one_is_a_404_never_a_500(site, client, page):
    assert client.get("/search/", {"q": "seoul", "page": page}).status_code == 404


def test_a_repeated_page_is_a_404_and_a_repeated_query_uses_the_first(site, client):
    assert client.get("/search/?q=seoul&page=1&page=2").status_code == 404
    assert results(client.get("/search/?q=shipyards&q=seoul")) == ["Shipyards boom"]


# --- bad input -------------------------------------------------------------------------


def test_an_empty_query_shows_the_form_and_the_latest_articles(site, client):
    page = soup_of(client.get("/search/"))
    assert page.select_one("label[for=search-q]").get_text() == "Search for"
    latest = [a.get_text() for a in page.select(".search-recent h3 a")]
    assert latest[0] == "Seoul and Jakarta sign pact"
    assert page.title.get_text() == f"Search | {settings.MASTHEAD_SITE_NAME}"


def test_a_huge_query_is_cut_and_the_page_says_so(site, client):
    response = client.get("/search/", {"q": "seoul " + "pact " * 2000})
    page = soup_of(response)
    assert "only its first words were used" in page.select_one(".search-notice").get_text()
    assert len(page.select_one("#search-q")["value"]) <= 200
    assert results(response) == ["Seoul and Jakarta sign pact"]


def test_control_characters_are_left_out(site, client):
    assert results(client.get("/search/", {"q": "ship\x00yards\x1b boom\u200b"})) == []
    assert results(client.get("/search/", {"q": "\x00shipyards\x07"})) == ["Shipyards boom"]


@pytest.mark.parametrize("q", ['"', '""', "-", "*", "OR", "()", ":", "AND NOT", "^~", "'", "-*:"])
def test_a_query_of_only_operators_asks_for_words(site, client, q):
    page = soup_of(client.get("/search/", {"q": q}))
    assert "no words to look for" in page.select_one(".search-notice").get_text()


@pytest.mark.parametrize(
    "q",
    [
        'seoul"',
        '"seoul',
        'sign "pact',
        "seoul -pact",
        "seoul*",
        "seoul OR jakarta",
        "(seoul)",
        "seoul's",
        "Seoul’s",
        "\\seoul",
        "ｓｅｏｕｌ",
        "sign^pact",
    ],
)
def test_search_syntax_is_taken_as_words(site, client, q):
    assert "Seoul and Jakarta sign pact" in results(client.get("/search/", {"q": q}))


@pytest.mark.parametrize("q", ["title:seoul", "NEAR(seoul jakarta)", "seoul AND NOT pact"])
def test_an_engines_operators_are_words_too(site, client, q):
    """Every word must match: "title" and "near" are in no article; AND and NOT are dropped."""
    found = results(client.get("/search/", {"q": q}))
    assert found == (["Seoul and Jakarta sign pact"] if "pact" in q else [])


def test_no_results_offers_suggestions(site, client):
    page = soup_of(client.get("/search/", {"q": "xylophone", "section": "world"}))
    empty = page.select_one(".search-empty")
    assert "No articles match" in empty.get_text()
    links = {a.get_text(): a["href"] for a in empty.select("a")}
    assert links["World"] == site["world"].url
    assert links["Korea"] == "/topics/korea/"
    assert "section" not in links["Search again without the filters"]
    assert "q=xylophone" in links["Search again without the filters"]
