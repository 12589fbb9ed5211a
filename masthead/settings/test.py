"""Tests: fast hashing, local-memory cache, locmem e-mail; DATABASE_URL picks SQLite or
PostgreSQL so the same suite runs on both."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

SECRET_KEY = "test-only-insecure-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    name: {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_PREFIX": CACHE_KEY_PREFIX,  # noqa: F405
    }
    for name in ("default", "strict")
}
# Production's session engine (with Redis; the demo keeps Django's database sessions), over
# the local-memory cache: every test that signs in goes through it.
SESSION_ENGINE = "masthead.readers.sessions"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The mail queue sends each message as it is queued, so a test reads mail.outbox right after
# the request; tests/integration/test_mail_queue.py runs the database queue and its worker.
TASKS = {
    **TASKS,  # noqa: F405
    "mail": {**TASKS["mail"], "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},  # noqa: F405
}
MASTHEAD_SERVE_MEDIA = True
# The Redis database of the tests that use a live Redis (tests/conftest.py, redis_service):
# one per pytest-xdist worker (gw0: 15, gw1: 14, ... gw7: 8), because clearing a Redis cache
# is FLUSHDB, which would empty another worker's keys in a shared database. A second run on
# the same machine (another checkout) takes databases below its own with
# MASTHEAD_TEST_REDIS_TOP=7 (gw0: 7, gw1: 6, ...).
_XDIST_WORKER = int((os.environ.get("PYTEST_XDIST_WORKER") or "gw0").removeprefix("gw"))
_REDIS_TOP = int(os.environ.get("MASTHEAD_TEST_REDIS_TOP") or 15)
if not 0 <= _REDIS_TOP - _XDIST_WORKER <= 15:
    raise ImproperlyConfigured(
        f"Redis databases {_REDIS_TOP} down to 0 serve at most {_REDIS_TOP + 1} xdist workers"
    )
MASTHEAD_TEST_REDIS_DB = _REDIS_TOP - _XDIST_WORKER
# Tests load the demo (load_demo) and pay with the test provider; the refusals without it are
# tested with overrides (tests/integration/test_production_defaults.py).
MASTHEAD_DEMO = True
# Renditions are made when a page first shows them; tests/integration/test_images.py turns
# load_demo's on.
MASTHEAD_DEMO_RENDITIONS = False
# Tests clear the cache between (and inside) tests; each must see that at once.
# tests/integration/test_generation_tokens.py covers the production setting.
MASTHEAD_GENERATION_LOCAL_SECONDS = 0
# Tests read every token on every request: fewer buckets (tests that need two families in
# different buckets choose them so, tests/integration/test_article_cache.py).
MASTHEAD_LISTING_BUCKETS = 16
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
ALLOWED_HOSTS = ["*"]
WAGTAILADMIN_BASE_URL = "http://testserver"
if not os.environ.get("DATABASE_URL"):
    # A file, not :memory:, so concurrent threads in the meter race tests really queue on
    # SQLite's write lock as production does.
    DATABASES["default"] = {  # noqa: F405
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "test.sqlite3",  # noqa: F405
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": VAR_DIR / f"test-db-{os.getpid()}.sqlite3"},  # noqa: F405
    }
else:
    # One test database per run, so two runs against one PostgreSQL server do not collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_masthead_{os.getpid()}"}  # noqa: F405
    # The meter alias names the same test database, so Django creates it once and points
    # the alias at it. Not a TEST MIRROR: a mirror is left out of each test's transaction,
    # and meter rows would outlive the test (tests/conftest.py adds the alias to DB tests).
    DATABASES["meter"]["TEST"] = dict(DATABASES["default"]["TEST"])  # noqa: F405
