"""The metered paywall as a reader's browser meets it: the count falling, the paywall, free
re-reads, the monthly reset, a free-access window, subscribers-only stories, and the same
journey without JavaScript. What is withheld must be absent from the page source, not hidden.

The clock is pinned with time-machine (the live server runs in this process), so the month
is known to the meter and the campaigns alike."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect
from wagtail.models import Site
from wagtail.rich_text import RichText

from masthead.access.models import MeterSettings
from masthead.campaigns.models import FreeAccessWindow
from masthead.news.models import SectionPage

from .conftest import _article, _home, _publish

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

ALLOWANCE = 3
TEASER_PARAGRAPHS = 2
PARAGRAPHS = 6
EXCLUSIVE = "X"  # the story "number" of the subscribers-only article

MID_NOVEMBER = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# One second into December where the site lives (Asia/Tokyo): still 30 November in UTC.
START_OF_DECEMBER = datetime(2026, 12, 1, 0, 0, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))

EXHAUSTED = "You have read all your free articles this month"
SUBSCRIBERS_ONLY = "This article is for subscribers"
COUNTDOWN = [
    "You have 2 free articles left this month",
    "You have 1 free article left this month",
    "This is your last free article this month",
]


def paragraph(story, n):
    return f"Dispatch {story}, paragraph {n}: the harbour log for berth {story}-{n} was revised."


def story_body(story):
    texts = (paragraph(story, n) for n in range(1, PARAGRAPHS + 1))
    return [("paragraph", RichText(f"<p>{text}</p>")) for text in texts]


@dataclass
class Paywalled:
    metered: list
    exclusive: object


@pytest.fixture
def paywalled(transactional_db):
    """Home, one section, five metered stories and one for subscribers; 3 free a month."""
    cache.clear()  # Wagtail caches the site's root paths; the tables were just flushed
    home = _home("The Test Gazette")
    world = _publish(home, SectionPage(title="World", slug="world", show_in_menus=True))
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = ALLOWANCE
    config.teaser_paragraphs = TEASER_PARAGRAPHS
    config.save()
    now = timezone.now().replace(microsecond=0)
    metered = [
        _article(
            world,
            f"Harbour dispatch {n}",
            slug=f"harbour-dispatch-{n}",
            when=now - timedelta(hours=n),
            authors=[],
            deck=f"The deck of dispatch {n}.",
            body=story_body(n),
        )
        for n in range(1, 6)
    ]
    exclusive = _article(
        world,
        "Inside the port authority",
        slug="inside-the-port-authority",
        when=now - timedelta(hours=6),
        authors=[],
        deck="What the harbour board decided behind closed doors.",
        body=story_body(EXCLUSIVE),
        access="subscribers",
    )
    return Paywalled(metered=metered, exclusive=exclusive)


@pytest.fixture
def travel(time_machine):
    """Sets the clock; every test starts in the middle of November 2026."""

    def to(moment):
        time_machine.move_to(moment, tick=False)

    to(MID_NOVEMBER)
    return to


# --- Reading and checking --------------------------------------------------------------------


def open_article(page, live_server, article):
    response = page.goto(live_server.url + article.url)
    assert response is not None and response.status == 200, response
    expect(page.get_by_role("heading", level=1)).to_have_text(article.title)


def expect_notice(page, words):
    """The meter notice reads exactly `words`, followed by its Subscribe link."""
    notice = page.get_by_role("status")
    expect(notice).to_have_count(1)
    expect(notice).to_have_text(re.compile(rf"^\s*{re.escape(words)}\s+Subscribe\s*$"))
    expect(notice.get_by_role("link", name="Subscribe")).to_be_visible()


def expect_no_notice(page):
    expect(page.locator(".meter-notice")).to_have_count(0)


def expect_full_text(page, story):
    body = page.locator(".article__body")
    for n in range(1, PARAGRAPHS + 1):
        expect(body.get_by_text(paragraph(story, n), exact=True)).to_be_visible()
    expect(page.locator("section.paywall")).to_have_count(0)


def expect_paywall(page, article, heading):
    panel = page.get_by_role("region", name=heading)
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).to_have_text(heading)
    expect(panel.get_by_role("link", name="See all offers and subscribe")).to_be_visible()
    sign_in = panel.get_by_role("link", name="Already a subscriber? Sign in")
    expect(sign_in).to_be_visible()
    assert sign_in.get_attribute("href").endswith(f"?next={article.url}")


def expect_withheld(page, live_server, article, story):
    """The teaser is there and the rest is nowhere: not in the DOM the browser built, and
    not in the HTML the server sends to this reader (same cookies, no rendering)."""
    fetched = page.context.request.get(live_server.url + article.url)
    assert fetched.ok, fetched.status
    sources = {"page.content()": page.content(), "context.request": fetched.text()}
    for where, html in sources.items():
        for n in range(1, TEASER_PARAGRAPHS + 1):
            assert paragraph(story, n) in html, f"{where}: teaser paragraph {n} missing"
        for n in range(TEASER_PARAGRAPHS + 1, PARAGRAPHS + 1):
            assert paragraph(story, n) not in html, f"{where}: paragraph {n} leaked"
        assert 'class="paywalled-content"' not in html, where
    body = page.locator(".article__body")
    for n in range(1, TEASER_PARAGRAPHS + 1):
        expect(body.get_by_text(paragraph(story, n), exact=True)).to_be_visible()
    expect(body.locator("p")).to_have_count(TEASER_PARAGRAPHS)


def read_until_paywall(page, live_server, paywalled):
    """Opens the first three metered stories (the count falls) and the fourth (blocked)."""
    for story, (article, words) in enumerate(
        zip(paywalled.metered[:ALLOWANCE], COUNTDOWN, strict=True), start=1
    ):
        open_article(page, live_server, article)
        expect_notice(page, words)
        expect_full_text(page, story)
    blocked = paywalled.metered[ALLOWANCE]
    open_article(page, live_server, blocked)
    expect_paywall(page, blocked, EXHAUSTED)
    expect_no_notice(page)
    return blocked


# --- Journeys ------------------------------------------------------------------------------


def test_anonymous_reader_sees_the_counts_fall_then_hits_the_paywall(
    new_page, live_server, paywalled, travel
):
    page = new_page()
    blocked = read_until_paywall(page, live_server, paywalled)
    expect_withheld(page, live_server, blocked, ALLOWANCE + 1)


def test_rereading_a_counted_article_is_free(new_page, live_server, paywalled, travel):
    page = new_page()
    blocked = read_until_paywall(page, live_server, paywalled)

    open_article(page, live_server, paywalled.metered[0])
    expect_full_text(page, 1)
    expect_no_notice(page)

    # Re-reading cost nothing, and gave nothing back either: the fourth is still blocked.
    open_article(page, live_server, blocked)
    expect_paywall(page, blocked, EXHAUSTED)


def test_a_new_month_resets_the_meter(new_page, live_server, paywalled, travel):
    page = new_page()
    blocked = read_until_paywall(page, live_server, paywalled)

    travel(START_OF_DECEMBER)
    open_article(page, live_server, blocked)
    expect_full_text(page, ALLOWANCE + 1)
    expect_notice(page, COUNTDOWN[0])


def test_free_access_window_lifts_the_meter_for_everyone(new_page, live_server, paywalled, travel):
    page = new_page()
    blocked = read_until_paywall(page, live_server, paywalled)

    FreeAccessWindow.objects.create(
        title="Harbour festival",
        starts_at=MID_NOVEMBER - timedelta(days=1),
        ends_at=MID_NOVEMBER + timedelta(days=1),
    )

    open_article(page, live_server, blocked)
    expect_full_text(page, ALLOWANCE + 1)
    expect_no_notice(page)
    banner = page.get_by_role("complementary", name="Announcements")
    expect(banner.locator(".campaign-banner--free-access")).to_contain_text(
        "Free access for everyone"
    )
    expect(banner).to_be_visible()

    # Everyone: a reader who has never been here reads without the meter counting them.
    stranger = new_page()
    open_article(stranger, live_server, paywalled.metered[4])
    expect_full_text(stranger, 5)
    expect_no_notice(stranger)
    expect(stranger.get_by_text("Free access for everyone")).to_be_visible()


def test_subscribers_only_article_shows_the_panel_to_anonymous_readers(
    new_page, live_server, paywalled, travel
):
    page = new_page()
    exclusive = paywalled.exclusive
    open_article(page, live_server, exclusive)
    expect_paywall(page, exclusive, SUBSCRIBERS_ONLY)
    expect_no_notice(page)
    expect_withheld(page, live_server, exclusive, EXCLUSIVE)

    # The subscribers-only story used none of the free allowance.
    open_article(page, live_server, paywalled.metered[0])
    expect_notice(page, COUNTDOWN[0])


def test_javascript_off_changes_nothing(new_page, live_server, paywalled, travel):
    page = new_page(java_script_enabled=False)
    blocked = read_until_paywall(page, live_server, paywalled)
    expect_withheld(page, live_server, blocked, ALLOWANCE + 1)

    open_article(page, live_server, paywalled.exclusive)
    expect_paywall(page, paywalled.exclusive, SUBSCRIBERS_ONLY)
    expect_withheld(page, live_server, paywalled.exclusive, EXCLUSIVE)
