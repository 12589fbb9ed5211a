"""What one request knows of its reader, worked out once and passed explicitly.

The reader middleware (masthead.access.middleware) makes one ``ReaderContext`` per request,
``request.reader_context``. The access decision (``gate.article_decision``) and the
renderers (news.rendering, the campaigns' context processor) are handed it and ask it for
what they need; each fact is looked up on first use and kept for the rest of the request,
so the decision, the teaser's length and the banners agree on one answer:

- ``identity``: who is reading (an account, or an anonymous id and its cookie);
- ``now``: the request's instant, from the project's one clock (masthead.core.clock);
- ``site``, ``meter_settings``: the Wagtail site and its meter settings;
- ``campaigns``: the banners and free-access window live at ``now``;
- ``entitlement``: the reader's subscription as the access rules see it, from whichever app
  provides entitlements (masthead.access.entitlements);
- ``client_address``, ``client_network``, ``verified_crawler``: the client through the
  trusted proxy hops, its network (masthead.access.networks), and whether it is a search
  engine's crawler that reverse DNS confirms.
"""

import functools
import threading
from datetime import datetime

from cachetools import LRUCache, cached
from django.conf import settings
from django.core.cache import cache
from django.utils.functional import cached_property

from masthead.campaigns.fetch import Campaigns, current_campaigns
from masthead.core import clock, generations
from masthead.core.sites import site_for_request

from .client_ip import Address, trusted_address
from .crawlers import CrawlerVerifier, claimed_crawler, default_verifier
from .entitlements import entitlement_for
from .models import MeterSettings
from .networks import network_of
from .policy import Subscription
from .readers import ReaderIdentity

# Cached settings are keyed by the pages generation, so they can live long.
SETTINGS_TIMEOUT = 24 * 3600


class ReaderContext:
    def __init__(self, request):
        self._request = request
        self.identity = ReaderIdentity(request)

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def user(self):
        return getattr(self._request, "user", None)

    @cached_property
    def now(self) -> datetime:
        return clock.now()

    @cached_property
    def site(self):
        return site_for_request(self._request)

    @cached_property
    def meter_settings(self) -> MeterSettings:
        """Every metered request needs them and they change rarely: kept per process and in
        the shared cache under the pages generation (a save changes it); a dead cache only
        costs a query."""
        token = generations.current(generations.PAGES, self._request)
        if token is None:
            return MeterSettings.for_site(self.site)
        return _settings_under(token, self.site)

    @cached_property
    def campaigns(self) -> Campaigns:
        return current_campaigns(self.now, self._request)

    @cached_property
    def entitlement(self) -> Subscription | None:
        """None for anonymous readers."""
        return entitlement_for(self.user, self.now)

    @cached_property
    def _client_ip(self) -> Address | None:
        return _trusted_address(self._request)

    @cached_property
    def client_address(self) -> str | None:
        address = self._client_ip
        return None if address is None else str(address)

    @cached_property
    def client_network(self) -> str:
        return network_of(self._client_ip)

    @cached_property
    def verified_crawler(self) -> bool:
        """Only a claim that forward-confirmed reverse DNS backs up counts; the client IP
        comes from the configured number of trusted proxy hops, never from the client."""
        user_agent = self._request.META.get("HTTP_USER_AGENT", "")
        if claimed_crawler(user_agent) is None:
            return False
        return crawler_verifier().is_verified(user_agent=user_agent, ip=self.client_address)


def reader_context(request) -> ReaderContext:
    """The request's context: the middleware's, or one made now for a request that did not
    pass through it (a signal's request, a test's)."""
    context = getattr(request, "reader_context", None)
    if context is None:
        context = request.reader_context = ReaderContext(request)
    return context


def client_address(request) -> str | None:
    """The client's address through the configured trusted proxy hops (None: unknown)."""
    address = _trusted_address(request)
    return None if address is None else str(address)


def _trusted_address(request) -> Address | None:
    return trusted_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        settings.MASTHEAD_TRUSTED_PROXY_HOPS,
    )


@functools.cache
def crawler_verifier() -> CrawlerVerifier:
    return default_verifier()


# Per process too: the key names the generation, so a kept value is never stale.
@cached(LRUCache(32), key=lambda token, site: (token, site and site.pk), lock=threading.Lock())
def _settings_under(token: str, site) -> MeterSettings:
    key = f"masthead:meter-settings:{token}:{site.pk if site else None}"
    return cache.get_or_set(key, lambda: MeterSettings.for_site(site), SETTINGS_TIMEOUT)
