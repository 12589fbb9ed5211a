"""Reads that turn a reader's subscriptions into what the access rules and the offer rules
need. Each costs one query: a reader has a handful of subscriptions over a lifetime, so we
load them all and decide in Python with the same pure rules everyone uses."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache

from masthead.access import entitlements
from masthead.access.policy import Status, is_entitled
from masthead.access.policy import Subscription as Entitlement
from masthead.core import clock
from masthead.core.generations import forget_with_transaction

from .models import Offer, PaymentEvent, Plan, Subscription, SubscriptionEvent
from .offers import (
    PAYWALL_LIMIT,
    Money,
    OfferTerms,
    PlanTerms,
    ReaderHistory,
    YearlySaving,
    best_offers,
    paywall_offers,
    yearly_saving,
)


def grace() -> timedelta:
    return timedelta(days=settings.MASTHEAD_PAST_DUE_GRACE_DAYS)


def _subscriptions(user) -> list[Subscription]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(Subscription.objects.filter(user=user).order_by("-created", "-pk"))


def _entitlement(row: Subscription, paid: bool) -> Entitlement:
    return Entitlement(
        status=Status(row.status),
        period_end=row.current_period_end,
        trial_end=row.trial_end,
        paid=paid,
        grace=grace(),
    )


def _entitlements(rows: list[Subscription]) -> list[Entitlement]:
    paid = any(row.activated_at is not None for row in rows)
    return [_entitlement(row, paid) for row in rows]


def entitlement_for(user, now: datetime) -> Entitlement | None:
    """The subscription that speaks for this reader: one that gives access now (the one
    lasting longest), else the latest, which says why access ended. `paid` is False when
    the reader has only ever trialled, so the paywall can say "Your trial period has
    expired" rather than "Your full access has expired"."""
    return _speaking(_entitlements(_subscriptions(user)), now)


# Cached entitlements: deleted on every save or delete of a subscription (and again when the
# transaction commits); the timeout bounds what a request racing that commit could keep.
ENTITLEMENTS_TIMEOUT = 60


def entitlements_key(user_id) -> str:
    return f"masthead:entitlements:{user_id}"


def entitlement_for_request(user, now: datetime) -> Entitlement | None:
    """entitlement_for for the access gate, from the shared cache when it has them: every
    page a subscriber reads needs them, so the sign-in backend reads them in the same round
    trip as the account (access.entitlements). Whether they give access is still decided at
    `now`, so a period that ends is over on time. A dead cache is a miss
    (IGNORE_EXCEPTIONS)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    key = entitlements_key(user.pk)
    found = entitlements.taken_with_account(user)  # read with the account, if it was
    if found is None:
        found = cache.get(key)
    if found is None:
        found = tuple(_entitlements(_subscriptions(user)))
        cache.set(key, found, ENTITLEMENTS_TIMEOUT)
    return _speaking(found, now)


def forget_entitlements(sender, instance, **kwargs) -> None:
    """post_save / post_delete receiver for subscriptions."""
    entitlements.changed()
    forget_with_transaction(entitlements_key(instance.user_id), kwargs.get("using"))


def _speaking(found, now: datetime) -> Entitlement | None:
    if not found:
        return None
    entitled = [e for e in found if is_entitled(e, now)]
    if entitled:
        return max(entitled, key=lambda e: e.period_end + e.grace)
    return found[0]


def reader_history(user, now: datetime | None = None) -> ReaderHistory:
    rows = _subscriptions(user)
    now = now or clock.now()
    return ReaderHistory(
        ever_subscribed=bool(rows),
        ever_trialled=any(row.trial_end is not None for row in rows),
        entitled=any(is_entitled(e, now) for e in _entitlements(rows)),
    )


@dataclass(frozen=True)
class OfferInfo:
    """An offer as the templates show it: the model (for its id) and its pure terms."""

    offer: Offer
    terms: OfferTerms
    plan: PlanTerms


def current_offers(now: datetime) -> list[OfferInfo]:
    rows = Offer.objects.filter(
        active=True, plan__active=True, starts_at__lte=now, ends_at__gt=now
    ).select_related("plan")
    return [OfferInfo(row, row.terms(), row.plan.terms()) for row in rows]


def offers_for(user, now: datetime, limit: int | None = 2) -> list[OfferInfo]:
    """The offers this reader may take, best first (the order is `offers.best_offers`)."""
    infos = {info.terms.key: info for info in current_offers(now)}
    history = reader_history(user, now=now)
    chosen = best_offers([(i.terms, i.plan) for i in infos.values()], history, now, limit=limit)
    return [infos[terms.key] for terms, _ in chosen]


def paywall_offers_for(user, now: datetime, limit: int = PAYWALL_LIMIT) -> list[OfferInfo]:
    """The offers the paywall panel shows this reader, in the editors' order
    (`offers.paywall_offers`)."""
    infos = {info.terms.key: info for info in current_offers(now)}
    history = reader_history(user, now=now)
    chosen = paywall_offers([(i.terms, i.plan) for i in infos.values()], history, now, limit)
    return [infos[terms.key] for terms, _ in chosen]


@dataclass(frozen=True)
class PlanChoice:
    """A plan as the offers page sells it: its slug (for its buy link), its terms, and for
    a yearly plan what it saves against paying monthly."""

    slug: str
    terms: PlanTerms
    saving: YearlySaving | None


def plan_choices() -> list[PlanChoice]:
    """Every plan on sale, cheapest first, each compared with the others."""
    rows = list(Plan.objects.filter(active=True))
    terms = [row.terms() for row in rows]
    return [
        PlanChoice(row.slug, own, yearly_saving(own, terms))
        for row, own in zip(rows, terms, strict=True)
    ]


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    text: str


@dataclass(frozen=True)
class AccountSubscription:
    """One subscription as the account page shows it. `state` is derived from dates like
    access itself, so a cancelled subscription reads "ended" once its period is over."""

    id: int
    plan: str
    state: str  # trialing | active | cancelling | past_due | ended
    until: datetime | None  # renewal, trial end, access end or expiry, by state
    can_cancel: bool
    can_resume: bool
    history: list[HistoryLine]
    can_manage_billing: bool = False  # Stripe's customer portal


_PAYMENT_WORDS = {
    "charge_succeeded": "Paid",
    "charge_declined": "Card declined",
    "renewal_paid": "Renewal paid",
    "renewal_failed": "Renewal payment failed",
    "refunded": "Refunded",
    "disputed": "Payment disputed",
    "dispute_won": "Dispute settled, payment kept",
    "dispute_lost": "Dispute settled, payment returned",
}


def _state(row: Subscription, entitled: bool) -> str:
    if not entitled:
        return "ended"
    if row.cancel_at_period_end or row.status == Status.CANCELED:
        return "cancelling"
    return str(row.status)


def subscriptions_for_account(user, now: datetime) -> list[AccountSubscription]:
    rows = _subscriptions(user)
    if not rows:
        return []
    paid = any(row.activated_at is not None for row in rows)
    events: dict[int, list[HistoryLine]] = {row.pk: [] for row in rows}
    for event in SubscriptionEvent.objects.filter(subscription__in=rows):
        text = event.kind.replace("_", " ").capitalize()
        events[event.subscription_id].append(HistoryLine(event.at, text))
    for payment in PaymentEvent.objects.filter(subscription__in=rows):
        money = Money(payment.amount, payment.currency)
        text = f"{_PAYMENT_WORDS.get(payment.kind, payment.kind)}: {money}"
        events[payment.subscription_id].append(HistoryLine(payment.at, text))
    found = []
    for row in rows:
        entitled = is_entitled(_entitlement(row, paid), now)
        state = _state(row, entitled)
        found.append(
            AccountSubscription(
                id=row.pk,
                plan=row.plan.name,
                state=state,
                until=row.current_period_end,
                can_cancel=entitled and state in {"trialing", "active", "past_due"},
                can_resume=entitled
                and row.cancel_at_period_end
                and row.status in {Status.TRIALING, Status.ACTIVE},
                history=sorted(events[row.pk], key=lambda line: line.at),
                can_manage_billing=row.provider == "stripe" and bool(row.provider_customer_id),
            )
        )
    return found
