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
