"""The question the access rules ask about a signed-in reader's subscription, and who
answers it.

The access layer knows nothing of plans, payments or providers: it asks "what subscription
does this account have, as the access rules see it" (a `policy.Subscription`, or None) and
decides from the dates at read time. The app that sells subscriptions answers by
registering a provider when it starts (`SubscriptionsConfig.ready` registers
`subscriptions.fetch.entitlement_for_request`), so imports point one way: subscriptions
depends on access, never the reverse. With no provider registered nobody is entitled
(fail closed).

Read with the account. A provider that keeps each account's facts in the shared cache names
their key when it registers (``provide(..., cache_key=...)``). Whoever loads a signed-in
account for a request (the sign-in backend, masthead.readers.backends) asks for that key in
the same round trip as the account (``cache_keys``) and hands over what came back
(``read_with_account``); the provider takes it (``taken_with_account``) instead of asking
the cache again. What was read is kept on that account's instance, like Django's own
per-instance permission cache, and counts only in the process that read it and only until
the provider reports a change (``changed``, from its save and delete receivers): after a
change the provider reads afresh, so a change made during a request (a payment, a refund)
is seen by the rest of that request."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .policy import Subscription

EntitlementProvider = Callable[[object, datetime], Subscription | None]
CacheKey = Callable[[object], str]

_provider: list[EntitlementProvider] = []
_cache_key: list[CacheKey] = []
# Changes reported in this process (``changed``): what was read with an account before the
# latest one no longer counts.
_changes = [0]
_READ = "_masthead_read_with_account"


def provide(provider: EntitlementProvider, *, cache_key: CacheKey | None = None) -> None:
    """Register the one provider: provider(user, now) -> Subscription | None, and the key
    under which it keeps an account's facts in the shared cache, if it does."""
    _provider[:] = [provider]
    _cache_key[:] = [cache_key] if cache_key is not None else []


def entitlement_for(user, now: datetime) -> Subscription | None:
    """The account's subscription for the access rules, or None (anonymous, none, or no
    provider registered)."""
    if user is None or not getattr(user, "is_authenticated", False) or not _provider:
        return None
    return _provider[0](user, now)


@dataclass(frozen=True)
class _Read:
    user_id: object
    value: object
    process: int
    changes: int


def cache_keys(user_id) -> list[str]:
    """The shared-cache keys to read in the same round trip as this account."""
    return [_cache_key[0](user_id)] if _cache_key else []


def read_with_account(user, found: dict) -> None:
    """Keep on `user` what the account's round trip found under the provider's key (`found`:
    key -> value, as ``cache.get_many`` answers; a key it lacks is kept as None). Call it
    after the account itself went into the shared cache, never before: what is kept here
    belongs to this process and this request's instance."""
    if not _cache_key:
        return
    value = found.get(_cache_key[0](user.pk))
    setattr(user, _READ, _Read(user.pk, value, os.getpid(), _changes[0]))


def taken_with_account(user):
    """What was read for the provider with this account, or None: nothing was, it was
    another process or account, or a change was reported since."""
    read = getattr(user, _READ, None)
    if (
        not isinstance(read, _Read)
        or read.user_id != user.pk
        or read.process != os.getpid()
        or read.changes != _changes[0]
    ):
        return None
    return read.value


def changed() -> None:
    """The provider's facts changed for some account: whatever was read before is read
    again from the shared cache."""
    _changes[0] += 1
