"""The question the access rules ask about a signed-in reader's subscription, and who
answers it.

The access layer knows nothing of plans, payments or providers: it asks "what subscription
does this account have, as the access rules see it" (a `policy.Subscription`, or None) and
decides from the dates at read time. The app that sells subscriptions answers by
registering a provider when it starts (`SubscriptionsConfig.ready` registers
`subscriptions.fetch.entitlement_for_request`), so imports point one way: subscriptions
depends on access, never the reverse. With no provider registered nobody is entitled
(fail closed)."""

from collections.abc import Callable
from datetime import datetime

from .policy import Subscription

EntitlementProvider = Callable[[object, datetime], Subscription | None]

_provider: list[EntitlementProvider] = []


def provide(provider: EntitlementProvider) -> None:
    """Register the one provider: provider(user, now) -> Subscription | None."""
    _provider[:] = [provider]


def entitlement_for(user, now: datetime) -> Subscription | None:
    """The account's subscription for the access rules, or None (anonymous, none, or no
    provider registered)."""
    if user is None or not getattr(user, "is_authenticated", False) or not _provider:
        return None
    return _provider[0](user, now)
