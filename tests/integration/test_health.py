"""/healthz (liveness: no I/O) and /readyz (database, migrations, Redis), which answer even
when what they check is down, and never with a 500."""

import copy
import socket

import pytest
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, override_settings
from django.urls import resolve

from masthead.core import health
from tests.integration.test_configuration import production_env, run

REDIS_METER = "masthead.access.meter.redis"
DEAD_REDIS = "redis://127.0.0.1:1/0"

# /readyz checks the suite's own database and its migrations; a dead one is made per engine
# (unreachable_database). Run on both.
pytestmark = pytest.mark.sqlite


@pytest.fixture(autouse=True)
def _forget_migrations_seen():
    """Each test starts as a fresh process would: migrations not yet seen applied."""
    health._migrations_applied = False
    yield
    health._migrations_applied = False


def readyz(client=None):
    response = (client or Client()).get("/readyz")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response, response.json()


def test_healthz_answers_without_touching_the_database():
    # no django_db mark: any query would fail the test
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]


def test_probes_are_routed_ahead_of_the_page_catch_all():
    assert resolve("/healthz").func is health.healthz
    assert resolve("/readyz").func is health.readyz


def test_probes_answer_head_and_refuse_writes():
    assert Client().head("/healthz").status_code == 200
    assert Client().post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_is_ready_when_the_database_answers_and_migrations_are_applied():
    response, body = readyz()
    assert response.status_code == 200
    checks = {"database": {"status": "ok"}, "migrations": {"status": "ok"}}
    if "meter" in django_settings.DATABASES:  # PostgreSQL: the meter's own connections
        checks["database_meter"] = {"status": "ok"}
    assert body == {"status": "ready", "checks": checks}


@pytest.mark.django_db
def test_readyz_is_unavailable_while_a_migration_is_not_applied():
    # given the newest migration of one app recorded as not applied
    leaf = next(
        node
        for node in MigrationExecutor(connection).loader.graph.leaf_nodes()
        if node[0] == "access"
    )
    MigrationRecorder(connection).record_unapplied(*leaf)
    # when
    response, body = readyz()
    # then
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["migrations"] == {"status": "failed", "unapplied": 1}
    assert body["checks"]["database"] == {"status": "ok"}


def unreachable_database(alias=DEFAULT_DB_ALIAS):
    """A connection to this suite's database engine that cannot connect: a closed port for
    PostgreSQL, a file in a directory that does not exist for SQLite."""
    real = connections[alias]
    settings_dict = copy.deepcopy(real.settings_dict)
    if real.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT="1")
    else:
        settings_dict["NAME"] = "/nonexistent-masthead-dir/db.sqlite3"
    return type(real)(settings_dict, alias=alias)


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_database_is_down(monkeypatch, caplog):
    # given
    dead = unreachable_database()
    monkeypatch.setattr(health, "connections", {DEFAULT_DB_ALIAS: dead})
    # when
    response, body = readyz()
    # then
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"status": "failed", "error": "OperationalError"}
    assert body["checks"]["migrations"]["status"] == "skipped"
    assert "readiness check database" in caplog.text  # the details go to the log
    dead.close()


@pytest.mark.django_db
def test_the_meter_connections_down_are_a_warning_not_a_failure(monkeypatch, caplog):
    # given the default connection answering and the meter's (masthead.access.meter.router)
    # not: the meter fails closed, every page is still served
    if "meter" not in django_settings.DATABASES:
        pytest.skip("the meter alias exists on PostgreSQL only (masthead/settings/base.py)")
    dead = unreachable_database("meter")
    monkeypatch.setattr(
        health, "connections", {DEFAULT_DB_ALIAS: connections[DEFAULT_DB_ALIAS], "meter": dead}
    )
    # when
    response, body = readyz()
    # then
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["database_meter"] == {"status": "warning", "error": "OperationalError"}
    assert "readiness check database_meter" in caplog.text
    dead.close()


@pytest.mark.django_db
def test_redis_down_is_a_warning_not_a_failure(settings, caplog):
    # given the meter in a Redis that is not there
    settings.MASTHEAD_METER_STORE = REDIS_METER
    settings.MASTHEAD_METER_REDIS_URL = DEAD_REDIS
    # when
    response, body = readyz()
    # then still in rotation, and saying what is wrong
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["redis_meter"] == {"status": "warning", "error": "ConnectionError"}
    assert body["checks"]["database"] == {"status": "ok"}
    assert "readiness check redis_meter" in caplog.text
    assert "127.0.0.1:1" not in response.content.decode()  # no addresses in the body


@pytest.mark.django_db
def test_a_redis_cache_is_checked_too():
    # Only the probe runs inside the override: nothing else may touch a dead cache.
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": DEAD_REDIS,
            }
        }
    ):
        response, body = readyz()
    assert response.status_code == 200
    assert body["checks"]["redis_cache_default"]["status"] == "warning"


@pytest.mark.django_db
def test_readyz_is_ready_with_a_live_redis(settings, redis_service):
    settings.MASTHEAD_METER_STORE = REDIS_METER
    settings.MASTHEAD_METER_REDIS_URL = redis_service
    response, body = readyz()
    assert response.status_code == 200
    assert body["status"] == "ready"
    assert body["checks"]["redis_meter"] == {"status": "ok"}


@pytest.mark.django_db
def test_a_redis_that_never_answers_is_given_up_within_the_timeout(settings):
    # given a port that accepts connections but never speaks Redis
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.MASTHEAD_METER_STORE = REDIS_METER
        settings.MASTHEAD_METER_REDIS_URL = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        # when
        response, body = readyz()
    # then
    assert response.status_code == 200
    assert body["checks"]["redis_meter"] == {"status": "warning", "error": "TimeoutError"}


@pytest.mark.django_db
def test_readyz_never_answers_500(monkeypatch):
    def broken():
        raise RuntimeError("a bug in a check")

    monkeypatch.setattr(health, "run_checks", broken)
    response, body = readyz()
    assert response.status_code == 503
    assert body == {
        "status": "unavailable",
        "checks": {"readyz": {"status": "failed", "error": "RuntimeError"}},
    }


@pytest.mark.django_db
def test_migrations_are_read_from_disk_once_per_process(monkeypatch):
    readyz()
    monkeypatch.setattr(health, "MigrationExecutor", None)  # would fail if used again
    response, body = readyz()
    assert body["checks"]["migrations"] == {"status": "ok"}


def test_production_does_not_redirect_probes_to_https():
    # Probes reach an app server directly over plain HTTP; pages still go to HTTPS.
    result = run(
        "import django; django.setup(); from django.test import Client; "
        "c = Client(HTTP_HOST='news.example'); "
        "print(c.get('/healthz').status_code, c.get('/readyz').status_code, "
        "c.get('/').status_code)",
        **production_env(),
    )
    # readyz is 503 here: the in-memory database has no migrations applied.
    assert result.stdout.split() == ["200", "503", "301"], result.stderr
