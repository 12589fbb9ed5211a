"""The fast lane (masthead.news.fast_lane) answers anonymous article GETs ahead of Django's
middleware: what it answers must be what Django's path answers, header by header and byte by
byte, and everything it does not answer must reach Django unchanged.

Both lanes are called as gunicorn calls the application, with a WSGI environ."""

import io
import logging
import sys
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client, override_settings
from django.utils import timezone
from wagtail.models import Site

from masthead.access.models import MeterSettings
from masthead.campaigns.models import Banner
from masthead.news import fast_lane, rendering
from masthead.news.fast_lane import FastLane
from masthead.news.models import ArticlePage
from masthead.subscriptions.models import Subscription
from tests.factories import make_article
from tests.integration.subscription_factories import make_plan, make_reader

pytestmark = pytest.mark.django_db

PAYWALLED = "Paragraph 9 text."  # beyond the two-paragraph teaser
TEASER = "Paragraph 1 text."
PANEL = '<section class="paywall"'
# Differ on every response by design; compared for presence only.
PER_RESPONSE = {"X-Request-ID", "Set-Cookie"}


@pytest.fixture(autouse=True)
def _keep_test_transaction(monkeypatch):
    """As Django's test client does: the test's transaction must outlive each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    monkeypatch.setattr(fast_lane, "close_old_connections", lambda: None)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def news(site):
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = 3
    config.teaser_paragraphs = 2
    config.save()
    world = site["world"]
    site["metered"] = [make_article(world, f"Metered story {n}", days_ago=n) for n in (1, 2, 3, 4)]
    site["exclusive"] = make_article(world, "Exclusive story", access="subscribers")
    return site


class CountingDjango:
    """Django's application, counting the requests that reach it."""

    def __init__(self):
        self.app = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def django_app():
    return CountingDjango()


@pytest.fixture
def lane(django_app):
    return FastLane(django_app)


def call(app, path, *, cookie=None, method="GET", query="", **extra):
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **extra,
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return Answer(answer["status"], answer["headers"], body.decode())


class Answer:
    def __init__(self, status, headers, body):
        self.status = int(status.split()[0])
        self.headers = headers
        self.body = body

    def header(self, name):
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def named(self):
        return {key for key, _ in self.headers}

    def reader_cookie(self):
        found = SimpleCookie()
        for value in self.header("Set-Cookie"):
            found.load(value)
        morsel = found.get("mh_reader")
        return None if morsel is None else f"mh_reader={morsel.value}"

    def cookie_attributes(self):
        found = SimpleCookie()
        for value in self.header("Set-Cookie"):
            found.load(value)
        return {
            name: {
                key: morsel[key] for key in ("path", "max-age", "httponly", "secure", "samesite")
            }
            for name, morsel in found.items()
        }


def served_by_lane(lane, django_app, path, **kwargs) -> Answer:
    before = django_app.calls
    answer = call(lane, path, **kwargs)
    assert django_app.calls == before, "Django answered a request the fast lane should have"
    return answer


def served_by_django(lane, django_app, path, **kwargs) -> Answer:
    before = django_app.calls
    answer = call(lane, path, **kwargs)
    assert django_app.calls == before + 1, "the fast lane answered a request meant for Django"
    return answer


def assert_same_response(fast: Answer, slow: Answer) -> None:
    assert fast.status == slow.status == 200
    assert fast.body == slow.body
    assert fast.named() == slow.named()
    for key, value in slow.headers:
        if key not in PER_RESPONSE:
            assert fast.header(key) == [value], key
    assert fast.cookie_attributes() == slow.cookie_attributes()


# --- the same answer as Django's ---------------------------------------------------------


def test_a_new_reader_gets_djangos_page_with_the_meter_counted(news, lane, django_app):
    path = news["metered"][0].url
    call(django_app, path)  # both lanes then meet the same cached pieces
    slow = call(django_app, path)
    fast = served_by_lane(lane, django_app, path)
    assert_same_response(fast, slow)
    assert "You have 2 free articles left this month" in fast.body
    assert PAYWALLED in fast.body
    assert fast.reader_cookie() and fast.reader_cookie() != slow.reader_cookie()
    assert fast.header("Cache-Control") == ["private"]


def test_the_reader_cookie_counts_the_same_in_both_lanes(news, lane, django_app):
    first, second, third, fourth = (page.url for page in news["metered"])
    cookie = call(django_app, first).reader_cookie()
    fast = served_by_lane(lane, django_app, second, cookie=cookie)
    assert "This is your last free article this month" not in fast.body
    assert "You have 1 free article left this month" in fast.body
    # the cookie's first read is stored now, so it comes back holding only the id
    stored = fast.reader_cookie().split(":")[0]
    assert stored == cookie.split(":")[0].split(".")[0]
    cookie = fast.reader_cookie()
    again = served_by_lane(lane, django_app, first, cookie=cookie)  # read before: not counted
    assert PAYWALLED in again.body and "meter-notice" not in again.body
    slow = call(django_app, third, HTTP_COOKIE=cookie)
    assert "This is your last free article this month" in slow.body
    past = served_by_lane(lane, django_app, fourth, cookie=cookie)
    assert past.status == 200
    assert TEASER in past.body and PAYWALLED not in past.body
    assert PANEL in past.body
    assert_same_response(past, call(django_app, fourth, HTTP_COOKIE=cookie))


def test_subscribers_only_article_gets_the_teaser_and_paywall(news, lane, django_app):
    path = news["exclusive"].url
    slow = call(django_app, path)
    fast = served_by_lane(lane, django_app, path)
    assert_same_response(fast, slow)
    assert TEASER in fast.body and PAYWALLED not in fast.body


def test_free_article_is_served_whole_and_cacheable(news, lane, django_app):
    path = news["sponsored"].url
    slow = call(django_app, path)
    fast = served_by_lane(lane, django_app, path)
    assert_same_response(fast, slow)
    assert fast.header("Cache-Control") == []
    assert fast.header("Set-Cookie") == []
    assert fast.header("Vary") == ["Cookie"]  # the session was asked who is reading


def test_print_view_and_live_banners_match(news, lane, django_app):
    Banner.objects.create(
        text="Election night: live results",
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    path = news["metered"][0].url + "print/"
    slow = call(django_app, path)
    fast = served_by_lane(lane, django_app, path)
    assert_same_response(fast, slow)
    page = call(django_app, news["metered"][0].url)
    assert "Election night: live results" in page.body
    assert_same_response(served_by_lane(lane, django_app, news["metered"][0].url), page)


def test_utm_parameters_do_not_change_the_page(news, lane, django_app):
    path = news["exclusive"].url
    slow = call(django_app, path, query="utm_source=social&utm_medium=share")
    fast = served_by_lane(lane, django_app, path, query="utm_source=social&utm_medium=share")
    assert_same_response(fast, slow)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.mark.parametrize(
    ("status", "period_end_days", "full"),
    [("active", 30, True), ("canceled", -3, False)],
    ids=["subscriber-reads-in-full", "lapsed-subscriber-gets-the-paywall"],
)
def test_subscribers_get_what_djangos_path_gives_them(
    news, lane, django_app, status, period_end_days, full
):
    reader = make_reader()
    Subscription.objects.create(
        user=reader,
        plan=make_plan(),
        status=status,
        current_period_end=timezone.now() + timedelta(days=period_end_days),
    )
    cookie = session_cookie(reader)
    path = news["exclusive"].url
    slow = call(django_app, path, HTTP_COOKIE=cookie)
    fast = served_by_lane(lane, django_app, path, cookie=cookie)
    assert_same_response(fast, slow)
    assert (PAYWALLED in fast.body) is full
    assert (PANEL in fast.body) is not full


def test_a_signed_in_reader_is_metered_on_the_account_in_both_lanes(news, lane, django_app):
    cookie = session_cookie(make_reader())
    first, second = news["metered"][0].url, news["metered"][1].url
    slow = call(django_app, first, HTTP_COOKIE=cookie)
    fast = served_by_lane(lane, django_app, second, cookie=cookie)
    assert "meter-notice" in slow.body and "meter-notice" in fast.body
    assert fast.reader_cookie() is None  # an account needs no anonymous id
    anonymous = served_by_lane(lane, django_app, second)
    assert fast.body != anonymous.body  # counted on the account, not as a new reader


def test_a_garbage_session_cookie_is_an_anonymous_reader(news, lane, django_app):
    path = news["metered"][0].url
    fast = served_by_lane(lane, django_app, path, cookie="sessionid=not-a-session")
    assert fast.status == 200
    assert "You have 2 free articles left this month" in fast.body


def test_a_tampered_cookie_is_a_new_reader(news, lane, django_app):
    cookie = call(django_app, news["metered"][0].url).reader_cookie()
    forged = cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB")
    fast = served_by_lane(lane, django_app, news["metered"][1].url, cookie=forged)
    assert fast.status == 200
    assert "You have 2 free articles left this month" in fast.body
    assert fast.reader_cookie() not in (None, cookie, forged)


def test_a_publish_reaches_the_fast_lane(news, lane, django_app):
    page = news["metered"][0]
    assert TEASER in served_by_lane(lane, django_app, page.url).body
    page = ArticlePage.objects.get(pk=page.pk)
    page.body = [("paragraph", "<p>A corrected first paragraph.</p>")]
    page.save_revision().publish()
    fast = served_by_lane(lane, django_app, page.url)
    assert "A corrected first paragraph." in fast.body
    assert TEASER not in fast.body
    page.unpublish()
    assert served_by_django(lane, django_app, page.url).status == 404


def test_the_access_log_line_carries_the_request_id(news, lane, django_app, caplog):
    with caplog.at_level(logging.INFO, logger="masthead.requests"):
        fast = served_by_lane(lane, django_app, news["metered"][0].url)
    (record,) = [r for r in caplog.records if r.name == "masthead.requests"]
    assert record.status == 200
    assert record.path == news["metered"][0].url
    assert fast.header("X-Request-ID")[0]


# --- everything else goes to Django ------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{"method": "POST"}, {"method": "HEAD"}, {"SCRIPT_NAME": "/news"}],
    ids=["post", "head", "script-name"],
)
def test_requests_the_lane_does_not_know_go_to_django(news, lane, django_app, kwargs):
    served_by_django(lane, django_app, news["metered"][0].url, **kwargs)


@pytest.mark.parametrize("path", ["/", "/world/", "/no-such-story/", "/admin/", "/healthz"])
def test_other_pages_go_to_django(news, lane, django_app, path):
    served_by_django(lane, django_app, path)


def test_a_path_with_escapes_goes_to_django(news, lane, django_app):
    served_by_django(lane, django_app, news["metered"][0].url.replace("-", "%2D"))


def test_plain_http_goes_to_django_when_https_is_required(news):
    path = news["metered"][0].url
    with override_settings(SECURE_SSL_REDIRECT=True):
        django_app = CountingDjango()  # the middleware reads its settings when built
        lane = FastLane(django_app)
        assert served_by_django(lane, django_app, path).status == 301
        served_by_lane(lane, django_app, path, **{"wsgi.url_scheme": "https"})


def test_a_host_not_allowed_goes_to_django(news, lane, django_app):
    with override_settings(ALLOWED_HOSTS=["news.example"]):
        answer = served_by_django(lane, django_app, news["metered"][0].url)
    assert answer.status == 400


def test_without_the_shared_cache_django_answers(news, lane, django_app, monkeypatch):
    monkeypatch.setattr(rendering, "generation", lambda request=None: None)
    answer = served_by_django(lane, django_app, news["metered"][0].url)
    assert answer.status == 200 and TEASER in answer.body


def test_a_failure_in_the_lane_is_answered_by_django(news, lane, django_app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(rendering, "article_response", broken)
    monkeypatch.setattr("masthead.news.views.rendering.article_response", broken)
    with caplog.at_level(logging.ERROR, logger="masthead.news.fast_lane"):
        answer = served_by_django(lane, django_app, news["sponsored"].url)
    assert answer.status == 500
    assert "fast lane failed" in caplog.text


def test_switched_off_everything_goes_to_django(news, django_app):
    with override_settings(MASTHEAD_FAST_LANE=False):
        lane = FastLane(django_app)
    served_by_django(lane, django_app, news["metered"][0].url)


def test_middleware_the_lane_does_not_know_switches_it_off(news, django_app, caplog):
    extra = [*settings.MIDDLEWARE, "tests.integration.test_fast_lane.Stamp"]
    with override_settings(MIDDLEWARE=extra):
        stamped = CountingDjango()
        lane = FastLane(stamped)
    assert "fast lane off" in caplog.text and "Stamp" in caplog.text
    with override_settings(MIDDLEWARE=extra):
        answer = served_by_django(lane, stamped, news["metered"][0].url)
    assert answer.header("X-Stamp") == ["yes"]


class Stamp:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Stamp"] = "yes"
        return response


def test_database_connections_are_checked_around_each_request(news, lane, monkeypatch):
    calls = []
    monkeypatch.setattr(fast_lane, "close_old_connections", lambda: calls.append(1))
    call(lane, news["metered"][0].url)
    assert len(calls) == 2
