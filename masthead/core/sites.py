"""The Wagtail site of a request, kept per process for a few seconds.

Wagtail finds the site of every request with a database query (``Site.find_for_request``),
and every page needs it. Sites change rarely: this process keeps what it found for
``MASTHEAD_SITE_SECONDS`` (5 by default) per host and port, forgets it at once when a site
or page is saved here (``forget_sites``, connected in news.apps), and other processes see a
change within those seconds. The reader middleware (masthead.access.middleware) asks first,
and leaves the site where Wagtail looks for it on the request.
"""

import threading

from cachetools import TTLCache
from django.conf import settings
from django.http.request import split_domain_port
from wagtail.models import Site

_sites = TTLCache(maxsize=64, ttl=settings.MASTHEAD_SITE_SECONDS)
_lock = threading.Lock()


def site_for_request(request):
    """``Site.find_for_request(request)``, from this process's memory when it can."""
    if hasattr(request, "_wagtail_site"):
        return request._wagtail_site
    key = (split_domain_port(request._get_raw_host())[0], request.get_port())
    with _lock:
        site = _sites.get(key)
    if site is None:
        site = Site.find_for_request(request)
        if site is not None:
            with _lock:
                _sites[key] = site
    request._wagtail_site = site  # Wagtail's own per-request memo of the site
    return site


def forget_sites(**kwargs) -> None:
    """post_save / post_delete receiver for sites and pages (a site's root page)."""
    with _lock:
        _sites.clear()
