"""Cross-cutting HTTP concerns: the request id and access log, the Content-Security-Policy,
keeping reader-specific responses out of shared caches, and messages made only when there is
something to send.

All live in base settings, so the test suite runs every request through them."""

import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib.messages import middleware as messages_middleware
from django.contrib.messages.storage import default_storage
from django.utils.cache import has_vary_header, patch_cache_control
from django.utils.functional import SimpleLazyObject, empty

from .logging import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9-]{8,64}")

requests_log = logging.getLogger("masthead.requests")
logger = logging.getLogger(__name__)


def incoming_request_id(request) -> str | None:
    """The proxy's id, so nginx's and the app's log lines for one request share it. Only
    when a trusted proxy is configured (it overwrites whatever the client sent); the shape
    check keeps odd bytes out of log lines and headers either way."""
    if settings.MASTHEAD_TRUSTED_PROXY_HOPS <= 0:
        return None
    value = request.META.get("HTTP_X_REQUEST_ID", "")
    return value if _WELL_FORMED_ID.fullmatch(value) else None


_untrusted_proxy_warned = False


def warn_once_of_untrusted_proxy(request) -> None:
    """X-Forwarded-For on a request while MASTHEAD_TRUSTED_PROXY_HOPS is 0 means a proxy the
    app was not told about: every reader then has the proxy's address, one client network for
    the meter's bounds and the sign-in limits. Logged once per process, from the first such
    request, so a misconfigured deployment says so without flooding the log."""
    global _untrusted_proxy_warned
    if (
        _untrusted_proxy_warned
        or settings.MASTHEAD_TRUSTED_PROXY_HOPS > 0
        or "HTTP_X_FORWARDED_FOR" not in request.META
    ):
        return
    _untrusted_proxy_warned = True
    logger.warning(
        "Requests carry X-Forwarded-For but MASTHEAD_TRUSTED_PROXY_HOPS is 0, so every reader "
        "looks like the proxy's address. Set it to the number of proxies that append to "
        "X-Forwarded-For (nginx alone: 1), never more: clients could then forge their address."
    )


def loggable_path(request) -> str:
    """The path, with the one-time token of a sign-in, verification or password-reset link
    cut out: logs are kept longer, and read by more people, than those links should be."""
    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match is not None else None
    return request.path.replace(token, "<token>") if token else request.path


class RequestIdMiddleware:
    """Outermost: gives the request an id (request.request_id, the X-Request-ID response
    header, every log line through the context variable) and writes one access-log line at
    INFO on the `masthead.requests` logger, which production settings switch on.

    Inner middleware turns exceptions into responses, so a 500 or 503 is logged here too.
    The duration stops when the response is built, before a streamed body is sent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        warn_once_of_untrusted_proxy(request)
        request_id = incoming_request_id(request) or uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if requests_log.isEnabledFor(logging.INFO):
                self.log(request, response, started)
            return response
        finally:
            request_id_var.reset(token)

    @staticmethod
    def log(request, response, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = loggable_path(request)
        requests_log.info(
            "%s %s %s %sms",
            request.method,
            path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )


def policy_header_value(policy: dict[str, list[str]]) -> str:
    """{"img-src": ["'self'", "data:"]} -> "img-src 'self' data:"; no sources -> 'none'."""
    return "; ".join(
        " ".join([directive, *(sources or ["'none'"])]) for directive, sources in policy.items()
    )


class ContentSecurityPolicyMiddleware:
    """Sends settings.MASTHEAD_CSP on every response (Django 5.2 has no CSP of its own).

    The public site has no inline script or style, so the policy needs neither
    'unsafe-inline' nor nonces. Paths in MASTHEAD_CSP_EXEMPT_PATHS get no policy: Wagtail's
    admin (and its page previews, served under /admin/) relies on inline scripts and styles,
    and is for signed-in staff only. A response that already carries a policy keeps it.
    MASTHEAD_CSP_REPORT_ONLY sends the same policy as Content-Security-Policy-Report-Only,
    for trying a change on a live site. Under DEBUG, error responses get the report-only
    header, because Django's technical error pages are built from inline script and style."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.value = policy_header_value(settings.MASTHEAD_CSP)
        self.header = (
            "Content-Security-Policy-Report-Only"
            if settings.MASTHEAD_CSP_REPORT_ONLY
            else "Content-Security-Policy"
        )
        self.exempt = tuple(settings.MASTHEAD_CSP_EXEMPT_PATHS)

    def __call__(self, request):
        return self.process_response(request, self.get_response(request))

    def process_response(self, request, response):
        if not self.value or (self.exempt and request.path.startswith(self.exempt)):
            return response
        if "Content-Security-Policy" in response or "Content-Security-Policy-Report-Only" in (
            response
        ):
            return response
        header = self.header
        if settings.DEBUG and response.status_code >= 400:
            header = "Content-Security-Policy-Report-Only"
        response[header] = self.value
        return response


def reader_specific(request, response) -> bool:
    """Whether a shared cache (a CDN, a proxy) must not keep `response`: it sets a cookie, or
    it varies on the credentials this request carries (a session cookie or an Authorization
    header), so it may show this reader's data. Any other response is the same for everyone
    who sends the same URL."""
    if response.cookies:
        return True
    credentials = request.COOKIES.get(settings.SESSION_COOKIE_NAME) or request.META.get(
        "HTTP_AUTHORIZATION"
    )
    return bool(credentials) and (
        has_vary_header(response, "Cookie") or has_vary_header(response, "Authorization")
    )


class PrivateResponseMiddleware:
    """Marks every reader-specific response (``reader_specific``) `Cache-Control: private`,
    unless it is `no-store` already. Listed right after the request id, so its response half
    runs after every other middleware's: the session, CSRF, messages and meter cookies are
    all set by then. Views that know better (no-store) keep their header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.process_response(request, self.get_response(request))

    def process_response(self, request, response):
        if reader_specific(request, response) and "no-store" not in response.get(
            "Cache-Control", ""
        ):
            patch_cache_control(response, private=True)
        return response


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's, with the message storage made when something first adds or reads a message
    (``request._messages`` is where django.contrib.messages looks for it). Most requests,
    article pages among them, do neither: they no longer build the storage (a cookie and a
    session store) only to find nothing to send."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response  # never used: nothing was added, nothing read is to be cleared
        return super().process_response(request, response)
