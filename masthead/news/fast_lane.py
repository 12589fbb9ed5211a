"""The fast lane: anonymous GETs of cached articles, answered beside Django's middleware.

Most requests a news site serves are anonymous readers opening an article. Django's handler
spends about as long on its own machinery for such a request (URL resolution, request
signals, eleven middleware layers, most of which have nothing to do for it) as the article
itself costs. This WSGI layer sits in front of Django's application and answers only the
requests whose answer cannot depend on that machinery:

- GET, no query string, no script prefix, a path Django's URLconf sends to the article
  view (``masthead.news.views.serve``);
- no cookie but the anonymous reader's (and CSRF's, which an article page never reads):
  no session, so no account, no messages;
- over HTTPS (or with the HTTPS redirect off), for an allowed host, from a client that does
  not claim to be a search engine's crawler (their verification is Django's path);
- an article the route cache knows (``views.article_route``).

Everything else, and any request this layer fails on, goes to Django's application
unchanged. What it answers is made by the same code as Django's path: the access decision
(``masthead.access.gate``), the meter, the cached pieces and their assembly
(``rendering.article_response``); the response gets the headers the middleware would have
added (``finish``), which ``tests/integration/test_fast_lane.py`` checks header by header
and byte by byte against Django's own answer to the same request.

``MASTHEAD_FAST_LANE=false`` turns it off.
"""

import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.http import parse_cookie
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers

from masthead.access.crawlers import claimed_crawler
from masthead.access.readers import ReaderIdentity, set_reader_cookie
from masthead.core.logging import request_id_var
from masthead.core.memo import Memo
from masthead.core.middleware import (
    REQUEST_ID_HEADER,
    ContentSecurityPolicyMiddleware,
    RequestIdMiddleware,
    incoming_request_id,
    requests_log,
)

from . import rendering, views

log = logging.getLogger(__name__)

# Paths of the shape article URLs have: ASCII slugs, a trailing slash. Anything else
# (percent-escapes, dots, unicode) is Django's to normalise.
_PLAIN_PATH = re.compile(r"/(?:[A-Za-z0-9_\-]+/)+")
_ROUTES_MEMO = 1024


def _no_view(request):  # the finishers below only ever run their process_response
    raise NotImplementedError


class FastLane:
    """WSGI middleware: ``application = FastLane(get_wsgi_application())``."""

    def __init__(self, django_app):
        self.django_app = django_app
        self.enabled = settings.MASTHEAD_FAST_LANE
        self.allowed_cookies = {settings.MASTHEAD_READER_COOKIE, settings.CSRF_COOKIE_NAME}
        self.static_prefix = settings.STATIC_URL or "/static/"
        self.proxy_header = settings.SECURE_PROXY_SSL_HEADER
        self.security = SecurityMiddleware(_no_view)
        self.csp = ContentSecurityPolicyMiddleware(_no_view)
        self.frame_options = XFrameOptionsMiddleware(_no_view)
        # path -> whether the URLconf sends it to the article view (bounded: clients can
        # make up paths).
        self.article_paths = Memo(_ROUTES_MEMO)

    def __call__(self, environ, start_response):
        if not (self.enabled and self.eligible(environ)):
            return self.django_app(environ, start_response)
        try:
            answer = self.serve(environ)
        except Exception:  # noqa: BLE001 - Django's path answers instead, as it always has
            log.exception("fast lane failed; handing the request to Django")
            answer = None
        if answer is None:
            return self.django_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    # --- which requests --------------------------------------------------------------------

    def eligible(self, environ) -> bool:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return False
        if environ.get("SCRIPT_NAME"):
            return False
        path = environ.get("PATH_INFO", "")
        if not _PLAIN_PATH.fullmatch(path) or path.startswith(self.static_prefix):
            return False
        cookie = environ.get("HTTP_COOKIE")
        if cookie and not parse_cookie(cookie).keys() <= self.allowed_cookies:
            return False
        if not self.secure(environ) and settings.SECURE_SSL_REDIRECT:
            return False
        if claimed_crawler(environ.get("HTTP_USER_AGENT", "")) is not None:
            return False
        return self.routes_to_articles(path)

    def secure(self, environ) -> bool:
        if self.proxy_header:
            header, value = self.proxy_header
            forwarded = environ.get(header)
            if forwarded is not None:
                return forwarded.split(",", 1)[0].strip() == value
        return environ.get("wsgi.url_scheme") == "https"

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
        close_old_connections()
        request = WSGIRequest(environ)
        try:
            request.get_host()
        except DisallowedHost:
            return None
        started = time.perf_counter()
        request.request_id = incoming_request_id(request) or uuid.uuid4().hex
        token = request_id_var.set(request.request_id)
        try:
            route = views.article_route(request, environ["PATH_INFO"][1:])
            if route is None:
                return None
            site, ref, view = route
            # What the middleware and Wagtail's serve would have left on the request.
            request.user = AnonymousUser()
            request.reader = ReaderIdentity(request)
            request._wagtail_site = site
            request.is_preview = False
            response = rendering.article_response(
                request, ref, lambda: views.load_article(ref), view
            )
            self.finish(request, response)
            if requests_log.isEnabledFor(logging.INFO):
                RequestIdMiddleware.log(request, response, started)
        finally:
            request_id_var.reset(token)
            close_old_connections()
        status = f"{response.status_code} {response.reason_phrase}"
        headers = [
            *response.items(),
            *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
        ]
        return status, headers, response.content

    def finish(self, request, response) -> None:
        """The headers Django's middleware adds to an article page, in its order."""
        if request.reader.issued:
            set_reader_cookie(response, request.reader.anonymous_id)
        self.frame_options.process_response(request, response)
        # SessionMiddleware: the page asked whether the reader is signed in.
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Length", str(len(response.content)))  # Common
        self.csp.apply(request, response)
        self.security.process_response(request, response)
        response[REQUEST_ID_HEADER] = request.request_id
