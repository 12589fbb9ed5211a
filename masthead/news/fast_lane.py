"""The fast lane: article GETs answered ahead of Django's request handler.

Most requests a news site serves are readers opening an article. For such a request Django's
handler spends about as long on its own machinery (URL resolution, the request signals,
a call chain through every middleware, most of which has nothing to do for it) as the
article itself costs. This WSGI layer sits in front of Django's application and answers the
GETs whose path the URLconf sends to the article view and the route cache knows as a live,
unrestricted article (``views.article_route``); everything else, and any request it fails
on, goes to Django's application unchanged.

It answers with the same code as Django's path, only called directly: the article view's
own ``views.serve_article`` (the access decision, the meter, the cached pieces), between the
``process_request`` and ``process_response`` hooks of the project's middleware, in the
order of ``settings.MIDDLEWARE``. Each middleware must be one it knows (``HOOKED``,
``IDLE``, the request id); a deployment that adds any other gets no fast lane, with a
warning, so that its middleware is never skipped. ``tests/integration/test_fast_lane.py``
compares its answers with Django's, header by header and byte by byte.

``MASTHEAD_FAST_LANE=false`` turns it off.
"""

import logging
import re
from functools import cached_property

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.urls import Resolver404, resolve
from django.utils.module_loading import import_string

from masthead.core.memo import Memo
from masthead.core.middleware import RequestIdMiddleware

from . import views

log = logging.getLogger(__name__)

REQUEST_ID = "masthead.core.middleware.RequestIdMiddleware"
# Called through their process_request / process_response hooks.
HOOKED = frozenset(
    {
        "masthead.core.middleware.PrivateResponseMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "masthead.core.middleware.ContentSecurityPolicyMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "masthead.access.middleware.ReaderMiddleware",
    }
)
# Nothing to do for an article page: static files only; 404s only.
IDLE = frozenset(
    {
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    }
)
# Paths of the shape article URLs have: ASCII slugs, a trailing slash. Anything else
# (percent-escapes, dots, unicode) is Django's to normalise.
_PLAIN_PATH = re.compile(r"/(?:[A-Za-z0-9_\-]+/)+")
_PATHS_MEMO = 1024


class _Request(WSGIRequest):
    """Django's request, whose host and scheme the article path asks for several times
    (the route, the cache keys, the middleware): neither can change within a request, so
    each is worked out once (a DisallowedHost is raised again each time)."""

    _host = None

    def get_host(self):
        if self._host is None:
            self._host = super().get_host()
        return self._host

    scheme = cached_property(WSGIRequest.scheme.fget)


class _Declined(Exception):
    """Django's application is to answer this request after all."""


def _no_view(request):  # the hooked middleware is never called as a whole
    raise NotImplementedError


class FastLane:
    """WSGI middleware: ``application = FastLane(get_wsgi_application())``."""

    def __init__(self, django_app):
        self.django_app = django_app
        self.static_prefix = settings.STATIC_URL or "/static/"
        self.request_hooks, self.response_hooks = [], []
        unknown = [path for path in settings.MIDDLEWARE if path not in HOOKED | IDLE | {REQUEST_ID}]
        self.enabled = settings.MASTHEAD_FAST_LANE and not unknown
        if unknown and settings.MASTHEAD_FAST_LANE:
            log.warning("fast lane off: it does not know the middleware %s", ", ".join(unknown))
        self.request_ids = REQUEST_ID in settings.MIDDLEWARE
        for path in settings.MIDDLEWARE:
            if path in HOOKED:
                middleware = import_string(path)(_no_view)
                if hasattr(middleware, "process_request"):
                    self.request_hooks.append(middleware.process_request)
                if hasattr(middleware, "process_response"):
                    self.response_hooks.insert(0, middleware.process_response)
        # path -> whether the URLconf sends it to the article view (bounded: clients can
        # make up paths).
        self.article_paths = Memo(_PATHS_MEMO)

    def __call__(self, environ, start_response):
        if not (self.enabled and self.eligible(environ)):
            return self.django_app(environ, start_response)
        try:
            answer = self.serve(environ)
        except Exception:  # noqa: BLE001 - Django's path answers instead, as it always has
            # (it decides again: a new reader counted here is counted once more under the
            # id Django issues, and the first id, never sent, is left to expire).
            log.exception("fast lane failed; handing the request to Django")
            answer = None
        if answer is None:
            return self.django_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    # --- which requests --------------------------------------------------------------------

    def eligible(self, environ) -> bool:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("SCRIPT_NAME"):
            return False
        path = environ.get("PATH_INFO", "")
        if not _PLAIN_PATH.fullmatch(path) or path.startswith(self.static_prefix):
            return False
        return self.routes_to_articles(path)

    def routes_to_articles(self, path: str) -> bool:
        found = self.article_paths.get(path)
        if found is None:
            try:
                found = resolve(path).func is views.serve
            except Resolver404:
                found = False
            self.article_paths.put(path, found)
        return found

    # --- the answer ------------------------------------------------------------------------

    def serve(self, environ):
        """(status, headers, body), or None for Django to answer."""
        request = _Request(environ)
        # Of the receivers of Django's request_started / request_finished, only this one has
        # work to do here: reset_queries is for DEBUG, the caches' close() does nothing for
        # Redis and local memory, and the URLconf is never switched.
        close_old_connections()
        try:
            # None for a host not allowed, too: Django answers it with its 400.
            route = views.article_route(request, request.path_info[1:])
            if route is None:
                return None
            response = self.respond(request, route)
        finally:
            close_old_connections()  # and its request_finished
        if response is None:
            return None
        status = f"{response.status_code} {response.reason_phrase}"
        headers = [
            *response.items(),
            *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
        ]
        return status, headers, response.content

    def respond(self, request, route):
        """The article between the middleware's hooks, inside the request id's."""

        def article(request):
            for hook in self.request_hooks:
                if hook(request) is not None:
                    raise _Declined  # a middleware answers by itself (e.g. the HTTPS redirect)
            response = views.serve_article(request, route)
            for hook in self.response_hooks:
                response = hook(request, response)
            return response

        try:
            if self.request_ids:
                return RequestIdMiddleware.around(request, article)
            return article(request)
        except _Declined:
            return None
