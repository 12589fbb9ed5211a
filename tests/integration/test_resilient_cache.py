"""The production cache fails soft: with Redis gone, reads miss and writes are dropped (with
one warning), so pages that only use the cache keep answering; with Redis there, it is
Django's RedisCache."""

import logging
import uuid

import pytest
import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from masthead.core import cache as resilient
from masthead.core.cache import ResilientRedisCache


@pytest.fixture
def dead_cache(monkeypatch):
    monkeypatch.setattr(resilient, "_warned_at", 0.0)
    # Port 1 refuses at once: a Redis that is down.
    return ResilientRedisCache(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}}
    )


def test_a_dead_redis_is_a_miss_and_writes_are_dropped(dead_cache, caplog):
    with caplog.at_level(logging.WARNING, logger="masthead.core.cache"):
        assert dead_cache.get("k", "fallback") == "fallback"
        assert dead_cache.get_many(["a", "b"]) == {}
        assert dead_cache.has_key("k") is False
        assert dead_cache.add("k", 1) is False
        dead_cache.set("k", 1)
        assert dead_cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert dead_cache.touch("k", DEFAULT_TIMEOUT) is False
        assert dead_cache.delete("k") is False
        dead_cache.delete_many(["a"])
    warnings = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once per interval, not once per call


def test_counters_still_raise_so_their_callers_decide(dead_cache):
    with pytest.raises(redis.RedisError):
        dead_cache.incr("k")


def test_writes_whose_loss_matters_still_raise(dead_cache):
    # The generation tokens (masthead.core.generations) retry, or fall back, on these.
    with pytest.raises(redis.RedisError):
        dead_cache.set_or_raise("k", 1)
    with pytest.raises(redis.RedisError):
        dead_cache.delete_or_raise("k")


def test_a_live_redis_behaves_as_djangos_cache(redis_service):
    live = ResilientRedisCache(
        redis_service, {"KEY_PREFIX": f"masthead-test-resilient-{uuid.uuid4().hex}"}
    )
    live.set("k", {"v": 1}, 30)
    assert live.get("k") == {"v": 1}
    assert live.add("k", 2) is False
    assert live.get_many(["k", "missing"]) == {"k": {"v": 1}}
    live.delete("k")
    assert live.get("k", "gone") == "gone"


def test_one_client_per_connection_pool_is_kept(redis_service):
    # Django builds a redis.Redis per call; ours keeps one (masthead.core.cache).
    live = ResilientRedisCache(
        redis_service, {"KEY_PREFIX": f"masthead-test-resilient-{uuid.uuid4().hex}"}
    )
    first = live._cache.get_client()
    live.set("k", 1, 30)
    assert live._cache.get_client(write=True) is first
    assert live.get("k") == 1
    live.delete("k")
