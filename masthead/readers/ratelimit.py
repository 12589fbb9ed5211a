"""Attempt limits for password sign-in and for anything that sends an e-mail.

Counters are fixed windows in Django's cache: cache.add creates a window's counter
atomically and cache.incr (atomic in local memory and Redis) counts, so the count is the
check and concurrent attempts cannot slip past a read-then-write. Each window's key carries
the window's number, so the end of the window, and with it the `Retry-After` of a refusal,
is known without storing it. Keys are keyed hashes (HMAC with the site's secret): no address
typed and no client address is stored in the cache.

Password sign-in (web and `POST /api/v1/token` alike) counts *failures*: an attempt is
counted when it starts and uncounted when the password was right. Three limits apply:

- per account and client network, for networks and devices the account has not signed in
  from (MASTHEAD_SIGN_IN_LIMIT_ACCOUNT_NETWORK);
- per account, all such unknown networks together (MASTHEAD_SIGN_IN_LIMIT_ACCOUNT), a bound
  on guessing from many networks at once;
- per client network, whatever account is tried (MASTHEAD_SIGN_IN_LIMIT_NETWORK).

A browser that signed in to the account before (a signed cookie set on each successful
sign-in, `known devices`) is exempt from all three for that account; a network that signed
in to the account before (remembered in the cache for MASTHEAD_SIGN_IN_KNOWN_DAYS) is exempt
from the two per-account limits. So a stranger's failures, wherever they come from, never
stop the owner on a device or network the owner has used. docs/readers-glossary.md gives the
rates and the reasons for not using django-axes or django-ratelimit.

The address typed counts whether or not an account has it, so a limit says nothing about
existence. A dead cache fails open: the attempt is allowed and logged. Locking every reader
out because Redis is down would be worse than losing the limit for a while; passwords are
still Argon2-hashed, which keeps guessing slow.
"""

import contextlib
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.signing import BadSignature
from django.utils.crypto import salted_hmac

from masthead.access.context import client_address
from masthead.access.networks import client_network
from masthead.core import clock

log = logging.getLogger(__name__)

DEVICE_COOKIE = "mh_devices"
_DEVICE_SALT = "masthead.readers.ratelimit.device"
# A browser remembers this many accounts at most (the newest win).
_DEVICE_ACCOUNTS = 10


@dataclass(frozen=True)
class Limit:
    attempts: int
    window_seconds: int


@dataclass(frozen=True)
class Verdict:
    """The outcome of counting one attempt. Truthy when the attempt may go ahead."""

    retry_after: int = 0  # seconds until every window that refused it has ended
    counted: tuple[str, ...] = ()  # the counter keys this attempt was counted under
    account: str = ""

    @property
    def allowed(self) -> bool:
        return self.retry_after == 0

    def __bool__(self) -> bool:
        return self.allowed


def limits() -> tuple[Limit, Limit]:
    """Per address typed and per client IP, for the scopes that send e-mail."""
    account = settings.MASTHEAD_RATE_LIMIT_ACCOUNT
    ip = settings.MASTHEAD_RATE_LIMIT_IP
    return Limit(*account), Limit(*ip)


def sign_in_limits() -> tuple[Limit, Limit, Limit]:
    """(per account and network, per account, per network) for failed passwords."""
    return (
        Limit(*settings.MASTHEAD_SIGN_IN_LIMIT_ACCOUNT_NETWORK),
        Limit(*settings.MASTHEAD_SIGN_IN_LIMIT_ACCOUNT),
        Limit(*settings.MASTHEAD_SIGN_IN_LIMIT_NETWORK),
    )


def known_for_seconds() -> int:
    return int(settings.MASTHEAD_SIGN_IN_KNOWN_DAYS) * 24 * 3600


def request_ip(request) -> str:
    """The client's address; requests whose address we cannot vouch for share one bucket."""
    return client_address(request) or "unknown"


def _counters():
    """The ``strict`` cache: a failure raises, and the callers here decide what it means."""
    return caches["strict"]


def request_network(request) -> str:
    """The client network (IPv4 /32, IPv6 /64) through the trusted proxy hops."""
    return client_network(request_ip(request))


def normalise(account: str) -> str:
    return account.strip().lower()


def _digest(*parts: str) -> str:
    return salted_hmac("masthead.readers.ratelimit", "|".join(parts)).hexdigest()[:32]


def _key(scope: str, kind: str, *values: str) -> str:
    return f"masthead:ratelimit:{scope}:{kind}:{_digest(*values)}"


def _count(key: str, limit: Limit, now: float) -> tuple[str, int, int]:
    """Count one attempt in the current window of `key`: (window key, count, seconds left)."""
    window = int(now // limit.window_seconds)
    left = max(1, math.ceil((window + 1) * limit.window_seconds - now))
    window_key = f"{key}:{window}"
    if _counters().add(window_key, 1, timeout=left + 1):
        return window_key, 1, left
    try:
        return window_key, _counters().incr(window_key), left
    except ValueError:  # expired between add and incr: start again
        _counters().add(window_key, 1, timeout=left + 1)
        return window_key, 1, left


def _verdict(counters: list[tuple[str, Limit]], scope: str, account: str = "") -> Verdict:
    now = clock.now().timestamp()
    try:
        counted = [(_count(key, limit, now), limit) for key, limit in counters]
    except Exception:  # a dead cache: see the module docstring
        log.warning("rate limit cache unavailable; allowing %s attempt", scope, exc_info=True)
        return Verdict(account=account)
    refused = [left for (_, count, left), limit in counted if count > limit.attempts]
    keys = tuple(key for (key, _, _), _ in counted)
    if refused:
        # Nothing was tried: a refused attempt counts against no limit, so hammering one
        # limit does not use up the others.
        _uncount(keys)
        return Verdict(retry_after=max(refused), account=account)
    return Verdict(counted=keys, account=account)


def _uncount(keys) -> None:
    try:
        for key in keys:
            with contextlib.suppress(ValueError):  # the window ended meanwhile
                _counters().decr(key)
    except Exception:
        log.warning("rate limit cache unavailable; attempt left counted", exc_info=True)


def allow(request, scope: str, account: str | None = None) -> Verdict:
    """Count one attempt at `scope` (a request that sends e-mail, say) per client IP and per
    address typed; falsy when it goes over either limit."""
    account_limit, ip_limit = limits()
    counters = [(_key(scope, "ip", request_ip(request)), ip_limit)]
    if account:
        counters.append((_key(scope, "account", normalise(account)), account_limit))
    return _verdict(counters, scope)


def allow_key(scope: str, value: str, limit: Limit) -> Verdict:
    """Count one use of `value` (say, one private feed) at `scope`; falsy past `limit`."""
    return _verdict([(_key(scope, "key", value), limit)], scope)


# Password sign-in


def begin_sign_in(request, account: str) -> Verdict:
    """Count a password attempt at `account` (the address or user name typed) before the
    password is checked; falsy when a limit refuses it. Call sign_in_succeeded() when the
    password was right, so that only failures stay counted."""
    account = normalise(account)
    network = request_network(request)
    if _device_knows(request, account):
        return Verdict(account=account)
    per_account_network, per_account, per_network = sign_in_limits()
    counters = [(_key("sign-in", "network", network), per_network)]
    if not _network_knows(account, network):
        counters.append((_key("sign-in", "account-network", account, network), per_account_network))
        counters.append((_key("sign-in", "account", account), per_account))
    return _verdict(counters, "sign-in", account)


def sign_in_succeeded(request, attempt: Verdict) -> None:
    """Uncount a successful attempt and remember the network for the account. The view also
    calls remember_device() on its response where there is a browser to remember."""
    _uncount(attempt.counted)
    try:
        if attempt.account:
            _counters().set(
                _known_network_key(attempt.account, request_network(request)),
                1,
                timeout=known_for_seconds(),
            )
    except Exception:
        log.warning("rate limit cache unavailable; sign-in not remembered", exc_info=True)


def _known_network_key(account: str, network: str) -> str:
    return _key("sign-in", "known-network", account, network)


def _network_knows(account: str, network: str) -> bool:
    try:
        return bool(_counters().get(_known_network_key(account, network)))
    except Exception:
        log.warning("rate limit cache unavailable; network taken as unknown", exc_info=True)
        return False


def _device_tag(account: str) -> str:
    return salted_hmac(_DEVICE_SALT, normalise(account)).hexdigest()[:20]


def _device_tags(request) -> list[str]:
    try:
        value = request.get_signed_cookie(
            DEVICE_COOKIE, default="", salt=_DEVICE_SALT, max_age=known_for_seconds()
        )
    except BadSignature:
        return []
    return [tag for tag in value.split(".") if tag]


def _device_knows(request, account: str) -> bool:
    return _device_tag(account) in _device_tags(request)


def remember_device(response, request, account: str) -> None:
    """Mark this browser as one that signed in to `account` (see the module docstring)."""
    tag = _device_tag(account)
    tags = [t for t in _device_tags(request) if t != tag] + [tag]
    response.set_signed_cookie(
        DEVICE_COOKIE,
        ".".join(tags[-_DEVICE_ACCOUNTS:]),
        salt=_DEVICE_SALT,
        max_age=known_for_seconds(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
