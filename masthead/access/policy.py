"""The access decision: who may read what, as one pure function.

No ORM, no request, no clock: everything arrives as arguments, so every channel (web page,
print view, JSON-LD, API) can ask the same question and get the same answer, and the rules
can be tested exhaustively. Rule order (first match wins):

1. free article, verified search crawler, or an active free-access window -> full;
2. reader entitled (active or trialing, or past_due within grace; or newsroom staff) -> full;
3. subscribers-only article -> teaser (reason: trial expired, access expired, or none);
4. metered: already counted this period -> full; admitted by the meter -> full;
   otherwise -> teaser with offers.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class ArticleAccess(StrEnum):
    FREE = "free"
    METERED = "metered"
    SUBSCRIBERS = "subscribers"


class Reason(StrEnum):
    FREE = "free"
    CRAWLER = "crawler"
    CAMPAIGN = "campaign"
    ENTITLED = "entitled"
    ALREADY_COUNTED = "already_counted"
    METERED = "metered"
    EXHAUSTED = "exhausted"
    SUBSCRIBERS_ONLY = "subscribers_only"
    TRIAL_EXPIRED = "trial_expired"
    ACCESS_EXPIRED = "access_expired"


class Message(StrEnum):
    """Which reader-facing message goes with a decision; templates hold the words."""

    NONE = "none"
    METER_REMAINING = "meter_remaining"
    METER_LAST = "meter_last"
    PAYWALL_EXHAUSTED = "paywall_exhausted"
    PAYWALL_SUBSCRIBERS = "paywall_subscribers"
    PAYWALL_TRIAL_EXPIRED = "paywall_trial_expired"
    PAYWALL_ACCESS_EXPIRED = "paywall_access_expired"
    PAYWALL_METER_UNAVAILABLE = "paywall_meter_unavailable"


class Status(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Subscription:
    """What the access rules need to know of a reader's subscription (latest first)."""

    status: Status
    period_end: datetime
    trial_end: datetime | None = None
    paid: bool = True  # False while only a trial has ever run
    grace: timedelta = timedelta(days=0)


@dataclass(frozen=True)
class Reader:
    key: str  # the meter key: "a:<anonymous id>" or "u:<account id>"
    registered: bool = False
    verified_crawler: bool = False
    staff: bool = False  # the newsroom reads everything it publishes


@dataclass(frozen=True)
class MeterPolicy:
    anonymous_allowance: int = 5
    registered_allowance: int = 10
    teaser_paragraphs: int = 2

    def allowance_for(self, reader: Reader) -> int:
        return self.registered_allowance if reader.registered else self.anonymous_allowance


@dataclass(frozen=True)
class MeterResult:
    """What the meter store answered for this article in this period (see meter/base.py).

    `admitted` means this request was counted now; `already_counted` that it had been
    before; neither means the allowance was used up."""

    allowance: int
    used: int
    already_counted: bool = False
    admitted: bool = False

    @property
    def remaining(self) -> int:
        return max(self.allowance - self.used, 0)


@dataclass(frozen=True)
class Decision:
    full: bool
    reason: Reason
    message: Message = Message.NONE
    remaining: int | None = None
    show_offers: bool = False


def access_ends_at(subscription: Subscription) -> datetime | None:
    """The moment a subscription's access ends, read from its dates; None for an expired
    one, which gives no access at all."""
    if subscription.status == Status.TRIALING:
        return subscription.trial_end or subscription.period_end
    if subscription.status in (Status.ACTIVE, Status.CANCELED):
        # A cancelled subscription keeps access to the end of the period paid for.
        return subscription.period_end
    if subscription.status == Status.PAST_DUE:
        return subscription.period_end + subscription.grace
    return None


def is_entitled(subscription: Subscription | None, now: datetime) -> bool:
    """Entitlement is derived from dates at read time, so access ends on time with no job."""
    if subscription is None:
        return False
    end = access_ends_at(subscription)
    return end is not None and now < end


def lapsed_reason(subscription: Subscription | None) -> Reason | None:
    if subscription is None:
        return None
    return Reason.ACCESS_EXPIRED if subscription.paid else Reason.TRIAL_EXPIRED


_PAYWALL_MESSAGES = {
    Reason.SUBSCRIBERS_ONLY: Message.PAYWALL_SUBSCRIBERS,
    Reason.TRIAL_EXPIRED: Message.PAYWALL_TRIAL_EXPIRED,
    Reason.ACCESS_EXPIRED: Message.PAYWALL_ACCESS_EXPIRED,
    Reason.EXHAUSTED: Message.PAYWALL_EXHAUSTED,
}


def _teaser(reason: Reason, remaining: int | None = None) -> Decision:
    return Decision(
        full=False,
        reason=reason,
        message=_PAYWALL_MESSAGES[reason],
        remaining=remaining,
        show_offers=True,
    )


def needs_meter(
    *,
    access: ArticleAccess,
    reader: Reader,
    subscription: Subscription | None,
    free_access_window: bool,
    now: datetime,
) -> bool:
    """True when only the meter can settle the decision: the caller then asks the meter
    store (one atomic round trip) and passes its answer to decide()."""
    return (
        access == ArticleAccess.METERED
        and not reader.verified_crawler
        and not free_access_window
        and not reader.staff
        and not is_entitled(subscription, now)
    )


def meter_unavailable() -> Decision:
    """When the meter store cannot answer, metered articles fail closed: no free reads."""
    return replace(_teaser(Reason.EXHAUSTED), message=Message.PAYWALL_METER_UNAVAILABLE)


def decide(
    *,
    access: ArticleAccess,
    reader: Reader,
    subscription: Subscription | None,
    free_access_window: bool,
    now: datetime,
    meter: MeterResult | None = None,
) -> Decision:
    if access == ArticleAccess.FREE:
        return Decision(full=True, reason=Reason.FREE)
    if reader.verified_crawler:
        return Decision(full=True, reason=Reason.CRAWLER)
    if free_access_window:
        return Decision(full=True, reason=Reason.CAMPAIGN)
    if reader.staff or is_entitled(subscription, now):
        return Decision(full=True, reason=Reason.ENTITLED)
    lapsed = lapsed_reason(subscription)
    if access == ArticleAccess.SUBSCRIBERS:
        return _teaser(lapsed or Reason.SUBSCRIBERS_ONLY)
    if meter is None:
        raise ValueError("a metered decision needs the meter's answer; see needs_meter()")
    if meter.already_counted:
        return Decision(full=True, reason=Reason.ALREADY_COUNTED, remaining=meter.remaining)
    if meter.admitted:
        message = Message.METER_REMAINING if meter.remaining else Message.METER_LAST
        return Decision(
            full=True, reason=Reason.METERED, message=message, remaining=meter.remaining
        )
    return _teaser(lapsed or Reason.EXHAUSTED, remaining=0)
