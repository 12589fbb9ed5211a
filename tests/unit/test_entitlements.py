"""The access layer's entitlement interface: subscriptions answer through a registered
provider; with none, nobody is entitled (masthead.access.entitlements)."""

from datetime import UTC, datetime, timedelta

import pytest

from masthead.access import entitlements
from masthead.access.policy import Status, Subscription

NOW = datetime(2026, 11, 14, tzinfo=UTC)
ACTIVE = Subscription(status=Status.ACTIVE, period_end=NOW + timedelta(days=3))


class Account:
    def __init__(self, pk, *, signed_in=True):
        self.pk, self.is_authenticated = pk, signed_in


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(entitlements, "_provider", [])
    return entitlements


def test_without_a_provider_nobody_is_entitled(registry):
    assert registry.entitlement_for(Account(1), NOW) is None


def test_the_registered_provider_answers_for_signed_in_readers_only(registry):
    asked = []

    def provider(user, now):
        asked.append((user.pk, now))
        return ACTIVE

    registry.provide(provider)
    assert registry.entitlement_for(Account(7), NOW) == ACTIVE
    assert registry.entitlement_for(Account(8, signed_in=False), NOW) is None
    assert registry.entitlement_for(None, NOW) is None
    assert asked == [(7, NOW)]


def test_a_second_registration_replaces_the_first(registry):
    registry.provide(lambda user, now: None)
    registry.provide(lambda user, now: ACTIVE)
    assert registry.entitlement_for(Account(1), NOW) == ACTIVE


def test_the_subscriptions_app_provides_the_entitlements():
    from masthead.subscriptions.fetch import entitlement_for_request

    assert entitlements._provider == [entitlement_for_request]


# --- read with the account ------------------------------------------------------------------


@pytest.fixture
def keyed(registry, monkeypatch):
    monkeypatch.setattr(entitlements, "_cache_key", [])
    registry.provide(lambda user, now: None, cache_key=lambda user_id: f"facts:{user_id}")
    return registry


def test_the_providers_key_is_read_with_the_account_and_taken_back(keyed):
    account = Account(7)
    assert keyed.cache_keys(7) == ["facts:7"]
    keyed.read_with_account(account, {"user:7": "row", "facts:7": ("entitled",)})
    assert keyed.taken_with_account(account) == ("entitled",)


def test_a_key_the_round_trip_lacked_is_nothing_read(keyed):
    account = Account(7)
    keyed.read_with_account(account, {"user:7": "row"})
    assert keyed.taken_with_account(account) is None


def test_a_provider_without_a_key_is_read_with_no_account(registry, monkeypatch):
    monkeypatch.setattr(entitlements, "_cache_key", [])
    registry.provide(lambda user, now: None)
    account = Account(7)
    assert registry.cache_keys(7) == []
    registry.read_with_account(account, {"facts:7": ("entitled",)})
    assert registry.taken_with_account(account) is None


def test_an_account_never_read_has_nothing_to_take(keyed):
    assert keyed.taken_with_account(Account(7)) is None


def test_a_change_reported_after_the_read_makes_the_provider_read_again(keyed):
    account, other = Account(7), Account(8)
    keyed.read_with_account(account, {"facts:7": ("entitled",)})
    keyed.changed()  # any account's: the provider's receivers do not say whose
    assert keyed.taken_with_account(account) is None
    # and what is read after the change counts again
    keyed.read_with_account(other, {"facts:8": ()})
    assert keyed.taken_with_account(other) == ()


def test_what_another_process_read_does_not_count_here(keyed, monkeypatch):
    account = Account(7)
    keyed.read_with_account(account, {"facts:7": ("entitled",)})
    monkeypatch.setattr(entitlements.os, "getpid", lambda: -1)  # e.g. an unpickled copy
    assert keyed.taken_with_account(account) is None


def test_what_was_read_for_one_account_never_answers_for_another(keyed):
    account = Account(7)
    keyed.read_with_account(account, {"facts:7": ("entitled",)})
    account.pk = 8  # the instance now stands for another account
    assert keyed.taken_with_account(account) is None
