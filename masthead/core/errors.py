"""The 500 handler, which answers a lost database with a branded 503 instead.

A database that stops answering (restart, failover, network) is an outage, not a bug: the
page says so, `Retry-After` tells clients, crawlers and Stripe's webhook sender to come back,
and a 503 is never cached. Django calls this handler from inside its `except` block for any
exception a view or middleware raised, so sys.exc_info() names the cause. The page is
rendered without a request context: context processors could query the dead database."""

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import server_error as default_server_error

log = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def caused_by_database(error: BaseException | None) -> bool:
    """True when the error, or one it was raised from, is a lost database."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, DATABASE_ERRORS):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


@requires_csrf_token
def server_error(request, template_name="500.html"):
    if not caused_by_database(sys.exc_info()[1]):
        return default_server_error(request, template_name)
    return service_unavailable()


def service_unavailable() -> HttpResponse:
    try:
        body = loader.get_template("503.html").render({"site_name": settings.MASTHEAD_SITE_NAME})
    except Exception:  # noqa: BLE001 - the page must not turn a 503 into a 500
        log.warning("could not render 503.html", exc_info=True)
        body = "Service temporarily unavailable. Please try again in a minute."
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
