"""The edge: gathers what decide() needs from a request, asks the meter store when only
the meter can answer, and remembers the decision for the rest of the request so every
representation of the article (HTML, JSON-LD, print) follows the same one."""

import logging
from dataclasses import replace
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from .client_ip import client_ip
from .crawlers import CrawlerVerifier, claimed_crawler, default_verifier
from .meter import MeterUnavailable, get_meter_store
from .models import MeterSettings
from .periods import MeterWindow, PeriodKind, meter_window
from .policy import (
    ArticleAccess,
    Decision,
    Subscription,
    decide,
    meter_unavailable,
    needs_meter,
)

log = logging.getLogger(__name__)

# The access rules' clock, one name for tests to move (e.g. into next month).
clock = timezone.now


def meter_settings(request) -> MeterSettings:
    return MeterSettings.for_request(request)


def current_window(config: MeterSettings, now: datetime) -> MeterWindow:
    return meter_window(
        PeriodKind(config.period), now, ZoneInfo(settings.TIME_ZONE), config.rolling_days
    )


def subscription_for(request) -> Subscription | None:
    """The reader's subscription as the access rules see it. Readers cannot subscribe yet
    (the subscriptions app will supply this), so nobody is entitled by subscription."""
    return None


@cache
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


def free_access_now(now: datetime) -> bool:
    from masthead.campaigns.fetch import free_access_active

    return free_access_active(now)


def article_decision(request, article) -> Decision:
    decisions = request.__dict__.setdefault("_masthead_decisions", {})
    if article.pk not in decisions:
        decisions[article.pk] = _decide(request, article)
    return decisions[article.pk]


def _decide(request, article) -> Decision:
    now = clock()
    access = ArticleAccess(article.access)
    if access == ArticleAccess.FREE:
        return decide(
            access=access,
            reader=request.reader.as_reader(),
            subscription=None,
            free_access_window=False,
            now=now,
        )
    facts = {
        "access": access,
        "reader": request.reader.as_reader(verified_crawler=is_verified_crawler(request)),
        "subscription": subscription_for(request),
        "free_access_window": free_access_now(now),
        "now": now,
    }
    meter = None
    if needs_meter(**facts):
        facts["reader"] = replace(facts["reader"], key=request.reader.key)
        config = meter_settings(request)
        try:
            meter = get_meter_store().consume(
                reader_key=facts["reader"].key,
                article_id=article.pk,
                allowance=config.policy().allowance_for(facts["reader"]),
                window=current_window(config, now),
                now=now,
            )
        except MeterUnavailable as error:
            log.warning("meter unavailable, failing closed: %s", error)
            return meter_unavailable()
    return decide(**facts, meter=meter)
