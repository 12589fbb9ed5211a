"""The edge: gathers what decide() needs from a request, asks the meter store when only
the meter can answer, and remembers the decision for the rest of the request so every
representation of the article (HTML, JSON-LD, print) follows the same one."""

import functools
import logging
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from wagtail.models import Site

from masthead.campaigns.fetch import campaigns_for_request
from masthead.core import generations
from masthead.core.memo import Memo

from .client_ip import client_ip
from .crawlers import CrawlerVerifier, claimed_crawler, default_verifier
from .meter import MeterUnavailable, get_meter_store
from .models import MeterSettings
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

log = logging.getLogger(__name__)

# The access rules' clock, one name for tests to move (e.g. into next month).
clock = timezone.now
# Cached settings are keyed by the pages generation, so they can live long.
SETTINGS_TIMEOUT = 24 * 3600


_settings_memo = Memo(32)


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
    key = f"masthead:meter-settings:{token}:{site.pk if site else None}"
    return _settings_memo.fetch(key, lambda: MeterSettings.for_site(site), SETTINGS_TIMEOUT)


def forget_meter_settings(sender, instance, **kwargs) -> None:
    """post_save receiver: an edit in the admin applies to the next request (and changes
    what article pages show: the teaser's length, the paywall)."""
    generations.bump_with_transaction(generations.PAGES, kwargs.get("using"))


def current_window(config: MeterSettings, now: datetime) -> MeterWindow:
    return meter_window(
        PeriodKind(config.period), now, ZoneInfo(settings.TIME_ZONE), config.rolling_days
    )


def subscription_for(request) -> Subscription | None:
    """The reader's subscription as the access rules see it (None for anonymous readers).
    Imported here, not at the top: subscriptions depends on access, never the reverse, and
    this module loads while the apps' models are still being imported."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    from masthead.subscriptions.fetch import entitlement_for_request

    return entitlement_for_request(user, clock())


@functools.cache
def crawler_verifier() -> CrawlerVerifier:
    return default_verifier()


def is_verified_crawler(request) -> bool:
    """Only a claim that forward-confirmed reverse DNS backs up counts; the client IP comes
    from the configured number of trusted proxy hops, never from what the client says."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if claimed_crawler(user_agent) is None:
        return False
    ip = client_ip(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        settings.MASTHEAD_TRUSTED_PROXY_HOPS,
    )
    return crawler_verifier().is_verified(user_agent=user_agent, ip=ip)


def free_access_now(request, now: datetime) -> bool:
    return campaigns_for_request(request, now).free_access_active


def article_decision(request, article, *, meter_anonymous: bool = True) -> Decision:
    """The decision for this reader and article, made once per request: the first call
    settles it, so a channel that passes meter_anonymous must call before anything else.

    meter_anonymous=False is for channels whose anonymous clients carry no meter cookie
    (the app API): each request would be a new anonymous reader with a fresh allowance, so
    such a reader is decided as one whose allowance is used up."""
    decisions = request.__dict__.setdefault("_masthead_decisions", {})
    if article.pk not in decisions:
        decisions[article.pk] = _decide(request, article, meter_anonymous=meter_anonymous)
    return decisions[article.pk]


def _decide(request, article, *, meter_anonymous: bool = True) -> Decision:
    now = clock()
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
    if not meter_anonymous and not request.reader.signed_in:
        return decide(**facts, meter=MeterResult(allowance=0, used=0))
    facts["reader"] = replace(facts["reader"], key=request.reader.key)
    config = meter_settings(request)
    try:
        meter = get_meter_store().consume(
            reader_key=facts["reader"].key,
            article_id=article.pk,
            allowance=config.policy().allowance_for(facts["reader"]),
            window=current_window(config, now),
            now=now,
            # The anonymous id was issued just now (asking for the key above issues it).
            new_reader=request.reader.issued,
        )
    except MeterUnavailable as error:
        log.warning("meter unavailable, failing closed: %s", error)
        return meter_unavailable()
    return decide(**facts, meter=meter)
