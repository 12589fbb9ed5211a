import os

import pytest
from hypothesis import settings as hypothesis_settings

from tests.services import PORTS, is_up

# Property tests check rules, not speed: hypothesis's per-example deadline (200 ms) failed
# examples that a loaded two-core CI machine merely ran slowly. Figures of speed are for
# bench/, never a test.
hypothesis_settings.register_profile("masthead", deadline=None)
hypothesis_settings.load_profile("masthead")


def pytest_collection_modifyitems(items):
    """Every database test gets the meter's alias too where settings define one (PostgreSQL:
    masthead.access.meter.router), so Django allows the meter's queries and its rows are in
    the test's transaction, rolled back with the rest."""
    from django.conf import settings

    from masthead.access.meter.router import METER_DATABASE

    if METER_DATABASE not in settings.DATABASES:
        return
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None and not {"db", "transactional_db", "live_server"} & set(
            item.fixturenames
        ):
            continue
        options = _django_db(*marker.args, **marker.kwargs) if marker else _django_db()
        if options["databases"] == "__all__":
            continue
        options["databases"] = sorted({"default", METER_DATABASE, *(options["databases"] or ())})
        item.add_marker(pytest.mark.django_db(**options), append=False)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's, then every connection closed before the test databases are dropped:
    a TestCase leaves its connections open, and PostgreSQL will not drop a database the
    meter alias's connection is still in."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        connections.close_all()


@pytest.fixture(scope="session", autouse=True)
def _flush_by_deleting():
    """Transactional tests (live_server: the browser tests) empty the database after each
    test with Django's flush, which on PostgreSQL is one TRUNCATE of every table: 1.6-2.9 s
    here, as PostgreSQL makes new files for each table and index. The test database's tables
    hold a few rows, and DELETE empties them in milliseconds; the foreign keys Django makes
    are deferred, so the order does not matter within the flush's transaction. Only when no
    sequence is to be reset (those flushes stay TRUNCATE ... RESTART IDENTITY)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncating = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncating(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        deletes = [f"DELETE FROM {self.quote_name(table)};" for table in tables]
        return ["SET CONSTRAINTS ALL DEFERRED;", *deletes]

    patch = pytest.MonkeyPatch()
    patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
    yield
    patch.undo()


def _django_db(
    transaction=False,
    reset_sequences=False,
    databases=None,
    serialized_rollback=False,
    available_apps=None,
):
    """The django_db marker's signature (pytest-django), as keyword arguments."""
    return locals()


def require_service(name: str) -> None:
    """Skip when a local service is missing, except in CI where its absence is a failure."""
    if is_up(name):
        return
    message = f"{name} is not running on 127.0.0.1:{PORTS[name]}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, and CI must run this test")
    pytest.skip(message)


@pytest.fixture
def redis_service(settings):
    """The local Redis, in this xdist worker's own database (settings.MASTHEAD_TEST_REDIS_DB)."""
    require_service("redis")
    return f"redis://127.0.0.1:{PORTS['redis']}/{settings.MASTHEAD_TEST_REDIS_DB}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rolled-back test data must not live on in the cache (e.g. a campaign window)."""
    from django.core.cache import cache

    from masthead.core import generations

    cache.clear()
    generations.forget_local()
    yield
    cache.clear()
    generations.forget_local()
