"""Attempt limits for sign-in and for anything that sends an e-mail.

Fixed windows counted in Django's cache with cache.add (creates the counter atomically)
then cache.incr (atomic in local memory and Redis), so concurrent attempts cannot slip past
a read-then-write. Counters are kept per account (the e-mail address typed, whether or not
an account has it, so a limit says nothing about existence) and per client IP.

A dead cache fails open: the attempt is allowed and logged. Locking every reader out
because Redis is down would be worse than losing the limit for a while; passwords are
still Argon2-hashed, which keeps guessing slow.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from masthead.access.client_ip import client_ip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    attempts: int
    window_seconds: int


def limits() -> tuple[Limit, Limit]:
    account = settings.MASTHEAD_RATE_LIMIT_ACCOUNT
    ip = settings.MASTHEAD_RATE_LIMIT_IP
    return Limit(*account), Limit(*ip)


def request_ip(request) -> str:
    """The client's address; requests whose address we cannot vouch for share one bucket."""
    found = client_ip(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        settings.MASTHEAD_TRUSTED_PROXY_HOPS,
    )
    return found or "unknown"


def _key(scope: str, kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"masthead:ratelimit:{scope}:{kind}:{digest}"


def _count(key: str, window: int) -> int:
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: start a new window
        cache.add(key, 1, timeout=window)
        return 1


def allow(request, scope: str, account: str | None = None) -> bool:
    """Count one attempt at `scope`; False when it goes over the account or the IP limit."""
    account_limit, ip_limit = limits()
    counters = [(_key(scope, "ip", request_ip(request)), ip_limit)]
    if account:
        counters.append((_key(scope, "account", normalise(account)), account_limit))
    try:
        over = [_count(key, limit.window_seconds) > limit.attempts for key, limit in counters]
    except Exception:  # a dead cache: see the module docstring
        log.warning("rate limit cache unavailable; allowing %s attempt", scope, exc_info=True)
        return True
    return not any(over)


def reset_account(scope: str, account: str) -> None:
    """Forget an account's failed attempts after it proves itself (a successful sign-in)."""
    try:
        cache.delete(_key(scope, "account", normalise(account)))
    except Exception:
        log.warning("rate limit cache unavailable; could not reset %s", scope, exc_info=True)


def normalise(account: str) -> str:
    return account.strip().lower()
