"""Django's Redis cache, failing soft. The cache is an optimisation: when Redis cannot
answer, a read is a miss and a write is dropped (with a WARNING, at most every 10 s per
process), so pages that merely use the cache (Wagtail's site root paths, the campaigns,
rendered fragments) keep serving from PostgreSQL instead of answering 500. Counters
(incr/decr) still raise: their callers (rate limits) decide what a lost count means, and so
do ``set_or_raise`` and ``delete_or_raise``, for writes whose loss must not go unnoticed
(the generation tokens, masthead.core.generations).

It also keeps one ``redis.Redis`` client per connection pool. Django builds a new one for
every call, and redis-py registers some 170 response callbacks in each: about a tenth of
a millisecond per cache call, several per article request. A client is thread-safe (each
command takes a connection from the pool), so one per pool is enough."""

import logging
import time

import redis
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction

log = logging.getLogger(__name__)

WARN_EVERY = 10.0  # seconds
_warned_at = 0.0


def _warn(operation: str, error: Exception) -> None:
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= WARN_EVERY:
        _warned_at = now
        log.warning("cache unavailable (%s), serving without it: %s", operation, error)


class _ClientKeepingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientKeepingRedisCacheClient

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except redis.RedisError as error:
            _warn("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except redis.RedisError as error:
            _warn("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except redis.RedisError as error:
            _warn("has_key", error)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except redis.RedisError as error:
            _warn("add", error)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except redis.RedisError as error:
            _warn("set", error)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except redis.RedisError as error:
            _warn("set_many", error)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except redis.RedisError as error:
            _warn("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except redis.RedisError as error:
            _warn("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except redis.RedisError as error:
            _warn("delete_many", error)

    def set_or_raise(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        super().set(key, value, timeout, version)

    def delete_or_raise(self, key, version=None):
        return super().delete(key, version)


def set_or_raise(key, value, timeout=DEFAULT_TIMEOUT) -> None:
    """cache.set, raising when the write fails even on a cache that fails soft."""
    getattr(cache, "set_or_raise", cache.set)(key, value, timeout)


def delete_or_raise(key) -> None:
    """cache.delete, raising when it fails even on a cache that fails soft."""
    getattr(cache, "delete_or_raise", cache.delete)(key)


def forget_on_change(key: str, using: str | None = None) -> None:
    """For save and delete signals: delete `key` now, and again once the transaction
    commits, so a request that read the old rows between the signal and the commit cannot
    keep them cached (past the key's timeout, which bounds that race)."""
    _forget(key)
    transaction.on_commit(lambda: _forget(key), using=using)


def _forget(key: str) -> None:
    global _forgotten
    _forgotten += 1  # every ReadAhead taken before now is stale
    cache.delete(key)


# --- reading ahead ------------------------------------------------------------------------
# Values a request will need whose keys it knows together (a signed-in reader's account and
# entitlements) are read in one round trip and handed to cached(..., ahead=...). Anything
# forgotten in this process after the read makes the whole read stale, so a request that
# changes a subscription and then decides access sees the change.
_forgotten = 0
_NOT_READ = object()


class ReadAhead:
    __slots__ = ("_values", "_as_of")

    def __init__(self, values: dict, as_of: int):
        self._values = values
        self._as_of = as_of  # _forgotten when the read began

    def get(self, key: str):
        """What the cache held for `key` (None: nothing), or _NOT_READ when `key` was not
        read or the read is stale."""
        if self._as_of != _forgotten or key not in self._values:
            return _NOT_READ
        return self._values[key]


def read_ahead(keys: list[str]) -> ReadAhead:
    """`keys` from the shared cache in one round trip. When the cache fails (ours answers
    nothing; another backend may raise) each cached() goes on as on a miss or a failure."""
    as_of = _forgotten
    try:
        found = cache.get_many(keys)
    except Exception:  # noqa: BLE001
        log.warning("cache unavailable for %s", ", ".join(keys), exc_info=True)
        return ReadAhead({}, as_of)
    # as of before the read: a change during the read makes it stale as well
    return ReadAhead({key: found.get(key) for key in keys}, as_of)


def cached(key: str, make, timeout: int, *, valid=None, ahead: ReadAhead | None = None):
    """The value under `key` in the shared cache (or as `ahead` read it), else make(), stored
    there for `timeout` seconds unless it is None. The cache is an optimisation: whatever it
    raises (any backend, not only ours), make() answers. `valid` rejects a cached value as a
    miss."""
    found = _NOT_READ if ahead is None else ahead.get(key)
    if found is _NOT_READ:
        try:
            found = cache.get(key)
        except Exception:  # noqa: BLE001
            log.warning("cache unavailable for %s", key, exc_info=True)
            found = None
    if found is not None and (valid is None or valid(found)):
        return found
    found = make()
    if found is not None:
        try:
            cache.set(key, found, timeout)
        except Exception:  # noqa: BLE001
            log.warning("could not cache %s", key, exc_info=True)
    return found
