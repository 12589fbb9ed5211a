"""Feeds: RSS 2.0 and Atom for the site, sections, series, authors and topics, and private
full-text feeds. Both are channels: a unique sentence in each paywalled part never reaches a
public feed, whoever asks, and reaches a private feed exactly while its owner is entitled."""

import re
from datetime import timedelta

import feedparser
import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.test import Client, override_settings
from wagtail.rich_text import RichText

from masthead.access import context
from masthead.readers.models import PrivateFeed
from masthead.readers.private_feeds import digest
from masthead.subscriptions import actions
from tests.crawlers import TrustEveryCrawler
from tests.factories import make_article, make_author
from tests.indexing import indexed_once
from tests.integration.subscription_factories import NOW, make_plan, make_reader
from tests.snapshots import restore_or_build, take_on_postgresql

pytestmark = pytest.mark.django_db

METERED_SECRET = "The harbour master kept a second ledger"
EXCLUSIVE_SECRET = "Nine tankers changed their flags at sea"


def story(secret):
    """Eight paragraphs; the sentence only from the sixth on (the teaser is two)."""
    return [
        (
            "paragraph",
            RichText(
                "".join(
                    f"<p>Story paragraph {n}.{f' {secret}.' if n >= 6 else ''}</p>"
                    for n in range(1, 9)
                )
            ),
        )
    ]


def add_paper(site):
    with indexed_once():
        reporter = make_author("Cleo Digger")
        metered = make_article(
            site["world"],
            "Ledger of the harbour",
            authors=[reporter],
            body=story(METERED_SECRET),
            topics=["Shipping"],
        )
        exclusive = make_article(
            site["business"],
            "Flags of convenience",
            authors=[reporter],
            body=story(EXCLUSIVE_SECRET),
            access="subscribers",
            topics=["Shipping", "Korea"],
            series=site["series"],
        )
        return {**site, "reporter": reporter, "metered": metered, "exclusive": exclusive}


@pytest.fixture(scope="session")
def _paper_snapshot(_site_snapshot, django_db_blocker):
    return take_on_postgresql(add_paper, django_db_blocker, base=_site_snapshot, at=NOW)


@pytest.fixture
def paper(site, at, _paper_snapshot):
    return restore_or_build(_paper_snapshot, add_paper, on=site)


def parse(response):
    assert response.status_code == 200, response.status_code
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def text_of(parsed) -> str:
    """Every representation an entry has: summary, content, title, links."""
    parts = []
    for entry in parsed.entries:
        parts += [entry.get("title", ""), entry.get("summary", "")]
        parts += [c.value for c in entry.get("content", [])]
    return "\n".join(parts)


def subscribe(reader, days=30):
    plan = make_plan()
    actions.start(user=reader, plan=plan, period_end=NOW + timedelta(days=days), now=NOW)


# --- public feeds -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/feed/", "/feed/atom/"])
def test_the_site_feed_lists_every_article_with_its_facts(paper, client, path):
    parsed = parse(client.get(path))
    assert parsed.version == ("rss20" if path == "/feed/" else "atom10")
    assert len(parsed.entries) == 6
    entry = next(e for e in parsed.entries if e.title == "Flags of convenience")
    assert entry.link == "http://testserver" + paper["exclusive"].url
    assert "The deck of Flags of convenience" in entry.summary
    assert "Story paragraph 1." in entry.summary and "Story paragraph 2." in entry.summary
    assert "Story paragraph 3." not in entry.summary
    assert entry.author == "Cleo Digger"
    assert {t.term for t in entry.tags} == {"Shipping", "Korea"}
    assert entry.published_parsed
    if path == "/feed/atom/":
        assert "updated_parsed" in entry
    lead = next(e for e in parsed.entries if e.title == "Seoul and Jakarta sign pact")
    images = [link for link in lead.links if link.rel == "enclosure"]
    assert len(images) == 1 and images[0].type == "image/jpeg"
    assert images[0].href.startswith("http://testserver/") and images[0].href.endswith(".jpg")
    assert int(images[0].length) > 0


PUBLIC_FEEDS = [
    "/feed/",
    "/feed/atom/",
    "/rss/",
    "/world/feed/",
    "/business/feed/atom/",
    "/series/southern-compass/feed/",
    "/authors/cleo-digger/feed/",
    "/authors/cleo-digger/feed/atom/",
    "/topics/shipping/feed/",
]


@pytest.mark.parametrize("kind", ["anonymous", "exhausted", "lapsed", "subscriber", "crawler"])
def test_no_public_feed_carries_a_paywalled_sentence_whoever_asks(paper, at, kind, monkeypatch):
    # given
    client = Client()
    headers = {}
    if kind == "exhausted":
        for article in ("lead", "earlier", "topical", "metered"):
            client.get(paper[article].url)
    if kind in ("lapsed", "subscriber"):
        reader = make_reader()
        subscribe(reader, days=30 if kind == "subscriber" else 1)
        client.force_login(reader)
        at(NOW + timedelta(days=2))
        assert (EXCLUSIVE_SECRET in client.get(paper["exclusive"].url).content.decode()) == (
            kind == "subscriber"
        )
    if kind == "crawler":
        # a verified search crawler: the article page gives it every word
        monkeypatch.setattr(context, "crawler_verifier", TrustEveryCrawler)
        headers = {"HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
        page = client.get(paper["exclusive"].url, **headers).content.decode()
        assert EXCLUSIVE_SECRET in page
    for path in PUBLIC_FEEDS:
        # when
        response = client.get(path, follow=True, **headers)
        # then
        received = response.content.decode()
        text = text_of(parse(response))
        for secret in (METERED_SECRET, EXCLUSIVE_SECRET):
            assert secret not in received and secret not in text, (kind, path)
        assert "Story paragraph 2." in text, (kind, path)
        assert "Story paragraph 6." not in text, (kind, path)


def test_a_free_article_is_whole_in_the_public_feed(paper, client):
    text = text_of(parse(client.get("/business/feed/")))
    # the sponsored story is free: all ten paragraphs of the factory body
    assert "Paragraph 10 text." in text


PACT, AID = "Seoul and Jakarta sign pact", "Seoul pledges aid"
LEDGER, FLAGS = "Ledger of the harbour", "Flags of convenience"


@pytest.mark.parametrize(
    ("path", "titles"),
    [
        ("/world/feed/", {LEDGER, PACT, AID}),
        ("/series/southern-compass/feed/atom/", {FLAGS, PACT, AID}),
        ("/authors/cleo-digger/feed/", {LEDGER, FLAGS}),
        ("/topics/korea/feed/atom/", {FLAGS, PACT, "Shipyards boom"}),
    ],
)
def test_section_series_author_and_topic_feeds_hold_their_own_articles(paper, client, path, titles):
    parsed = parse(client.get(path))
    assert {e.title for e in parsed.entries} == titles
    assert parsed.feed.title.startswith(settings.MASTHEAD_SITE_NAME + ": ")


@pytest.mark.parametrize("path", ["/authors/nobody/feed/", "/topics/nothing/feed/atom/"])
def test_an_unknown_author_or_topic_has_no_feed(paper, client, path):
    assert client.get(path).status_code == 404


def test_rss_is_a_permanent_redirect_to_the_site_feed(paper, client):
    response = client.get("/rss/")
    assert response.status_code == 301 and response["Location"].endswith("/feed/")


def test_public_feeds_are_cacheable_and_answer_conditional_requests(paper, client):
    first = client.get("/feed/")
    assert "public" in first["Cache-Control"] and "max-age=300" in first["Cache-Control"]
    assert first["Content-Type"].startswith("application/rss+xml")
    assert first["ETag"] and first["Last-Modified"]
    assert "Set-Cookie" not in first.headers
    unchanged = client.get("/feed/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304 and not unchanged.content
    since = client.get("/feed/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    other = client.get("/feed/", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200


def test_publishing_an_article_changes_the_cached_feed(paper, client):
    before = client.get("/feed/")
    make_article(paper["world"], "Late edition")
    after = client.get("/feed/", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert "Late edition" in {e.title for e in parse(after).entries}


def test_unpublishing_an_article_takes_it_out_of_the_feed(paper, client):
    client.get("/world/feed/")
    paper["metered"].unpublish()
    titles = {e.title for e in parse(client.get("/world/feed/")).entries}
    assert "Ledger of the harbour" not in titles


@pytest.mark.parametrize(
    ("page", "own"),
    [
        ("/", None),
        ("/world/", "/world/feed/"),
        ("/series/southern-compass/", "/series/southern-compass/feed/"),
        ("/authors/cleo-digger/", "/authors/cleo-digger/feed/"),
        ("/topics/shipping/", "/topics/shipping/feed/"),
    ],
)
def test_pages_announce_their_feeds_for_autodiscovery(paper, client, page, own):
    response = client.get(page)
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    found = {(link["type"], link["href"]) for link in soup.select('head link[rel="alternate"]')}
    assert ("application/rss+xml", "/feed/") in found
    assert ("application/atom+xml", "/feed/atom/") in found
    if own:
        assert ("application/rss+xml", own) in found
        assert ("application/atom+xml", own + "atom/") in found
        assert client.get(own).status_code == 200
    else:
        assert len(found) == 2


# --- private feeds ------------------------------------------------------------------------

FEED_URL = re.compile(r'value="http://testserver(/feed/private/[A-Za-z0-9_-]{43}/)"')
ATOM_URL = re.compile(r'value="http://testserver(/feed/private/[A-Za-z0-9_-]{43}/atom/)"')
# The private feed's formats: the path's tail after the RSS address, and feedparser's name.
PRIVATE_FORMATS = [("", "rss20"), ("atom/", "atom10")]


def make_feed(client) -> str:
    """The reader asks for their feed on the account page; the RSS path, shown once with
    the Atom path beside it."""
    account = client.get("/account/")
    assert "Your private feed" in account.content.decode()
    response = client.post("/account/feed/", {"action": "make"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    rss = FEED_URL.search(page).group(1)
    assert ATOM_URL.search(page).group(1) == rss + "atom/"
    return rss


@pytest.fixture
def subscriber(paper, at):
    reader = make_reader()
    subscribe(reader, days=30)
    client = Client()
    client.force_login(reader)
    return reader, client


@pytest.mark.parametrize(("tail", "version"), PRIVATE_FORMATS)
def test_a_subscribers_private_feed_carries_the_whole_text(subscriber, tail, version):
    # given
    _, browser = subscriber
    path = make_feed(browser) + tail
    # when: a feed reader, with no cookie of the reader's
    response = Client().get(path)
    # then
    parsed = parse(response)
    assert parsed.version == version
    text = text_of(parsed)
    assert METERED_SECRET in text and EXCLUSIVE_SECRET in text
    assert "Story paragraph 8." in text
    assert len(parsed.entries) == 6
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(("tail", "version"), PRIVATE_FORMATS)
@pytest.mark.parametrize("kind", ["reader", "exhausted", "lapsed", "subscriber"])
def test_a_private_feed_carries_a_paywalled_sentence_only_while_its_owner_may_read_it(
    paper, at, monkeypatch, kind, tail, version
):
    # given an owner of each kind, whose feed a verified crawler fetches (a crawler reads
    # every story on the site: its own decision must not leak into the owner's feed)
    owner = make_reader()
    if kind in ("lapsed", "subscriber"):
        subscribe(owner, days=30 if kind == "subscriber" else 1)
    browser = Client()
    browser.force_login(owner)
    if kind == "exhausted":
        for article in ("lead", "earlier", "topical", "metered"):
            browser.get(paper[article].url)
    path = make_feed(browser) + tail
    at(NOW + timedelta(days=2))
    monkeypatch.setattr(context, "crawler_verifier", TrustEveryCrawler)
    # when
    response = Client().get(path, HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")
    # then the sentences are there exactly for the subscriber, in any representation
    parsed = parse(response)
    assert parsed.version == version
    received, text = response.content.decode(), text_of(parsed)
    for secret in (METERED_SECRET, EXCLUSIVE_SECRET):
        assert (secret in received) == (kind == "subscriber"), (kind, secret)
        assert (secret in text) == (kind == "subscriber"), (kind, secret)
    assert "Story paragraph 2." in text


def test_the_secret_is_stored_only_as_its_hash(subscriber):
    reader, browser = subscriber
    path = make_feed(browser)
    secret = path.split("/")[-2]
    stored = PrivateFeed.objects.get(user=reader)
    assert stored.secret_hash == digest(secret) and secret not in stored.secret_hash
    assert secret not in browser.get("/account/").content.decode()


@pytest.mark.parametrize(("tail", "version"), PRIVATE_FORMATS)
def test_a_lapsed_subscribers_feed_falls_back_to_teasers(subscriber, at, tail, version):
    # given
    _, browser = subscriber
    path = make_feed(browser) + tail
    assert EXCLUSIVE_SECRET in text_of(parse(Client().get(path)))
    # when the subscription has ended
    at(NOW + timedelta(days=31))
    response = Client().get(path)
    # then: neither sentence, in the raw XML or any parsed field
    text = text_of(parse(response))
    for secret in (METERED_SECRET, EXCLUSIVE_SECRET):
        assert secret not in text and secret not in response.content.decode()
    assert "Story paragraph 2." in text and "Story paragraph 3." not in text


@pytest.mark.parametrize(("tail", "version"), PRIVATE_FORMATS)
def test_a_private_feed_never_spends_the_owners_meter(paper, at, tail, version):
    reader = make_reader()
    browser = Client()
    browser.force_login(reader)
    path = make_feed(browser) + tail
    for _ in range(3):
        response = Client().get(path)
        text = text_of(parse(response))
        assert METERED_SECRET not in text and METERED_SECRET not in response.content.decode()
        assert EXCLUSIVE_SECRET not in response.content.decode()
    # the reader still reads metered stories in full on the site
    assert METERED_SECRET in browser.get(paper["metered"].url).content.decode()


def test_reset_and_turning_off_make_the_old_address_a_404(subscriber):
    _, browser = subscriber
    old = make_feed(browser)
    new = make_feed(browser)
    assert old != new
    assert Client().get(old).status_code == 404
    assert Client().get(old + "atom/").status_code == 404
    assert Client().get(new).status_code == 200
    assert Client().get(new + "atom/").status_code == 200
    response = browser.post("/account/feed/", {"action": "off"})
    assert response.status_code == 302
    assert Client().get(new).status_code == 404
    assert Client().get(new + "atom/").status_code == 404


def test_signing_out_everywhere_revokes_the_feed(subscriber):
    _, browser = subscriber
    path = make_feed(browser)
    assert browser.post("/account/sign-out/everywhere/").status_code == 302
    assert Client().get(path).status_code == 404
    assert Client().get(path + "atom/").status_code == 404


@pytest.mark.parametrize("secret", ["x", "A" * 43, "../../feed", "%00", "A" * 500, "ÄÖÜ" * 15])
def test_a_wrong_secret_is_a_404(subscriber, secret):
    make_feed(subscriber[1])
    assert Client().get(f"/feed/private/{secret}/").status_code == 404
    assert Client().get(f"/feed/private/{secret}/atom/").status_code == 404


@override_settings(MASTHEAD_PRIVATE_FEED_LIMIT=(3, 3600))
def test_each_private_feed_is_rate_limited(subscriber):
    _, browser = subscriber
    path = make_feed(browser)
    for tail in ("", "atom/", ""):
        assert Client().get(path + tail).status_code == 200
    # the Atom address counts with the RSS one: it is the same feed
    refused = Client().get(path + "atom/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "private" in refused["Cache-Control"]
    assert Client().get(path).status_code == 429
    # another reader's feed has its own count
    other = make_reader()
    subscribe(other)
    other_browser = Client()
    other_browser.force_login(other)
    assert Client().get(make_feed(other_browser)).status_code == 200


def test_the_account_page_offers_to_reset_or_turn_off_a_feed(subscriber):
    _, browser = subscriber
    assert "Get your feed address" in browser.get("/account/").content.decode()
    make_feed(browser)
    page = browser.get("/account/").content.decode()
    assert "Get a new feed address" in page and "Turn the feed off" in page


def test_making_a_feed_needs_a_signed_in_reader_and_a_post(paper, client):
    assert client.post("/account/feed/", {"action": "make"}).status_code == 302
    assert not PrivateFeed.objects.exists()
    reader = make_reader()
    client.force_login(reader)
    assert client.get("/account/feed/").status_code == 405
