"""A subscriber's entitlements come from the shared cache on the pages they read, and every
change to their subscriptions reaches the next request: the cache never keeps access that a
refund, an expiry or a deletion took away, nor withholds access a payment gave."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from masthead.readers.backends import EmailBackend
from masthead.subscriptions import actions
from masthead.subscriptions.fetch import entitlement_for_request, entitlements_key
from masthead.subscriptions.models import Subscription
from tests.integration.subscription_factories import (
    DAY,
    NOW,
    make_plan,
    make_reader,
    reads_in_full,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber(client, at):
    reader = make_reader()
    subscription = actions.start(user=reader, plan=make_plan(), period_end=NOW + 30 * DAY, now=NOW)
    client.force_login(reader)
    return subscription


def subscription_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "subscriptions_subscription" in q["sql"]]


def test_the_second_page_reads_the_entitlements_from_the_cache(exclusive, subscriber, client):
    assert reads_in_full(client, exclusive)
    with CaptureQueriesContext(connection) as queries:
        assert reads_in_full(client, exclusive)
    assert subscription_queries(queries) == []


def test_an_expiry_applies_to_the_next_page(exclusive, subscriber, client):
    assert reads_in_full(client, exclusive)  # cached as entitled
    actions.expire(subscription=subscriber, now=NOW)
    assert not reads_in_full(client, exclusive)


def test_a_deleted_subscription_applies_to_the_next_page(exclusive, client, at):
    # a row without history (the ledger protects those from deletion), e.g. made by hand
    reader = make_reader()
    row = Subscription.objects.create(
        user=reader, plan=make_plan(), status="active", current_period_end=NOW + 30 * DAY
    )
    client.force_login(reader)
    assert reads_in_full(client, exclusive)
    row.delete()
    assert not reads_in_full(client, exclusive)


def test_a_new_subscription_applies_to_the_next_page(exclusive, client, at):
    reader = make_reader()
    client.force_login(reader)
    assert not reads_in_full(client, exclusive)  # cached: no subscription
    actions.start(user=reader, plan=make_plan(), period_end=NOW + 30 * DAY, now=NOW)
    assert reads_in_full(client, exclusive)


def test_a_period_that_ends_is_over_on_time_although_cached(exclusive, subscriber, client, at):
    assert reads_in_full(client, exclusive)
    at(subscriber.current_period_end + 30 * DAY)  # past the end and any grace
    assert not reads_in_full(client, exclusive)


def test_one_readers_entitlements_never_answer_for_another(exclusive, subscriber, client):
    assert reads_in_full(client, exclusive)
    client.force_login(make_reader())
    assert not reads_in_full(client, exclusive)


def test_without_a_cache_the_database_answers(exclusive, subscriber, client, monkeypatch):
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)
    monkeypatch.setattr(cache, "get_many", lambda *args, **kwargs: {})
    monkeypatch.setattr(cache, "set", lambda *args, **kwargs: None)
    assert reads_in_full(client, exclusive)
    actions.expire(subscription=subscriber, now=NOW)
    assert not reads_in_full(client, exclusive)


def test_a_change_after_the_account_was_read_is_seen_in_the_same_request(
    exclusive, subscriber, client
):
    assert reads_in_full(client, exclusive)  # cached as entitled
    user = EmailBackend().get_user(subscriber.user_id)
    assert entitlement_for_request(user, NOW).status == "active"
    actions.expire(subscription=subscriber, now=NOW)  # e.g. a refund inside the same request
    assert entitlement_for_request(user, NOW).status != "active"


def test_a_change_between_reading_the_account_and_asking_is_seen(exclusive, subscriber, client):
    # given a subscriber's account read with its cached entitlements, as a request reads it
    # before a view changes the subscription (a checkout's return, a cancellation)
    assert reads_in_full(client, exclusive)  # the account and the entitlements cached
    user = EmailBackend().get_user(subscriber.user_id)
    # when the subscription ends before anything asks for the entitlements
    actions.expire(subscription=subscriber, now=NOW)
    # then the first ask already sees it
    assert entitlement_for_request(user, NOW).status != "active"


def test_the_entitlements_read_with_the_account_are_the_ones_the_page_uses(
    exclusive, subscriber, client, cache_reads
):
    # given a subscriber whose account and entitlements are cached
    assert reads_in_full(client, exclusive)
    cache_reads.clear()
    # when they open the article again
    assert reads_in_full(client, exclusive)
    # then the entitlements came with the account, and nothing asked for them alone
    key = entitlements_key(subscriber.user_id)
    with_account = [keys for kind, keys in cache_reads if kind == "get_many" and key in keys]
    assert with_account and any(k.startswith("masthead:user:") for k in with_account[0])
    assert ("get", [key]) not in cache_reads
