"""What readers get while a backing service is down, in process: Redis (the meter store) and
the database. The bounded system-level fault tests (services really stopped under load) live
with the benchmarks; these pin the application's side of the contract.

- Redis down: anonymous readers of metered articles get the teaser (fail closed) and a
  WARNING is logged; subscribers read in full; nothing answers 500; when Redis is back the
  meter resumes with no restart.
- Database down: any request that needs it answers a branded 503 with Retry-After."""

import contextlib
import logging
import socket
import threading
import time

import pytest
from bs4 import BeautifulSoup
from django.db import InterfaceError, OperationalError, connections
from django.test import Client
from wagtail.models import Site

from masthead.access.meter import get_meter_store
from masthead.access.models import MeterSettings
from masthead.subscriptions import actions
from masthead.subscriptions import views as subscription_views
from tests.factories import make_article
from tests.integration.subscription_factories import NOW, make_plan, make_reader, make_trial

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"
UNAVAILABLE = "We cannot count free articles at the moment"


@pytest.fixture
def metered(site):
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = 3
    config.teaser_paragraphs = 2
    config.save()
    return [
        make_article(site["world"], f"Metered story {n}", prefix=f"M{n}", days_ago=n)
        for n in range(1, 4)
    ]


@pytest.fixture
def redis_meter(settings):
    """Point the meter at a Redis URL; the store is built afresh from the settings."""

    def use(url):
        settings.MASTHEAD_METER_STORE = "masthead.access.meter.redis"
        settings.MASTHEAD_METER_REDIS_URL = url
        get_meter_store.cache_clear()

    yield use
    get_meter_store.cache_clear()


def read(client, page):
    started = time.perf_counter()
    response = client.get(page.url)
    assert response.status_code == 200
    return response, time.perf_counter() - started


def notice(response):
    found = BeautifulSoup(response.content, "html.parser").select_one(".meter-notice")
    return " ".join(found.get_text().split()) if found else None


def full_text(response, n) -> bool:
    return f"M{n} 9 text." in response.content.decode()


def test_anonymous_reader_gets_the_teaser_and_a_warning_when_redis_is_down(
    metered, redis_meter, client, caplog
):
    # given
    redis_meter(DEAD_REDIS)
    # when
    with caplog.at_level(logging.WARNING, logger="masthead.access"):
        response, took = read(client, metered[0])
    # then
    assert UNAVAILABLE in response.content.decode()
    assert not full_text(response, 1)
    assert "M1 1 text." in response.content.decode()  # the teaser is still there
    [warning] = [r for r in caplog.records if "meter unavailable" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert took < 2, "a refused connection must fail fast"


def test_subscriber_reads_in_full_while_redis_is_down(metered, redis_meter, client, at):
    # given a reader in a trial (entitled), and the meter store unreachable
    reader = make_reader()
    actions.start_trial(user=reader, offer=make_trial(make_plan(), NOW), now=NOW)
    client.force_login(reader)
    redis_meter(DEAD_REDIS)
    # when
    response, _ = read(client, metered[0])
    # then
    assert full_text(response, 1)
    assert UNAVAILABLE not in response.content.decode()


class RedisSwitch:
    """A TCP relay in front of the real Redis. stop() is Redis going away: the port refuses
    connections and open ones are cut. start() is Redis coming back on the same address."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener = None
        self._open = []
        self._lock = threading.Lock()

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.05)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def stop(self):
        listener, self._listener = self._listener, None
        listener.close()
        with self._lock:
            opened, self._open = self._open, []
        for end in opened:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@pytest.fixture
def redis_switch(redis_service):
    switch = RedisSwitch(int(redis_service.rsplit(":", 1)[1].split("/")[0]))
    switch.start()
    yield switch
    if switch._listener is not None:
        switch.stop()


def forget_reader(client, db_url):
    """Remove the test reader's meter key from the shared Redis."""
    import redis

    anonymous_id = client.cookies["mh_reader"].value.split(":", 1)[0]  # id:timestamp:signature
    redis.Redis.from_url(db_url).delete(f"masthead:meter:{{a:{anonymous_id}}}")


def test_metering_resumes_when_redis_returns_without_a_restart(
    metered, redis_meter, redis_switch, redis_service, client, caplog
):
    # given the meter in Redis, reached through a switch we can pull
    redis_meter(redis_switch.url(15))
    try:
        first, _ = read(client, metered[0])
        assert notice(first).startswith("You have 2 free articles left this month")
        # when Redis goes away
        redis_switch.stop()
        with caplog.at_level(logging.WARNING, logger="masthead.access"):
            during, took = read(client, metered[1])
        degraded = Client().get("/readyz")
        # then the teaser, a warning, and readiness says degraded (still in rotation)
        assert UNAVAILABLE in during.content.decode() and not full_text(during, 2)
        assert any("meter unavailable" in r.getMessage() for r in caplog.records)
        assert took < 2
        assert degraded.status_code == 200
        assert degraded.json()["checks"]["redis_meter"]["status"] == "warning"
        # when Redis is back: the same store (no restart) counts again
        redis_switch.start()
        after, _ = read(client, metered[2])
        assert notice(after).startswith("You have 1 free article left this month")
        assert full_text(after, 3)
        assert Client().get("/readyz").json()["checks"]["redis_meter"] == {"status": "ok"}
    finally:
        forget_reader(client, redis_service)


# The database


def failing_with(error):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_lost_database_answers_a_branded_503_with_retry_after(site, monkeypatch, error):
    # given a view whose query fails because the database went away
    monkeypatch.setattr(subscription_views, "offers_for", failing_with(error))
    # when
    response = Client(raise_request_exception=False).get("/subscribe/")
    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "We will be back in a moment" in page
    assert "The Meridian Ledger" in page  # branded, without a database
    assert response["X-Request-ID"]
    assert "Content-Security-Policy" in response


def test_an_error_raised_from_a_database_error_is_still_a_503(site, monkeypatch):
    def wrapped(*args, **kwargs):
        try:
            raise OperationalError("could not connect to server")
        except OperationalError as error:
            raise RuntimeError("loading offers failed") from error

    monkeypatch.setattr(subscription_views, "offers_for", wrapped)
    response = Client(raise_request_exception=False).get("/subscribe/")
    assert response.status_code == 503


def test_a_bug_is_still_a_500(site, monkeypatch):
    monkeypatch.setattr(subscription_views, "offers_for", failing_with(KeyError("bug")))
    response = Client(raise_request_exception=False).get("/subscribe/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong on our side" in response.content.decode()


def test_sign_in_answers_503_when_every_query_fails(site, django_user_model, monkeypatch):
    # given the database gone for every query of the request
    django_user_model.objects.create_user(
        username="reader", email="reader@example.com", password="a-long-test-password"
    )
    monkeypatch.setattr(
        connections["default"], "cursor", failing_with(OperationalError("connection refused"))
    )
    # when
    response = Client(raise_request_exception=False).post(
        "/account/sign-in/", {"username": "reader", "password": "a-long-test-password"}
    )
    # then the client is told to retry, and the page rendered without the database
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "We will be back in a moment" in response.content.decode()
