"""Subscriptions on the web: who reads a subscribers-only article, which panel the others
see and which offers it carries, and the offers page."""

from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from masthead.subscriptions import actions
from masthead.subscriptions.models import Subscription
from tests.integration.subscription_factories import (
    DAY,
    FULL_TEXT,
    NOW,
    TOKYO,
    make_intro,
    make_plan,
    make_reader,
    make_trial,
)

pytestmark = pytest.mark.django_db

OCTOBER_END = datetime(2026, 11, 1, tzinfo=TOKYO)  # ends at midnight: last day October 31st


@pytest.fixture
def catalogue(db):
    plan = make_plan(name="Digital", price="12.00")
    # placed in the paywall: the trial, the dollar, the comeback, the nine
    return {
        "plan": plan,
        "dollar": make_intro(
            plan, NOW, "0.99", 1, name="Dollar", ends_at=OCTOBER_END, paywall_position=2
        ),
        "nine": make_intro(plan, NOW, "9", 3, name="Nine", ends_at=OCTOBER_END, paywall_position=4),
        "comeback": make_intro(
            plan, NOW, "5", 2, name="Comeback", eligibility="lapsed", paywall_position=3
        ),
        "trial": make_trial(plan, NOW, 14, name="Trial", paywall_position=1),
    }


def page(client, article):
    response = client.get(article.url)
    assert response.status_code == 200
    return response.content.decode()


def panel(body):
    found = BeautifulSoup(body, "html.parser").select_one(".paywall")
    return " ".join(found.get_text().split()) if found else None


def offer_headlines(body):
    soup = BeautifulSoup(body, "html.parser")
    return [h.get_text(strip=True) for h in soup.select(".paywall .choice__headline")]


def signed_in(client, reader):
    client.force_login(reader)
    return client


def test_an_active_subscriber_reads_a_subscribers_only_article_in_full(
    exclusive, catalogue, client, at
):
    # given a reader with a paid subscription
    reader = make_reader()
    actions.start(user=reader, plan=catalogue["plan"], period_end=NOW + 30 * DAY, now=NOW)
    # when they open a subscribers-only article, then they read all of it, with no panel
    body = page(signed_in(client, reader), exclusive)
    assert FULL_TEXT in body
    assert panel(body) is None


def test_full_text_readers_pay_no_query_for_offers(exclusive, catalogue, client, at):
    reader = make_reader()
    actions.start(user=reader, plan=catalogue["plan"], period_end=NOW + 30 * DAY, now=NOW)
    signed_in(client, reader)
    with CaptureQueriesContext(connection) as queries:
        page(client, exclusive)
    assert not [q for q in queries if "subscriptions_offer" in q["sql"]]


def test_a_trial_that_ended_unpaid_shows_the_trial_expired_panel_with_offers(
    exclusive, catalogue, client, at
):
    # given a reader whose 14-day trial started 15 days ago and was never paid for
    reader = make_reader()
    actions.start_trial(user=reader, offer=catalogue["trial"], now=NOW - 15 * DAY)
    # when they open a subscribers-only article
    body = page(signed_in(client, reader), exclusive)
    # then they get the teaser and the trial-expired panel, with offers for lapsed readers
    assert FULL_TEXT not in body
    assert "Your trial period has expired" in panel(body)
    assert offer_headlines(body) == [
        "Try 1 month for $0.99",
        "Try 2 months for $5",
        "Try 3 months for $9",
    ]
    assert "Already a subscriber? Sign in" not in panel(body)
    assert "See all offers and subscribe" in panel(body)


def test_a_trial_reads_in_full_until_it_ends(exclusive, catalogue, client, at):
    reader = make_reader()
    actions.start_trial(user=reader, offer=catalogue["trial"], now=NOW)
    at(NOW + 14 * DAY - timedelta(seconds=1))
    signed_in(client, reader)  # now: a session from the trial's start would end with it
    assert FULL_TEXT in page(client, exclusive)
    at(NOW + 14 * DAY)
    assert "Your trial period has expired" in panel(page(client, exclusive))


def test_a_cancelled_subscription_reads_to_the_period_end_then_shows_access_expired(
    exclusive, catalogue, client, at
):
    # given a subscriber who cancelled, with access paid to the end of the month
    reader = make_reader()
    subscription = actions.start(
        user=reader, plan=catalogue["plan"], period_end=NOW + 10 * DAY, now=NOW
    )
    actions.cancel(subscription=subscription, now=NOW + DAY)
    signed_in(client, reader)
    # then they read until the period ends
    at(NOW + 10 * DAY - timedelta(seconds=1))
    assert FULL_TEXT in page(client, exclusive)
    # and after it, the lapsed-subscriber panel (with no new-reader trial offer)
    at(NOW + 10 * DAY)
    body = page(client, exclusive)
    assert FULL_TEXT not in body
    assert f"Your full access to {settings.MASTHEAD_SITE_NAME} has expired" in panel(body)
    assert "Try 14 days free" not in body
    assert offer_headlines(body) == [
        "Try 1 month for $0.99",
        "Try 2 months for $5",
        "Try 3 months for $9",
    ]


@pytest.mark.parametrize(
    ("after_period_end", "reads"),
    [
        (timedelta(0), True),
        (3 * DAY - timedelta(seconds=1), True),
        (3 * DAY, False),
        (10 * DAY, False),
    ],
)
def test_past_due_reads_within_the_grace_period_only(
    exclusive, catalogue, client, at, settings, after_period_end, reads
):
    settings.MASTHEAD_PAST_DUE_GRACE_DAYS = 3
    reader = make_reader()
    end = NOW + 30 * DAY
    subscription = actions.start(user=reader, plan=catalogue["plan"], period_end=end, now=NOW)
    actions.mark_past_due(subscription=subscription, now=end)
    at(end + after_period_end)
    body = page(signed_in(client, reader), exclusive)
    assert (FULL_TEXT in body) is reads
    if not reads:
        assert f"Your full access to {settings.MASTHEAD_SITE_NAME} has expired" in panel(body)


def test_the_paywall_shows_the_placed_offers_the_reader_may_take(exclusive, catalogue, client, at):
    # an anonymous reader is new: the offer for lapsed readers is not theirs
    body = page(client, exclusive)
    assert offer_headlines(body) == [
        "Try 14 days free",
        "Try 1 month for $0.99",
        "Try 3 months for $9",
    ]
    assert "These offers end 31 October." in panel(body)
    assert "Offer ends" not in panel(body)
    assert "Already a subscriber? Sign in" in panel(body)


def test_no_current_offers_leaves_the_panel_without_offers(exclusive, catalogue, client, at):
    at(OCTOBER_END + 30 * DAY)
    body = page(client, exclusive)
    assert "This article is for subscribers" in panel(body)
    assert offer_headlines(body) == []
    assert "See all offers and subscribe" in panel(body)


def test_the_offers_page_lists_current_offers_with_their_terms(catalogue, client, at, site):
    response = client.get("/subscribe/")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    offers = [" ".join(o.get_text().split()) for o in soup.select(".choice--offer")]
    assert offers[0].startswith("Try 14 days free Full access, no card needed.")
    text = " ".join(soup.get_text().split())
    assert "These offers end 31 October." in text  # once: they all end that day
    assert "Offer ends" not in text
    assert offers[1].startswith("Try 1 month for $0.99 $0.99 for the first month, then $12 a month")
    assert offers[2].startswith("Try 3 months for $9 $9 for the first 3 months, then $12 a month")
    assert len(offers) == 3  # the lapsed readers' offer is not for a new reader
    assert "Read all stories with unlimited access" in response.content.decode()
    assert "Use our mobile and tablet apps" in response.content.decode()
    links = [a["href"] for a in soup.select(".choice--offer a.button")]
    assert f"/subscribe/{catalogue['dollar'].pk}/" in links


def test_opening_an_offer_goes_to_the_payment_page_and_grants_nothing(catalogue, client, at, site):
    reader = make_reader()
    signed_in(client, reader)
    response = client.get(f"/subscribe/{catalogue['dollar'].pk}/", follow=True)
    assert response.redirect_chain[0][0].startswith("/subscribe/checkout/")
    assert response.status_code == 200
    assert "$0.99 for the first month, then $12 a month" in response.content.decode()
    assert not Subscription.objects.filter(user=reader).exists()
    assert client.get("/subscribe/999999/").status_code == 404
    at(OCTOBER_END)
    signed_in(client, reader)  # again: sessions last two weeks
    assert client.get(f"/subscribe/{catalogue['dollar'].pk}/").status_code == 404
