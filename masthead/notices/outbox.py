"""What is due to be mailed, and mailing it once.

The ledgers are the outbox. A payment row (`PaymentEvent`) or a subscription's dates say
that something happened; a notice is due when it happened and no `SentNotice` has the same
(kind, key). The keys:

* receipt, payment failed: the `PaymentEvent`'s id;
* trial ending: ``<subscription id>:<trial end>``;
* access expired: ``<subscription id>:<period end>``. The period end, not the moment access
  ended, because it is what stays fixed: a refund, a later `expire()` or a change of the
  grace days moves the end but is still the same lapse, and only a payment (a new period
  end) can start access that may lapse again.

Each run looks back only ``MASTHEAD_NOTICE_LOOKBACK_DAYS`` (payments made and access that
ended in that window), so a first run on an old database does not mail years of history;
a run missed for longer than that loses those notices rather than sending them late.

Queueing is exactly once: the `SentNotice` row is inserted and the mail queued (a row in the
mail queue, masthead.core.mail) in one transaction, so both commit or neither does (the next
run tries again), and a racing run waits on the unique constraint and then skips. The mail
server is never called here: the queue's worker sends the message and retries it while the
server is down (masthead.core.tasks), so a dead mail server neither fails a run nor loses a
notice.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from masthead.access.policy import Status, access_ends_at, is_entitled
from masthead.access.policy import Subscription as Entitlement
from masthead.core.links import public_url
from masthead.subscriptions.fetch import entitlement_for, grace
from masthead.subscriptions.models import PaymentEvent, Subscription, SubscriptionEvent
from masthead.subscriptions.offers import Money

from . import emails
from .models import SentNotice

log = logging.getLogger(__name__)
Kind = SentNotice.Kind

RECEIPTS = (PaymentEvent.Kind.CHARGE_SUCCEEDED, PaymentEvent.Kind.RENEWAL_PAID)


@dataclass(frozen=True)
class Notice:
    kind: str
    key: str
    user: object
    context: dict = field(hash=False, compare=False)


@dataclass(frozen=True)
class Delivery:
    """What a run did with one due notice: queued for sending, or not (`error` says why; the
    next run tries again)."""

    kind: str
    key: str
    to: str
    error: str = ""

    @property
    def sent(self) -> bool:
        return not self.error


def lookback() -> timedelta:
    return timedelta(days=settings.MASTHEAD_NOTICE_LOOKBACK_DAYS)


def _links() -> dict:
    return {
        "account_url": public_url(reverse("readers:account")),
        "offers_url": public_url(settings.MASTHEAD_SUBSCRIBE_URL),
    }


def _mailable(user) -> bool:
    return bool(user.is_active and user.email)


def _unsent(kind: str, notices: Iterable[Notice]) -> list[Notice]:
    notices = list(notices)
    sent = set(
        SentNotice.objects.filter(kind=kind, key__in=[n.key for n in notices]).values_list(
            "key", flat=True
        )
    )
    return [n for n in notices if n.key not in sent]


def _payments(kinds, now: datetime):
    return (
        PaymentEvent.objects.filter(
            kind__in=kinds, at__gte=now - lookback(), at__lte=now, subscription__isnull=False
        )
        .select_related("user", "subscription__plan")
        .order_by("at", "pk")
    )


def receipts(now: datetime) -> list[Notice]:
    """Every payment taken: the first charge and each renewal."""
    found = [
        Notice(
            Kind.RECEIPT,
            str(payment.pk),
            payment.user,
            {
                "payment": payment,
                "amount": Money(payment.amount, payment.currency),
                "plan": payment.subscription.plan.name,
                "paid_until": payment.subscription.current_period_end,
                # The test provider's reference, or Stripe's invoice id.
                "reference": payment.data.get("reference") or payment.data.get("invoice", ""),
                **_links(),
            },
        )
        for payment in _payments(RECEIPTS, now)
        if _mailable(payment.user)
    ]
    return _unsent(Kind.RECEIPT, found)


def payment_failures(now: datetime) -> list[Notice]:
    """A failed renewal, while it still matters: the subscription is still past due and in
    its grace period. One the reader has since paid, or that has lapsed (the access-expired
    notice says so), is not worth a mail."""
    found = []
    for payment in _payments([PaymentEvent.Kind.RENEWAL_FAILED], now):
        subscription = payment.subscription
        entitlement = _entitlement(subscription)
        if subscription.status != Status.PAST_DUE or not is_entitled(entitlement, now):
            continue
        if not _mailable(payment.user):
            continue
        found.append(
            Notice(
                Kind.PAYMENT_FAILED,
                str(payment.pk),
                payment.user,
                {
                    "payment": payment,
                    "amount": Money(payment.amount, payment.currency),
                    "plan": subscription.plan.name,
                    "access_until": access_ends_at(entitlement),
                    **_links(),
                },
            )
        )
    return _unsent(Kind.PAYMENT_FAILED, found)


def trials_ending(now: datetime) -> list[Notice]:
    """Trials ending within ``MASTHEAD_TRIAL_ENDING_NOTICE_DAYS`` that nothing has paid for:
    still trialing (the first payment turns a trial active), and no other subscription of
    the reader's keeps access going past the trial's end."""
    days = timedelta(days=settings.MASTHEAD_TRIAL_ENDING_NOTICE_DAYS)
    rows = Subscription.objects.filter(
        status=Status.TRIALING,
        activated_at__isnull=True,
        trial_end__gt=now,
        trial_end__lte=now + days,
    ).select_related("user", "plan")
    found = []
    for row in rows:
        if not _mailable(row.user) or is_entitled(
            entitlement_for(row.user, row.trial_end), row.trial_end
        ):
            continue
        found.append(
            Notice(
                Kind.TRIAL_ENDING,
                f"{row.pk}:{_stamp(row.trial_end)}",
                row.user,
                {"plan": row.plan.name, "trial_end": row.trial_end, **_links()},
            )
        )
    return _unsent(Kind.TRIAL_ENDING, found)


def accesses_expired(now: datetime) -> list[Notice]:
    """Readers whose access ended in the look-back window and who have none now: a lapsed
    subscription, a trial that ended unpaid, a refund. "Ended" and "has access now" are the
    access gate's own rules (`is_entitled`, `entitlement_for`). One notice per reader and
    lapse, about the subscription that ended last."""
    since = now - lookback()
    expired_lately = SubscriptionEvent.objects.filter(
        kind=SubscriptionEvent.Kind.EXPIRED, at__gte=since, at__lte=now
    ).values("subscription_id")
    # A superset, narrowed below by the exact rule.
    rows = list(
        Subscription.objects.filter(
            Q(current_period_end__gte=since - grace(), current_period_end__lte=now)
            | Q(trial_end__gte=since, trial_end__lte=now)
            | Q(pk__in=expired_lately)
        ).select_related("user", "plan")
    )
    expirations = _expirations(rows)
    latest: dict[int, tuple[datetime, Subscription]] = {}
    pending = {row.user_id for row in rows if _renewal_pending(row, now)}
    for row in rows:
        entitlement = _entitlement(row)
        if row.user_id in pending or is_entitled(entitlement, now):
            continue
        ended = _ended_at(row, entitlement, expirations.get(row.pk))
        if not since <= ended <= now:
            continue
        if row.user_id not in latest or ended > latest[row.user_id][0]:
            latest[row.user_id] = (ended, row)
    found = []
    for ended, row in latest.values():
        speaking = entitlement_for(row.user, now)
        if not _mailable(row.user) or is_entitled(speaking, now):
            continue  # e.g. came back with a new subscription
        found.append(
            Notice(
                Kind.ACCESS_EXPIRED,
                f"{row.pk}:{_stamp(row.current_period_end)}",
                row.user,
                {
                    "plan": row.plan.name,
                    "ended_at": ended,
                    "trial": not speaking.paid,
                    **_links(),
                },
            )
        )
    return _unsent(Kind.ACCESS_EXPIRED, found)


def due(*, now: datetime) -> list[Notice]:
    return receipts(now) + payment_failures(now) + trials_ending(now) + accesses_expired(now)


def deliver(notice: Notice, *, now: datetime) -> Delivery | None:
    """Queue one notice's mail once. None when another run has queued (or is queueing) it."""
    to = notice.user.email
    try:
        with transaction.atomic():
            SentNotice.objects.create(
                user=notice.user, kind=notice.kind, key=notice.key, sent_at=now
            )
            emails.send(notice.kind, to=to, context={"user": notice.user, **notice.context})
    except IntegrityError:
        return None
    except Exception as error:  # noqa: BLE001 - any failure to queue is retried next run
        log.exception("could not queue the %s notice %s to %s", notice.kind, notice.key, to)
        return Delivery(notice.kind, notice.key, to, error=str(error) or type(error).__name__)
    return Delivery(notice.kind, notice.key, to)


def deliver_due(*, now: datetime) -> list[Delivery]:
    """Queue every notice that is due; what was queued and what failed (to be retried)."""
    return [d for d in (deliver(n, now=now) for n in due(now=now)) if d is not None]


# Dates and rules


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entitlement(row: Subscription) -> Entitlement:
    """This one subscription as the access rules see it (`paid` does not affect access)."""
    return Entitlement(
        status=Status(row.status),
        period_end=row.current_period_end,
        trial_end=row.trial_end,
        paid=row.activated_at is not None,
        grace=grace(),
    )


def _renewal_pending(row: Subscription, now: datetime) -> bool:
    """Active, not cancelled, and past its period end: the provider has not yet said whether
    the renewal was paid (Stripe's invoice can take an hour). The gate already closes access,
    but the lapse is not final: it is once the renewal fails and the grace ends, or the
    subscription is cancelled or expired, and then the notice goes."""
    return (
        row.status == Status.ACTIVE
        and not row.cancel_at_period_end
        and row.current_period_end <= now
    )


def _expirations(rows: list[Subscription]) -> dict[int, SubscriptionEvent]:
    expired = [row.pk for row in rows if row.status == Status.EXPIRED]
    events = SubscriptionEvent.objects.filter(
        subscription_id__in=expired, kind=SubscriptionEvent.Kind.EXPIRED
    ).order_by("at", "pk")
    return {event.subscription_id: event for event in events}  # the latest wins


def _ended_at(row: Subscription, entitlement: Entitlement, expiry) -> datetime:
    """When access ended. An expired subscription ended when it was expired (a refund ends
    access at once) or when its dates ran out before that, whichever came first."""
    end = access_ends_at(entitlement)
    if end is not None:
        return end
    if expiry is None:
        return row.updated
    previous = expiry.data.get("previous")
    if previous in set(Status) - {Status.EXPIRED}:
        natural = access_ends_at(
            Entitlement(
                status=Status(previous),
                period_end=row.current_period_end,
                trial_end=row.trial_end,
                grace=grace(),
            )
        )
        return min(natural, expiry.at)
    return expiry.at
