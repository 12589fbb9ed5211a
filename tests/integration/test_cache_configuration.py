"""The production cache (masthead.settings.caching): django-redis, failing soft on
``default`` (a dead Redis is a miss and a dropped write, logged) and raising on ``strict``;
every key carries the release (masthead.core.release)."""

import logging
import uuid

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from masthead.core import release
from masthead.settings.caching import redis_caches

DEAD_REDIS = "redis://127.0.0.1:1/0"  # port 1 refuses at once: a Redis that is down


@pytest.fixture
def dead():
    with override_settings(CACHES=redis_caches(DEAD_REDIS, "masthead-test")):
        yield caches["default"], caches["strict"]


def test_a_dead_redis_is_a_miss_and_writes_are_dropped(dead, caplog):
    default, _ = dead
    with caplog.at_level(logging.ERROR, logger="masthead.cache"):
        assert default.get("k", "fallback") == "fallback"
        assert default.get_many(["a", "b"]) == {}
        assert default.get_or_set("k", lambda: "made", 30) == "made"
        default.set("k", 1)
        assert not default.add("k", 1)
        default.delete_many(["a"])
    assert any("Exception ignored" in r.getMessage() for r in caplog.records)


def test_the_strict_cache_raises_so_its_callers_decide(dead):
    _, strict = dead
    for write in (lambda: strict.set("k", 1), lambda: strict.delete("k"), lambda: strict.incr("k")):
        with pytest.raises(redis.ConnectionError):
            write()


def test_a_live_redis_behaves_as_djangos_cache(redis_service):
    prefix = f"masthead-test-cache-{uuid.uuid4().hex}"
    with override_settings(CACHES=redis_caches(redis_service, prefix)):
        live = caches["default"]
        live.set("k", {"v": 1}, 30)
        assert live.get("k") == {"v": 1}
        assert caches["strict"].get("k") == {"v": 1}  # one Redis, two behaviours
        assert live.add("k", 2) is False
        assert live.get_many(["k", "missing"]) == {"k": {"v": 1}}
        live.delete("k")
        assert live.get("k", "gone") == "gone"


def test_a_new_migration_or_release_name_changes_every_key(monkeypatch, tmp_path):
    before = release.release()
    release.release.cache_clear()
    monkeypatch.setenv("MASTHEAD_RELEASE", "build-42")
    try:
        named = release.release()
        assert named != before and named.endswith(":build-42")
        # a migration file more is a different release
        app = tmp_path / "app" / "migrations"
        app.mkdir(parents=True)
        (app / "0001_initial.py").write_text("")
        monkeypatch.setattr(release, "PACKAGE", tmp_path)
        release.release.cache_clear()
        assert release.release() != named
    finally:
        release.release.cache_clear()
