"""The edge: gathers what decide() needs from a request and asks the meter store when only
the meter can answer. A channel asks once per request and passes the decision to every
representation of the article it builds (HTML, JSON-LD, print, API)."""

import functools
import logging
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from cachetools import LRUCache, cached
from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from wagtail.models import Site

from masthead.campaigns.fetch import campaigns_for_request
from masthead.core import clock, generations

from .client_ip import client_ip
from .crawlers import CrawlerVerifier, claimed_crawler, default_verifier
from .entitlements import entitlement_for
from .meter import MeterUnavailable, get_meter_store
from .models import MeterSettings
from .networks import (
    Admission,
    NetworkCounters,
    admission,
    client_network,
    first_request,
    network_counters,
    settling,
)
from .periods import MeterWindow, PeriodKind, meter_window
from .policy import (
    ArticleAccess,
    Decision,
    MeterResult,
    Subscription,
    decide,
    is_entitled,
    meter_unavailable,
    needs_meter,
)
from .readers import cookie_from

log = logging.getLogger(__name__)

# Cached settings are keyed by the pages generation, so they can live long.
SETTINGS_TIMEOUT = 24 * 3600


def meter_settings(request) -> MeterSettings:
    """The site's meter settings. Every metered request needs them and they change rarely,
    so they are kept per process and in the shared cache under the pages generation (a save
    changes it, see forget_meter_settings); a dead cache only costs a query. Asked once per
    request: the decision and the teaser's length use the same answer."""
    found = getattr(request, "_masthead_meter_settings", None)
    if found is None:
        found = request._masthead_meter_settings = _meter_settings(request)
    return found


def _meter_settings(request) -> MeterSettings:
    site = Site.find_for_request(request)
    token = generations.current(generations.PAGES, request)
    if token is None:
        return MeterSettings.for_site(site)
    return _settings_under(token, site)


# Per process too: the key names the generation, so a kept value is never stale.
@cached(LRUCache(32), key=lambda token, site: (token, site and site.pk), lock=threading.Lock())
def _settings_under(token: str, site) -> MeterSettings:
    key = f"masthead:meter-settings:{token}:{site.pk if site else None}"
    return cache.get_or_set(key, lambda: MeterSettings.for_site(site), SETTINGS_TIMEOUT)


def forget_meter_settings(sender, instance, **kwargs) -> None:
    """post_save receiver: an edit in the admin applies to the next request (and changes
    what article pages show: the teaser's length, the paywall)."""
    generations.bump_with_transaction(generations.PAGES, kwargs.get("using"))


def current_window(config: MeterSettings, now: datetime) -> MeterWindow:
    return meter_window(
        PeriodKind(config.period), now, ZoneInfo(settings.TIME_ZONE), config.rolling_days
    )


def subscription_for(request) -> Subscription | None:
    """The reader's subscription as the access rules see it (None for anonymous readers),
    from whichever app provides entitlements (masthead.access.entitlements)."""
    return entitlement_for(getattr(request, "user", None), clock.now())


@functools.cache
def crawler_verifier() -> CrawlerVerifier:
    return default_verifier()


def is_verified_crawler(request) -> bool:
    """Only a claim that forward-confirmed reverse DNS backs up counts; the client IP comes
    from the configured number of trusted proxy hops, never from what the client says."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if claimed_crawler(user_agent) is None:
        return False
    return crawler_verifier().is_verified(user_agent=user_agent, ip=client_address(request))


def free_access_now(request, now: datetime) -> bool:
    return campaigns_for_request(request, now).free_access_active


def client_address(request) -> str | None:
    """The client's address through the configured trusted proxy hops (None: unknown)."""
    return client_ip(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        settings.MASTHEAD_TRUSTED_PROXY_HOPS,
    )


def article_decision(request, article, *, meter_anonymous: bool = True) -> Decision:
    """The decision for this reader and article. Each channel asks once per request and
    hands the answer to every representation it builds (page, print view, JSON-LD, API body):
    nothing is remembered on the request, so no answer depends on who asked first.

    meter_anonymous=False is for channels whose anonymous clients carry no meter cookie
    (the app API): each request would be a new anonymous reader with a fresh allowance, so
    such a reader is decided as one whose allowance is used up."""
    now = clock.now()
    access = ArticleAccess(article.access)
    if access == ArticleAccess.FREE:
        return decide(
            access=access,
            reader=request.reader.as_reader(check_staff=False),
            subscription=None,
            free_access_window=False,
            now=now,
        )
    subscription = subscription_for(request)
    reader = request.reader.as_reader(
        verified_crawler=is_verified_crawler(request),
        check_staff=not is_entitled(subscription, now),
    )
    facts = {
        "access": access,
        "reader": reader,
        "subscription": subscription,
        "free_access_window": free_access_now(request, now),
        "now": now,
    }
    if not needs_meter(**facts):
        return decide(**facts)
    identity = request.reader
    if request.method == "HEAD" or (not meter_anonymous and not identity.signed_in):
        # HEAD never counts (link checkers and previews would spend a reader's allowance).
        return decide(**facts, meter=MeterResult(allowance=0, used=0))
    config = meter_settings(request)
    window = current_window(config, now)
    allowance = config.policy().allowance_for(reader)
    try:
        if identity.signed_in:
            meter = _consume(identity.key, article.pk, allowance, window, now)
        else:
            meter = _anonymous_meter(request, article.pk, config, window, allowance, now)
    except MeterUnavailable as error:
        log.warning("meter unavailable, failing closed: %s", error)
        return meter_unavailable()
    return decide(**facts, meter=meter)


def _consume(reader_key, article_id, allowance, window, now) -> MeterResult:
    return get_meter_store().consume(
        reader_key=reader_key, article_id=article_id, allowance=allowance, window=window, now=now
    )


def _anonymous_meter(request, article_id, config, window, allowance, now) -> MeterResult:
    identity = request.reader
    cookie = identity.cookie
    exhausted = MeterResult(allowance=allowance, used=allowance)
    if cookie is None:
        return _new_reader(request, article_id, config, window, allowance, now)
    if cookie.born_exhausted_at is not None and cookie.born_exhausted_at >= window.start:
        return exhausted
    if not cookie.settled:
        takes = settling(_counters(request, config, now), allowance, cookie.texts_read)
        if get_meter_store().take(takes) is not None:
            identity.exhaust(now)
            return exhausted
        store_pending_read(cookie, window, allowance)
        identity.settle()
    return _consume(f"a:{cookie.id}", article_id, allowance, window, now)


def store_pending_read(cookie, window: MeterWindow, allowance: int) -> None:
    """Record the first read a new reader's cookie carries (see _new_reader), if it falls in
    this window. Idempotent: a read already stored counts once."""
    if cookie.pending_article is None or cookie.pending_at < window.start:
        return
    _consume(f"a:{cookie.id}", cookie.pending_article, max(allowance, 1), window, cookie.pending_at)


def _new_reader(request, article_id, config, window, allowance, now) -> MeterResult:
    """A request that came without an identity gets a new one, bounded per client network
    (masthead.access.networks). Nothing is stored for the reader itself: a first read
    travels in the new cookie and is stored when the cookie comes back (when the id also
    takes the rest of its allowance from the network's period), so clients that never keep
    cookies leave no meter rows behind."""
    identity = request.reader
    exhausted = MeterResult(allowance=allowance, used=allowance)
    if allowance < 1:
        identity.issue()
        return exhausted
    takes = first_request(_counters(request, config, now))
    if not takes:
        # Both bounds are off: nothing to count against, so the first read is stored at once
        # (a plain id); that round trip is also what fails the meter closed when the store
        # is down.
        anonymous_id = identity.issue()
        return _consume(f"a:{anonymous_id}", article_id, allowance, window, now)
    try:
        refused = get_meter_store().take(takes)
    except MeterUnavailable:
        identity.issue(new_at=now)
        raise
    answer = admission(refused)
    if answer == Admission.FULL:
        identity.issue(pending_article=article_id, pending_at=now)
        return MeterResult(allowance=allowance, used=1, admitted=True)
    if answer == Admission.BORN_EXHAUSTED:
        identity.issue(born_exhausted_at=now)
    else:
        identity.issue(new_at=now)
    return exhausted


def _counters(request, config, now) -> NetworkCounters:
    return network_counters(
        network=client_network(client_address(request)),
        bounds=config.bounds(),
        kind=PeriodKind(config.period),
        rolling_days=config.rolling_days,
        zone=ZoneInfo(settings.TIME_ZONE),
        now=now,
        secret=_network_secret(),
    )


@functools.cache
def _network_secret() -> bytes:
    return salted_hmac("masthead.access.networks", "network counters").digest()


def carry_meter_over_on_sign_in(sender, request, user, **kwargs):
    """user_logged_in receiver: what the anonymous id read this period (a pending first
    read included) counts for the account too."""
    if request is None:
        return
    cookie = cookie_from(request)
    if cookie is None:
        return
    config = meter_settings(request)
    window = current_window(config, clock.now())
    try:
        store_pending_read(cookie, window, config.anonymous_allowance)
        get_meter_store().merge(from_key=f"a:{cookie.id}", into_key=f"u:{user.pk}", window=window)
    except MeterUnavailable:
        log.warning("meter unavailable: could not carry reads over for user %s", user.pk)
