"""Absolute links to this site where there is no request to build them from (e-mails sent
by a command, a payment provider's return address): ``WAGTAILADMIN_BASE_URL`` is the site's
public address. And the one check of a ``next`` page a reader is sent on to."""

from urllib.parse import urljoin

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme


def public_url(path: str) -> str:
    """An absolute link for `path`; a path that is already absolute is kept."""
    return urljoin(settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/", path)


def safe_next(request, value: str | None) -> str:
    """``value`` if it is a page of this site (same host, and https when the request is),
    else "": a ``next`` from a link or a form is never a way off the site."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""
