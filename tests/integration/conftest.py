import io

import pytest

from tests.factories import (
    make_article,
    make_author,
    make_home,
    make_image,
    make_section,
    make_series,
    make_sponsor,
)
from tests.indexing import indexed_once
from tests.snapshots import restore_or_build, take_on_postgresql


@pytest.fixture(scope="session")
def _site_snapshot(django_db_setup, django_db_blocker):
    """The small publication, built once per test process on PostgreSQL (tests/snapshots.py);
    None on SQLite, where each test builds it, and with MASTHEAD_TEST_SNAPSHOTS=0."""
    return take_on_postgresql(build_site, django_db_blocker)


@pytest.fixture
def site(db, _site_snapshot):
    """A small publication: two sections, a series of two, a sponsored story. Put back from
    the process's snapshot of it where the database and the clock allow, else built."""
    return restore_or_build(_site_snapshot, build_site)


def build_site():
    with indexed_once():
        home = make_home()
        world = make_section(home, "World")
        business = make_section(home, "Business")
        series = make_series(home, "Southern Compass")
        ada = make_author("Ada Reporter")
        ben = make_author("Ben Writer")
        sponsor = make_sponsor("Acme Shipping")
        lead = make_article(
            world,
            "Seoul and Jakarta sign pact",
            authors=[ada, ben],
            series=series,
            deck_second="Beijing warns of bloc politics",
            lead_image=make_image("Pact"),
            lead_image_caption="Two ministers shake hands",
            lead_image_credit="Source photos by Pool via Agency",
            topics=["Korea", "Defence"],
        )
        earlier = make_article(world, "Seoul pledges aid", authors=[ada], series=series, days_ago=3)
        topical = make_article(
            business, "Shipyards boom", authors=[ben], topics=["Korea", "Defence"], days_ago=5
        )
        sponsored = make_article(
            business,
            "Ports go automatic",
            authors=[ada],
            sponsor=sponsor,
            access="free",
            days_ago=1,
        )
    return {
        "home": home,
        "world": world,
        "business": business,
        "series": series,
        "authors": (ada, ben),
        "sponsor": sponsor,
        "lead": lead,
        "earlier": earlier,
        "topical": topical,
        "sponsored": sponsored,
    }


def load_demo():
    from django.core.management import call_command

    call_command("load_demo", stdout=io.StringIO())


@pytest.fixture(scope="session")
def _demo_snapshot(django_db_setup, django_db_blocker):
    return take_on_postgresql(load_demo, django_db_blocker)


@pytest.fixture
def demo(db, _demo_snapshot):
    """The demo publication as `load_demo` makes it (put back from a snapshot where it can
    be, tests/snapshots.py). Tests of load_demo itself call the command."""
    restore_or_build(_demo_snapshot, load_demo)


@pytest.fixture
def exclusive(site):
    """A subscribers-only story in the small publication."""
    return make_article(site["world"], "Exclusive story", access="subscribers")


@pytest.fixture
def at(time_machine):
    """Move the clock (masthead.core.clock, and Django's, sessions' and signatures' with it):
    `at(when)`; it starts at subscription_factories.NOW and stands still until moved."""
    from tests.integration.subscription_factories import NOW

    def move(when):
        time_machine.move_to(when, tick=False)

    move(NOW)
    return move


@pytest.fixture
def reader(client):
    """A reader signed in on the test client (modules with their own `reader` override it)."""
    from tests.integration.subscription_factories import make_reader

    found = make_reader()
    client.force_login(found)
    return found


@pytest.fixture
def rendered_templates():
    """The name of each template rendered from here on, in order."""
    from django.test.signals import template_rendered

    names = []

    def record(sender, template, **kwargs):
        names.append(template.name)

    template_rendered.connect(record)
    yield names
    template_rendered.disconnect(record)


@pytest.fixture
def cache_reads(monkeypatch):
    """Each read the shared cache is asked for, as ("get" | "get_many", [keys]), in order."""
    from django.core.cache import cache

    reads = []
    get, get_many = cache.get, cache.get_many
    inside_get_many = []

    def counting_get(key, *args, **kwargs):
        if not inside_get_many:  # local memory's get_many is a loop over get
            reads.append(("get", [key]))
        return get(key, *args, **kwargs)

    def counting_get_many(keys, *args, **kwargs):
        reads.append(("get_many", list(keys)))
        inside_get_many.append(True)
        try:
            return get_many(keys, *args, **kwargs)
        finally:
            inside_get_many.pop()

    monkeypatch.setattr(cache, "get", counting_get)
    monkeypatch.setattr(cache, "get_many", counting_get_many)
    return reads


@pytest.fixture
def smtp():
    """A real SMTP server on a private port, down until `smtp.start()` (tests/integration/
    mail_queue.py); each message it accepts is in `smtp.messages`."""
    from tests.integration.mail_queue import SmtpServer

    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def mail_queue(settings, smtp):
    """The production mail path: messages queued in the database (django-tasks-db) and sent
    over SMTP to `smtp` by the worker (mail_queue.run_worker), instead of the test settings'
    send-at-once queue and in-memory outbox."""
    mail = {**settings.TASKS["mail"], "BACKEND": "django_tasks_db.DatabaseBackend"}
    settings.TASKS = {**settings.TASKS, "mail": mail}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return smtp


@pytest.fixture(params=["db", "redis"])
def each_meter_store(request, settings):
    """The configured meter store, once per kind: the suite's database, or Redis (this
    worker's database, redis_service) under a prefix of this test's own (the store is built
    once from the settings, then reused by the site)."""
    import uuid

    from masthead.access.meter import get_meter_store

    get_meter_store.cache_clear()
    if request.param == "redis":
        settings.MASTHEAD_METER_STORE = "masthead.access.meter.redis"
        settings.MASTHEAD_METER_REDIS_URL = request.getfixturevalue("redis_service")
    store = get_meter_store()
    if request.param == "redis":
        store.prefix = f"test:{uuid.uuid4().hex}:"
    yield store
    store.clear()
    get_meter_store.cache_clear()


@pytest.fixture
def dead_redis():
    """The production cache configuration (django-redis) on a Redis that is down: port 1
    refuses at once."""
    from django.test import override_settings

    from masthead.core import generations
    from masthead.settings.caching import redis_caches

    with override_settings(CACHES=redis_caches("redis://127.0.0.1:1/0", "masthead-test")):
        generations.forget_local()
        yield
    generations.forget_local()
