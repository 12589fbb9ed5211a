"""Generation tokens: a random token in the shared cache that names the current version of a
family of cached values. Their keys carry it, so changing the token forgets them all at once,
in every process, and a value found under a key can never be stale.

- PAGES: what readers see on pages (articles, their routes, the meter settings, the paywall
  panel), changed on every publish and on edits of what pages show of other objects.
- CAMPAIGNS: banners and free-access windows (masthead.campaigns.fetch).

A request reads every token it may need in one round trip and keeps them for its whole
length (``current(name, request)``), so what it serves is consistent. None means the cache
cannot answer: then nothing is cached and everything comes from the database.

Each process also keeps the tokens it read for ``MASTHEAD_GENERATION_LOCAL_SECONDS`` (1 s
by default), so that a busy worker asks the shared cache about once a second rather than on
every request. A change made in this process is seen here at once (``bump`` replaces the
local tokens too); one made in another process is seen here at most that long after it.
"""

import logging
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

PAGES = "masthead:pages:generation"
CAMPAIGNS = "masthead:campaigns:generation"
ALL = (PAGES, CAMPAIGNS)
_REQUEST_ATTRIBUTE = "_masthead_generations"


class _LocalTokens:
    """The tokens this process read last, and when (monotonic seconds)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.read_at = float("-inf")
        self.tokens: dict[str, str] = {}

    def fresh(self) -> dict[str, str] | None:
        seconds = settings.MASTHEAD_GENERATION_LOCAL_SECONDS
        if seconds > 0 and time.monotonic() - self.read_at < seconds:
            return self.tokens
        return None

    def keep(self, tokens: dict[str, str], read_at: float) -> None:
        with self.lock:
            if read_at >= self.read_at and len(tokens) == len(ALL):
                self.read_at, self.tokens = read_at, tokens

    def replace(self, name: str, token: str) -> None:
        with self.lock:
            if self.tokens:
                self.tokens = {**self.tokens, name: token}

    def forget(self) -> None:
        with self.lock:
            self.read_at, self.tokens = float("-inf"), {}


_local = _LocalTokens()


def current(name: str, request=None) -> str | None:
    if request is None:
        return _tokens().get(name)
    tokens = request.__dict__.get(_REQUEST_ATTRIBUTE)
    if tokens is None:
        tokens = _tokens()
        setattr(request, _REQUEST_ATTRIBUTE, tokens)
    return tokens.get(name)


def forget_local() -> None:
    """Ask the shared cache on the next request (tests, after clearing the cache)."""
    _local.forget()


def _tokens() -> dict[str, str]:
    tokens = _local.fresh()
    if tokens is None:
        read_at = time.monotonic()
        tokens = _read(ALL)
        _local.keep(tokens, read_at)
    return tokens


def _read(names) -> dict[str, str]:
    try:
        found = {name: token for name, token in cache.get_many(names).items() if token}
        missing = [name for name in names if name not in found]
        if missing:
            for name in missing:
                # add() only sets a missing key, so concurrent workers agree on one token.
                cache.add(name, uuid.uuid4().hex, None)
            found.update(cache.get_many(missing))
    except Exception:  # noqa: BLE001 - the cache is an optimisation
        log.warning("cache unavailable for generation tokens", exc_info=True)
        return {}
    return {name: token for name, token in found.items() if token}


def bump(name: str) -> None:
    """A new token: everything cached under the old one is forgotten. Never raises: it runs
    inside saves."""
    token = uuid.uuid4().hex
    _local.replace(name, token)
    try:
        cache.set(name, token, None)
    except Exception:  # noqa: BLE001
        log.warning("could not change the generation %s", name, exc_info=True)
        _local.forget()


def bump_with_transaction(name: str, using: str | None = None) -> None:
    """For save and delete signals: a new token now, and again once the transaction commits,
    so a request that read the old rows between the signal and the commit cannot keep them
    cached under the new token."""
    bump(name)
    transaction.on_commit(lambda: bump(name), using=using)
