"""Generation tokens: a random token in the shared cache that names the current version of a
family of cached values. Their keys carry it, so changing the token forgets them all at once,
in every process, and a value found under a key can never be stale.

- PAGES: what every page shows of other objects (sections, series, authors, sponsors, images,
  topics, sites, view restrictions, the meter settings, the offers in the paywall panel);
  article routes are kept under it as well. Publishing an article does not change it.
- LISTINGS: lists of any articles (indexes, feeds, sitemaps, search results), changed by
  every publish, unpublish, move or delete of an article (masthead.news.invalidation).
- CAMPAIGNS: banners and free-access windows (masthead.campaigns.fetch).
- Families: lists that show only the articles of some *families* (a series, a topic: the
  related articles under an article) are stamped with the tokens of those families
  (``stamp``), and a change to an article changes only its own families' tokens
  (``bump_families``). A family's token is that of its *bucket*: the family's name hashed
  into one of ``MASTHEAD_LISTING_BUCKETS`` (256 by default), so the tokens are a fixed set a
  process reads in one round trip with the others. Two families that share a bucket forget
  each other's lists now and then: more rendering, never a stale list.

A request reads every token it may need in one round trip and keeps them for its whole
length (``current(name, request)``), so what it serves is consistent. None means the cache
cannot answer: then nothing is cached and everything comes from the database.

Each process also keeps the tokens it read for ``MASTHEAD_GENERATION_LOCAL_SECONDS`` (1 s
by default), so that a busy worker asks the shared cache about once a second rather than on
every request. A change made in this process is seen here at once (``bump`` replaces the
local tokens too); one made in another process is seen here at most that long after it.

A change must not be lost to a Redis that fails one write: ``bump`` writes through the
``strict`` cache (the same Redis, without django-redis's IGNORE_EXCEPTIONS), tries again
twice, and if Redis still refuses, deletes the token instead (a Redis out of memory refuses
writes but still deletes). Should Redis take neither, the old token still expires: tokens
live at most ``MASTHEAD_GENERATION_MAX_AGE`` seconds (300 by default), after which pages are
rendered from the database until Redis takes a new token. So a publish, unpublish or access
change reaches readers at most that long after a save whose writes all failed (the save
itself succeeds), at the price of rendering every cached page again once per max age.
docs/production.md ("Cache invalidation when Redis fails") states the bound."""

import functools
import hashlib
import logging
import threading
import time
import uuid
import zlib

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction

log = logging.getLogger(__name__)

PAGES = "masthead:pages:generation"
LISTINGS = "masthead:listings:generation"
CAMPAIGNS = "masthead:campaigns:generation"
ALL = (PAGES, LISTINGS, CAMPAIGNS)
FAMILY_BUCKET = "masthead:listings:family:"
_REQUEST_ATTRIBUTE = "_masthead_generations"
# Pauses before the second and the third attempt at writing a token (seconds).
RETRY_PAUSES = (0.05, 0.25)


def max_age() -> int:
    """Seconds a token lives: the bound on a change whose writes all failed."""
    return settings.MASTHEAD_GENERATION_MAX_AGE


def names() -> tuple[str, ...]:
    """Every token a request may need: the three generations and the families' buckets."""
    buckets = settings.MASTHEAD_LISTING_BUCKETS
    return ALL + tuple(f"{FAMILY_BUCKET}{n}" for n in range(buckets))


def family_token(family: str) -> str:
    """The token that stands for `family` (e.g. "topic:12"): its bucket's, the same in every
    process (crc32, not hash(), which changes with the process's hash seed)."""
    bucket = zlib.crc32(family.encode()) % settings.MASTHEAD_LISTING_BUCKETS
    return f"{FAMILY_BUCKET}{bucket}"


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

    def keep(self, tokens: dict[str, str], read_at: float, complete: bool) -> None:
        with self.lock:
            if read_at >= self.read_at and complete:
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
    return _for_request(request).get(name)


def stamp(families, request=None) -> str | None:
    """The version of a list of articles drawn from `families` only (the names given to
    ``bump_families``): it changes whenever one of them does. Kept beside the list, a stamp
    that no longer matches means the list is stale. None: the cache cannot answer."""
    tokens = _for_request(request)
    key = (tuple(families), settings.MASTHEAD_LISTING_BUCKETS)
    held = _stamps.get(key)
    if held is not None and held[0] is tokens:
        return held[1]
    found = [tokens.get(name) for name in _family_tokens(families)]
    value = None
    if None not in found:
        value = hashlib.blake2b(" ".join(found).encode(), digest_size=12).hexdigest()
    if len(_stamps) >= STAMPS_KEPT:
        _stamps.clear()
    _stamps[key] = (tokens, value)
    return value


# The stamp last worked out for some families, with the tokens it was worked out from. The
# tokens a process read are one dict until it reads them again or changes one (neither
# changes a dict in place), so the same dict means the same stamp: an article's related
# list is checked on every request, and its stamp is worked out once per read of the tokens.
_stamps: dict[tuple, tuple[dict, str | None]] = {}
STAMPS_KEPT = 4096


def bump_families(families, using: str | None = None) -> None:
    """For save and delete signals of an article: the lists drawn from `families` (its
    series, its topics) may have changed (bump_with_transaction for each one's token)."""
    for name in _family_tokens(families):
        bump_with_transaction(name, using)


def _family_tokens(families) -> list[str]:
    """The tokens of `families`, each once, in one order (two families may share one)."""
    return sorted({family_token(family) for family in families})


def _for_request(request) -> dict[str, str]:
    """The tokens, read once per request when given one (kept on it for its whole length)."""
    if request is None:
        return _tokens()
    tokens = request.__dict__.get(_REQUEST_ATTRIBUTE)
    if tokens is None:
        tokens = _tokens()
        setattr(request, _REQUEST_ATTRIBUTE, tokens)
    return tokens


def forget_local() -> None:
    """Ask the shared cache on the next request (tests, after clearing the cache)."""
    _local.forget()


def _tokens() -> dict[str, str]:
    tokens = _local.fresh()
    if tokens is None:
        read_at = time.monotonic()
        wanted = names()
        tokens = _read(wanted)
        _local.keep(tokens, read_at, complete=len(tokens) == len(wanted))
    return tokens


def _read(names) -> dict[str, str]:
    try:
        found = {name: token for name, token in cache.get_many(names).items() if token}
        missing = [name for name in names if name not in found]
        if missing:
            for name in missing:
                # add() only sets a missing key, so concurrent workers agree on one token.
                cache.add(name, uuid.uuid4().hex, max_age())
            found.update(cache.get_many(missing))
    except Exception:  # noqa: BLE001 - the cache is an optimisation
        log.warning("cache unavailable for generation tokens", exc_info=True)
        return {}
    return {name: token for name, token in found.items() if token}


def bump(name: str, *, retry: bool = True) -> None:
    """A new token: everything cached under the old one is forgotten. Never raises: it runs
    inside saves. A failed write is retried (unless `retry` is false), then the token is
    deleted instead; failing that, the old one lives out its max age (the module's
    docstring)."""
    token = uuid.uuid4().hex
    _local.replace(name, token)
    write = functools.partial(caches["strict"].set, name, token, max_age())
    if _written(write, f"change the generation {name}", retry):
        return
    _local.forget()
    try:
        caches["strict"].delete(name)
    except Exception:  # noqa: BLE001
        log.error(
            "could not change the generation %s: pages cached under the old one may be "
            "served for up to %s s",
            name,
            max_age(),
            exc_info=True,
        )


def _written(write, what: str, retry: bool) -> bool:
    """Whether `write` (a call to the ``strict`` cache) went through: tried once, or with
    `retry` twice more after RETRY_PAUSES; each failure is logged as "could not <what>"."""
    for pause in (0, *RETRY_PAUSES) if retry else (0,):
        if pause:
            time.sleep(pause)
        try:
            write()
            return True
        except Exception:  # noqa: BLE001
            log.warning("could not %s", what, exc_info=True)
    return False


def bump_with_transaction(name: str, using: str | None = None) -> None:
    """For save and delete signals: a new token now, and again once the transaction commits,
    so a request that read the old rows between the signal and the commit cannot keep them
    cached under the new token. Only the second one retries: the first holds the
    transaction's locks."""
    bump(name, retry=False)
    transaction.on_commit(lambda: bump(name), using=using)


def forget_with_transaction(key: str, using: str | None = None) -> None:
    """For save and delete signals of rows cached under one key (an account, a reader's
    entitlements): delete `key` now, and again once the transaction commits, so a request
    that read the old rows between the signal and the commit cannot keep them cached (past
    the key's timeout, which bounds that race)."""
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key), using=using)


def forget_with_transaction_or_bump(keys: list[str], name: str, using: str | None = None) -> None:
    """For save and delete signals of one page: delete its cached `keys` now and again once
    the transaction commits, through the ``strict`` cache and retried like a bump. A cache
    that refuses the delete gets a new generation `name` instead (whose keys the deleted
    ones carry), so a lost delete costs more rendering, never a stale page beyond the
    token's max age."""

    def attempt(retry: bool) -> None:
        delete = functools.partial(caches["strict"].delete_many, keys)
        if not _written(delete, f"delete {', '.join(keys)}", retry):
            bump(name, retry=retry)

    attempt(retry=False)
    transaction.on_commit(lambda: attempt(retry=True), using=using)
