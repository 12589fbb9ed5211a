"""Clients that keep no identity read a bounded number of full texts (issue 20, item 1).

Each test runs against both meter stores: the database store on the suite's database and
the Redis store. The paywalled part of every article holds a unique sentence; a full text is
a response that carries it."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from wagtail.models import Site

from masthead.access.meter import get_meter_store
from masthead.access.meter.db import MeterStore as DbStore
from masthead.access.models import MeterEntry, MeterSettings
from tests.factories import make_article
from tests.indexing import indexed_once
from tests.snapshots import restore_or_build, take_on_postgresql

COOKIE = "mh_reader"
ALLOWANCE = 3
PER_DAY = 4  # B: full texts a day to requests without an identity, per network
PER_PERIOD = 30  # B': full texts a period for a network's new identities (10 identities)


@pytest.fixture
def store(each_meter_store):
    return each_meter_store


def bound(*, per_day=PER_DAY, per_period=PER_PERIOD):
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = ALLOWANCE
    config.identityless_per_day = per_day
    config.full_texts_per_network = per_period
    config.save()


@pytest.fixture
def later(time_machine):
    """Move the clock forward from the real now (Redis expires keys by the wall clock)."""
    start = timezone.now()

    def move(**delta):
        time_machine.move_to(start + timedelta(**delta), tick=False)

    return move


def add_stories(site):
    bound()
    with indexed_once():
        return [
            make_article(site["world"], f"Metered story {n}", prefix=f"Secret{n}", days_ago=n)
            for n in range(1, 9)
        ]


@pytest.fixture(scope="session")
def _stories_snapshot(_site_snapshot, django_db_blocker):
    return take_on_postgresql(add_stories, django_db_blocker, base=_site_snapshot)


@pytest.fixture
def stories(site, store, _stories_snapshot):
    return restore_or_build(_stories_snapshot, add_stories, on=site)


def is_full(response, page) -> bool:
    """Whether the response carries the article's paywalled part (its last paragraph)."""
    assert response.status_code == 200
    number = page.title.split()[-1]
    return f"Secret{number} 10 text." in response.content.decode()


def test_a_client_that_never_keeps_cookies_gets_at_most_b_full_texts_a_day(stories):
    fulls = [is_full(Client().get(page.url), page) for page in stories]
    assert fulls == [True] * PER_DAY + [False] * (len(stories) - PER_DAY)


def test_the_day_bound_starts_again_the_next_day(stories, later):
    bound(per_period=0)
    per_day = []
    for day in range(3):
        later(days=day)
        per_day.append(sum(is_full(Client().get(page.url), page) for page in stories[:6]))
    assert per_day == [PER_DAY] * 3


def test_a_client_that_drops_its_cookie_after_each_allowance_gets_at_most_b_prime(stories):
    bound(per_period=2 * ALLOWANCE)  # two new identities with an allowance per period
    fulls = []
    pages = iter(stories * 3)
    for _identity in range(5):
        browser = Client()
        fulls.append(sum(is_full(browser.get(page.url), page) for page in [next(pages)] * 1))
        for _ in range(ALLOWANCE):
            page = next(pages)
            fulls[-1] += is_full(browser.get(page.url), page)
    # the first two browsers read their allowance as ever; the later ones nothing
    assert fulls == [ALLOWANCE, ALLOWANCE, 0, 0, 0]
    assert sum(fulls) == 2 * ALLOWANCE


def test_a_browser_that_keeps_its_cookie_reads_exactly_as_before(stories):
    browser = Client()
    fulls = [is_full(browser.get(page.url), page) for page in stories[:5]]
    assert fulls == [True] * ALLOWANCE + [False] * 2
    # its first article (from a search result, say) was full, and counted once
    assert is_full(browser.get(stories[0].url), stories[0])


def test_keeping_browsers_are_unaffected_by_a_scraper_on_their_network(stories):
    browser = Client()
    assert is_full(browser.get(stories[0].url), stories[0])
    for page in stories:  # a scraper spends the network's bounds
        Client().get(page.url)
    fulls = [is_full(browser.get(page.url), page) for page in stories[1:4]]
    assert fulls == [True] * (ALLOWANCE - 1) + [False]


def test_past_the_bound_a_request_without_identity_gets_the_teaser_and_a_new_identity(
    stories,
):
    for page in stories[:PER_DAY]:
        Client().get(page.url)
    late = Client()
    response = late.get(stories[PER_DAY].url)
    assert not is_full(response, stories[PER_DAY])
    assert COOKIE in response.cookies
    # the browser kept it: its next article is read on that identity's allowance
    assert is_full(late.get(stories[PER_DAY + 1].url), stories[PER_DAY + 1])


def test_networks_are_bounded_separately(stories):
    for page in stories[:PER_DAY]:
        Client(REMOTE_ADDR="192.0.2.10").get(page.url)
    page = stories[PER_DAY]
    assert not is_full(Client(REMOTE_ADDR="192.0.2.10").get(page.url), page)
    assert is_full(Client(REMOTE_ADDR="192.0.2.11").get(page.url), page)


def test_an_ipv6_slash_64_is_one_network(stories):
    for n, page in enumerate(stories[:PER_DAY]):
        Client(REMOTE_ADDR=f"2001:db8:1:2::{n + 1}").get(page.url)
    page = stories[PER_DAY]
    assert not is_full(Client(REMOTE_ADDR="2001:db8:1:2:ffff::1").get(page.url), page)
    assert is_full(Client(REMOTE_ADDR="2001:db8:1:3::1").get(page.url), page)


def test_the_network_is_the_client_through_the_trusted_proxy(stories, settings):
    settings.MASTHEAD_TRUSTED_PROXY_HOPS = 1
    for page in stories[:PER_DAY]:
        # the client forges a different address each time; the proxy appends the real one
        Client(REMOTE_ADDR="10.0.0.1").get(
            page.url, HTTP_X_FORWARDED_FOR=f"198.51.100.{page.pk % 250}, 203.0.113.5"
        )
    page = stories[PER_DAY]
    forged = Client(REMOTE_ADDR="10.0.0.1").get(
        page.url, HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.5"
    )
    assert not is_full(forged, page)


def test_a_new_reader_stores_nothing_until_its_cookie_comes_back(stories, store):
    browser = Client()
    assert is_full(browser.get(stories[0].url), stories[0])
    if isinstance(store, DbStore):
        assert not MeterEntry.objects.exists()
    assert is_full(browser.get(stories[1].url), stories[1])
    if isinstance(store, DbStore):
        assert sorted(MeterEntry.objects.values_list("article_id", flat=True)) == sorted(
            [stories[0].pk, stories[1].pk]
        )


def test_head_is_never_metered(stories):
    for page in stories[: ALLOWANCE + 2]:
        response = Client().head(page.url)
        assert response.status_code == 200
        assert COOKIE not in response.cookies
    browser = Client()
    browser.head(stories[0].url)
    assert is_full(browser.get(stories[0].url), stories[0])
    for page in stories[1:4]:
        browser.head(page.url)
    # HEADs spent nothing: the browser's allowance and the network's day are intact
    fulls = [is_full(browser.get(page.url), page) for page in stories[1:4]]
    assert fulls == [True] * (ALLOWANCE - 1) + [False]


def test_a_tampered_cookie_is_a_new_reader_counted_against_the_network(stories):
    for page in stories[:PER_DAY]:
        Client().get(page.url)
    tampered = Client()
    tampered.cookies[COOKIE] = "AAAAAAAAAAAAAAAAAAAAAA:1abc:forged"
    page = stories[PER_DAY]
    assert not is_full(tampered.get(page.url), page)


@override_settings(MASTHEAD_TRUSTED_PROXY_HOPS=0)
def test_bounds_switched_off_in_the_admin_let_every_new_reader_in(stories):
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.identityless_per_day = 0
    config.full_texts_per_network = 0
    config.save()
    assert all(is_full(Client().get(page.url), page) for page in stories)


def test_an_identity_born_exhausted_reads_again_next_period(stories, later):
    bound(per_period=ALLOWANCE)
    for page in stories[:ALLOWANCE]:  # the period's full texts
        Client().get(page.url)
    late = Client()
    response = late.get(stories[3].url)
    assert not is_full(response, stories[3]) and COOKIE in response.cookies
    assert not is_full(late.get(stories[4].url), stories[4])  # its allowance is used
    later(days=40)  # a later calendar month
    assert is_full(late.get(stories[4].url), stories[4])


def test_the_period_bound_counts_full_texts_so_a_scraper_costs_only_what_it_got(stories):
    bound(per_day=20, per_period=10)
    scraped = sum(is_full(Client().get(page.url), page) for page in stories[:6])
    assert scraped == 6
    first, second = Client(), Client()
    read_first = sum(is_full(first.get(page.url), page) for page in stories[:4])
    read_second = sum(is_full(second.get(page.url), page) for page in stories[4:8])
    # the first browser reads its allowance (1 + 2 taken when it came back); the second
    # gets its first article, then the period has no room for the rest of its allowance
    assert (read_first, read_second) == (ALLOWANCE, 1)
    assert scraped + read_first + read_second == 10


@pytest.mark.parametrize("bounds", ["on", "off"])
def test_a_dead_store_fails_closed_and_still_issues_an_identity(stories, settings, bounds):
    if bounds == "off":  # no counters to ask: the first read is stored at once instead
        bound(per_day=0, per_period=0)
    get_meter_store.cache_clear()
    settings.MASTHEAD_METER_STORE = "masthead.access.meter.redis"
    settings.MASTHEAD_METER_REDIS_URL = "redis://127.0.0.1:1/0"
    try:
        response = Client().get(stories[0].url)
        assert not is_full(response, stories[0])
        assert COOKIE in response.cookies
    finally:
        get_meter_store.cache_clear()


def test_print_views_share_the_bound_with_pages(stories):
    fulls = 0
    for page in stories[:3]:
        fulls += is_full(Client().get(page.url), page)
        fulls += is_full(Client().get(page.url + "print/"), page)
    assert fulls == PER_DAY
