"""The edge: gathers what decide() needs from the request's reader context
(masthead.access.context) and asks the meter store when only the meter can answer. A channel
asks once per request and passes the decision to every representation of the article it
builds (HTML, JSON-LD, print, API)."""

import functools
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.crypto import salted_hmac

from masthead.core import clock, generations

from .channels import PERSONAL, Channel
from .context import ReaderContext, reader_context
from .meter import MeterUnavailable, get_meter_store
from .models import MeterSettings
from .networks import (
    Admission,
    NetworkCounters,
    admission,
    first_request,
    network_counters,
    settling,
)
from .periods import MeterWindow, PeriodKind, meter_window
from .policy import (
    ArticleAccess,
    Decision,
    MeterResult,
    decide,
    is_entitled,
    meter_unavailable,
    needs_meter,
)
from .readers import cookie_from

log = logging.getLogger(__name__)


def forget_meter_settings(sender, instance, **kwargs) -> None:
    """post_save receiver: an edit in the admin applies to the next request (and changes
    what article pages show: the teaser's length, the paywall)."""
    generations.bump_with_transaction(generations.PAGES, kwargs.get("using"))


def current_window(config: MeterSettings, now: datetime) -> MeterWindow:
    return meter_window(
        PeriodKind(config.period), now, ZoneInfo(settings.TIME_ZONE), config.rolling_days
    )


def article_decision(
    context: ReaderContext,
    article,
    *,
    meter_anonymous: bool = True,
    count: bool = True,
    for_account: bool = False,
) -> Decision:
    """The decision for the reader of `context` (access.context) and this article. Each channel
    asks once per request and hands the answer to every representation it builds (page,
    print view, JSON-LD, API body): nothing is remembered on the request, so no answer
    depends on who asked first.

    meter_anonymous=False is for channels whose anonymous clients carry no meter cookie (the
    app API): each request would be a new anonymous reader with a fresh allowance, so
    such a reader is decided as one whose allowance is used up.

    count=False is for channels that deliver articles nobody opened one by one (a private
    feed, an e-mail): they never spend the meter, so a reader who needs it gets the teaser.

    for_account=True is for channels that deliver an account's own copy to whoever fetches
    its address (a private feed, an e-mail's links): the decision is the account's, so what
    the fetching client is (a verified search crawler) does not count."""
    now = context.now
    identity = context.identity
    access = ArticleAccess(article.access)
    if access == ArticleAccess.FREE:
        return decide(
            access=access,
            reader=identity.as_reader(check_staff=False),
            subscription=None,
            free_access_window=False,
            now=now,
        )
    subscription = context.entitlement
    reader = identity.as_reader(
        verified_crawler=context.verified_crawler and not for_account,
        check_staff=not is_entitled(subscription, now),
    )
    facts = {
        "access": access,
        "reader": reader,
        "subscription": subscription,
        "free_access_window": context.campaigns.free_access_active,
        "now": now,
    }
    if not needs_meter(**facts):
        return decide(**facts)
    if not count or context.method == "HEAD" or (not meter_anonymous and not identity.signed_in):
        # HEAD never counts (link checkers and previews would spend a reader's allowance).
        return decide(**facts, meter=MeterResult(allowance=0, used=0))
    config = context.meter_settings
    window = current_window(config, now)
    allowance = config.policy().allowance_for(reader)
    try:
        if identity.signed_in:
            meter = _consume(identity.key, article.pk, allowance, window, now)
        else:
            meter = _anonymous_meter(context, article.pk, config, window, allowance, now)
    except MeterUnavailable as error:
        log.warning("meter unavailable, failing closed: %s", error)
        return meter_unavailable()
    return decide(**facts, meter=meter)


def channel_decision(context: ReaderContext, article, channel: Channel) -> Decision | None:
    """The decision a personal channel hands to channels.what_may_be_seen for the reader of
    `context`, made the way that channel counts reads; None for a public channel or a
    sitemap, whose answer depends on no reader. Channels that already hold a decision for
    this request (the article page) pass it to what_may_be_seen directly."""
    channel = Channel(channel)
    if channel not in PERSONAL:
        return None
    if channel in (Channel.HTML, Channel.PRINT):
        return article_decision(context, article)
    if channel == Channel.API:
        return article_decision(context, article, meter_anonymous=False)
    return article_decision(context, article, count=False, for_account=True)


def _consume(reader_key, article_id, allowance, window, now) -> MeterResult:
    return get_meter_store().consume(
        reader_key=reader_key, article_id=article_id, allowance=allowance, window=window, now=now
    )


def _anonymous_meter(context, article_id, config, window, allowance, now) -> MeterResult:
    identity = context.identity
    cookie = identity.cookie
    exhausted = MeterResult(allowance=allowance, used=allowance)
    if cookie is None:
        return _new_reader(context, article_id, config, window, allowance, now)
    if cookie.born_exhausted_at is not None and cookie.born_exhausted_at >= window.start:
        return exhausted
    if not cookie.settled:
        takes = settling(_counters(context, config, now), allowance, cookie.texts_read)
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


def _new_reader(context, article_id, config, window, allowance, now) -> MeterResult:
    """A request that came without an identity gets a new one, bounded per client network
    (masthead.access.networks). Nothing is stored for the reader itself: a first read
    travels in the new cookie and is stored when the cookie comes back (when the id also
    takes the rest of its allowance from the network's period), so clients that never keep
    cookies leave no meter rows behind."""
    identity = context.identity
    exhausted = MeterResult(allowance=allowance, used=allowance)
    if allowance < 1:
        identity.issue()
        return exhausted
    takes = first_request(_counters(context, config, now))
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


def _counters(context, config, now) -> NetworkCounters:
    return network_counters(
        network=context.client_network,
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
    config = reader_context(request).meter_settings
    window = current_window(config, clock.now())
    try:
        store_pending_read(cookie, window, config.anonymous_allowance)
        get_meter_store().merge(from_key=f"a:{cookie.id}", into_key=f"u:{user.pk}", window=window)
    except MeterUnavailable:
        log.warning("meter unavailable: could not carry reads over for user %s", user.pk)
