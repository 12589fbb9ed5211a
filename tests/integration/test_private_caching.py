"""Nothing reader-specific may be kept by a shared cache (a CDN, a proxy): every response that
sets a cookie or shows a reader's data says `Cache-Control: private` (or `no-store`), and a
page frame shared between readers never carries one reader's data to another.

These are behaviour tests: they look only at what readers receive, never at how pages are
cached, so they hold for whatever cache design serves the pages."""

import copy
import io
import re
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.template.loader import get_template
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from wagtail.models import Site

from masthead.access.models import MeterSettings
from masthead.subscriptions.models import Subscription
from tests.integration.subscription_factories import make_plan, make_reader, make_trial

pytestmark = pytest.mark.django_db

# Staff-only, or files rather than pages.
EXCLUDED_PREFIXES = ("admin/",)
_CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def reader_facing_routes() -> set[str]:
    """Every URL pattern of masthead.urls outside the admin, by name (or pattern if unnamed)."""
    found = set()

    def walk(resolver, prefix, namespace):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if route.startswith(EXCLUDED_PREFIXES):
                    continue
                name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
                found.add(name or route)

    walk(get_resolver(), "", None)
    return found


@pytest.fixture
def walk(site, exclusive):
    """Every reader-facing route with the paths to request it by, its parameters filled
    with real objects (tokens and ids of things that need not exist are garbage)."""
    lead, free = site["lead"], site["sponsored"]
    offer = make_trial(make_plan(), timezone.now())
    subscriber = make_reader()
    subscription = Subscription.objects.create(
        user=subscriber,
        plan=offer.plan,
        status="active",
        current_period_end=timezone.now() + timedelta(days=30),
    )
    garbage = uuid.uuid4()
    pages = [
        "/",
        site["world"].url,
        lead.url,
        f"{lead.url}print/",
        exclusive.url,
        free.url,
        "/series/",
        site["series"].url,
        f"/authors/{site['authors'][0].slug}/",
        "/topics/korea/",
        "/no-such-page/",
    ]
    routes = {
        "healthz": ["/healthz"],
        "readyz": ["/readyz"],
        "wagtaildocs_serve": ["/documents/999999/missing.pdf"],
        "wagtaildocs_authenticate_with_password": ["/documents/authenticate_with_password/1/"],
        "readers:account": ["/account/"],
        "readers:sign-in": ["/account/sign-in/"],
        "readers:sign-in-link": ["/account/sign-in/link/"],
        "readers:sign-in-link-confirm": ["/account/sign-in/link/not-a-token/"],
        "readers:sign-in-link-code": ["/account/sign-in/link/code/"],
        "readers:sign-out": ["/account/sign-out/"],
        "readers:sign-out-everywhere": ["/account/sign-out/everywhere/"],
        "readers:sign-up": ["/account/sign-up/"],
        "readers:verify-email-resend": ["/account/verify/resend/"],
        "readers:verify-email": ["/account/verify/not-a-token/"],
        "readers:change-email": ["/account/email/"],
        "readers:change-display-name": ["/account/name/"],
        "readers:private-feed": ["/account/feed/"],
        "readers:password-reset": ["/account/password/reset/"],
        "readers:password-reset-sent": ["/account/password/reset/sent/"],
        "readers:password-reset-confirm": ["/account/password/reset/MQ/not-a-token/"],
        "readers:password-reset-complete": ["/account/password/reset/done/"],
        "api:token": ["/api/v1/token"],
        "api:sign-in-link": ["/api/v1/sign-in-link"],
        "api:article": [f"/api/v1/articles/{lead.pk}", f"/api/v1/articles/{free.pk}"],
        "api:openapi": ["/api/v1/openapi.yaml"],
        "robots-txt": ["/robots.txt"],
        "sitemap": ["/sitemap.xml"],
        "sitemap-news": ["/sitemap-news.xml"],
        "sitemap-section": ["/sitemap-pages.xml", "/sitemap-articles-2026-10.xml"],
        "search": ["/search/", "/search/?q=story", "/search/?q=nothing-matches-this"],
        "subscribe": ["/subscribe/"],
        "subscribe-offer": [f"/subscribe/{offer.pk}/"],
        "test-checkout": [f"/subscribe/checkout/{garbage}/"],
        "subscribe-plan": [f"/subscribe/plan/{offer.plan.slug}/"],
        "test-checkout-done": [f"/subscribe/checkout/{garbage}/done/"],
        "stripe-webhook": ["/subscribe/stripe/webhook/"],
        "stripe-return": [f"/subscribe/stripe/return/{garbage}/"],
        "subscription-billing": [f"/account/subscriptions/{subscription.pk}/billing/"],
        "subscription-cancel": [f"/account/subscriptions/{subscription.pk}/cancel/"],
        "subscription-resume": [f"/account/subscriptions/{subscription.pk}/resume/"],
        "^media/(?P<path>.*)$": ["/media/missing.jpg"],
        "wagtailcore_authenticate_with_password": ["/_util/authenticate_with_password/1/1/"],
        "wagtailcore_login": ["/_util/login/"],
        "wagtail_serve": [*pages, "/_util/"],
    }
    return {"routes": routes, "subscriber": subscriber, "free": free}


def normalised(response) -> bytes:
    """The body, with what differs on every render whoever asks (CSRF form values) cut out."""
    return _CSRF_VALUE.sub(r"\1\2", response.content.decode(errors="replace")).encode()


def privately_cacheable(response) -> bool:
    directives = {
        d.strip().split("=")[0].lower() for d in response.get("Cache-Control", "").split(",")
    }
    return bool(directives & {"private", "no-store"})


def clients(subscriber):
    """A fresh client per request, so no request changes what the next one sees."""
    signed_in = make_reader()

    def anonymous():
        return Client(), None

    def reader():
        client = Client()
        client.force_login(signed_in)
        return client, signed_in

    def subscribed():
        client = Client()
        client.force_login(subscriber)
        return client, subscriber

    return {"anonymous": anonymous, "signed in": reader, "subscriber": subscribed}


def test_the_walk_covers_every_reader_facing_route(walk):
    # A new route fails here until it is given paths to walk.
    assert set(walk["routes"]) == reader_facing_routes()


def test_every_response_that_sets_a_cookie_or_shows_a_readers_data_is_private(walk):
    # given anonymous, signed-in and subscribed readers
    readers = clients(walk["subscriber"])
    failures = []
    for route, paths in walk["routes"].items():
        for path in paths:
            anonymous_body = normalised(Client().get(path))
            for kind, make in readers.items():
                # when each reader asks for every reader-facing page, by GET and by HEAD
                client, user = make()
                got = client.get(path)
                shows_reader = user is not None and (
                    user.email.encode() in got.content or normalised(got) != anonymous_body
                )
                client, _user = make()
                head = client.head(path)
                # then a response that sets a cookie or depends on the reader is private (a
                # HEAD answered otherwise than the GET, e.g. 405, shows no body)
                for method, response, personal in (
                    ("GET", got, shows_reader),
                    ("HEAD", head, shows_reader and head.status_code == got.status_code),
                ):
                    if (response.cookies or personal) and not privately_cacheable(response):
                        failures.append(
                            f"{method} {path} ({route}) as {kind}: {response.status_code}, "
                            f"cookies {sorted(response.cookies)}, shows the reader {personal},"
                            f" Cache-Control {response.get('Cache-Control')!r}"
                        )
    assert not failures, "\n".join(failures)


def test_a_free_article_for_an_anonymous_reader_may_be_cached_publicly(walk):
    # given an anonymous reader without cookies
    client = Client()
    # when they open a free article
    response = client.get(walk["free"].url)
    # then nothing marks it as theirs: a shared cache may keep it
    assert response.status_code == 200
    assert not response.cookies
    assert not privately_cacheable(response)


# --- the shared frame -----------------------------------------------------------------------

# What a site's header may well show of the reader in front of it (an account link with their
# address, a sign-out form with its CSRF token, a message): added to every page for these tests.
READER_HEADER = (
    '<p class="whoami">{{ user.email }}</p>'
    '<form class="sign-out" method="post" action="/account/sign-out/">{% csrf_token %}</form>'
    '{% for message in messages %}<p class="message">{{ message }}</p>{% endfor %}'
)
_BODY_TAG = '<body class="{% block body_class %}{% endblock %}">'
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def header_shows_the_reader(tmp_path, settings):
    """The site's base template, with the reader's data at the top of every page."""
    base = Path(get_template("base.html").origin.name).read_text()
    assert _BODY_TAG in base, "base.html changed: put READER_HEADER elsewhere"
    (tmp_path / "base.html").write_text(base.replace(_BODY_TAG, _BODY_TAG + READER_HEADER))
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates


@pytest.fixture
def subscriber():
    found = make_reader()
    Subscription.objects.create(
        user=found,
        plan=make_plan(),
        status="active",
        current_period_end=timezone.now() + timedelta(days=30),
    )
    return found


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.get("/account/")  # the CSRF cookie, as a browser that has seen a form has one
    return client


def csrf_tokens(html: str) -> set[str]:
    return set(_CSRF_INPUT.findall(html))


def article_paths(site, exclusive):
    # The site's meter settings exist before any reader comes (creating them changes pages).
    MeterSettings.for_site(Site.objects.get(is_default_site=True))
    for article in (site["lead"], exclusive, site["sponsored"]):  # metered, subscribers, free
        yield article.url
        yield f"{article.url}print/"


def test_the_header_shows_the_reader_on_pages_nobody_shares(
    site, subscriber, header_shows_the_reader
):
    # A check of the test's own header: on their account page the subscriber sees it filled.
    page = signed_in(subscriber).get("/account/").content.decode()
    assert subscriber.email in page and csrf_tokens(page)


def test_an_anonymous_reader_never_gets_a_page_a_subscriber_filled_the_cache_with(
    site, exclusive, subscriber, header_shows_the_reader
):
    for path in article_paths(site, exclusive):
        # given a signed-in subscriber who read the article first
        seen = signed_in(subscriber).get(path)
        assert seen.status_code == 200, path
        # when an anonymous reader opens it
        page = Client().get(path).content.decode()
        # then nothing of the subscriber's comes with it
        assert subscriber.email not in page, path
        assert not csrf_tokens(page) & csrf_tokens(seen.content.decode()), path


def test_a_reader_never_gets_the_page_another_reader_filled_the_cache_with(
    site, exclusive, subscriber, header_shows_the_reader
):
    other = make_reader()
    for path in article_paths(site, exclusive):
        seen = signed_in(subscriber).get(path).content.decode()
        page = signed_in(other).get(path).content.decode()
        assert subscriber.email not in page, path
        assert not csrf_tokens(page) & csrf_tokens(seen), path


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, called as the app server calls it."""
    return WSGIHandler()


def wsgi_get(app, path, cookie="") -> str:
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": cookie,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    statuses = []
    # The test's database connection must stay open across requests (as Django's test
    # client does it; the client connects the receivers again after each of its requests).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        response = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        body = b"".join(response)
        response.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert statuses and statuses[0].startswith("200"), (path, statuses)
    return body.decode()


def test_the_wsgi_application_never_gives_an_anonymous_reader_a_subscribers_page(
    site, exclusive, subscriber, header_shows_the_reader, wsgi_app
):
    client = signed_in(subscriber)
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    for path in article_paths(site, exclusive):
        # given a subscriber who read the article first, through the WSGI application
        seen = wsgi_get(wsgi_app, path, cookie)
        # when an anonymous reader opens it the same way
        page = wsgi_get(wsgi_app, path)
        # then nothing of the subscriber's comes with it
        assert subscriber.email not in page, path
        assert not csrf_tokens(page) & csrf_tokens(seen), path
