"""Absolute links to this site where there is no request to build them from (e-mails sent
by a command, a payment provider's return address): ``WAGTAILADMIN_BASE_URL`` is the site's
public address."""

from urllib.parse import urljoin

from django.conf import settings


def public_url(path: str) -> str:
    """An absolute link for `path`; a path that is already absolute is kept."""
    return urljoin(settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/", path)
