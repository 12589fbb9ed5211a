"""Every change to a subscription, one function each, shared by views, webhooks, commands
and the admin. Each runs in one transaction, locks the subscription row it changes, and
writes one ledger row. Payments are not here: a payment provider calls `activate` or
`renew` once it has verified a payment.

Cancelling follows Stripe's model: the reader keeps access to the end of the period paid
for (`cancel_at_period_end`), and because entitlement is derived from dates at read time,
access ends then with no job running. `expire` records the end for the history."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from masthead.access.policy import Status

from .models import Offer, Plan, Subscription, SubscriptionEvent
from .offers import OfferKind, eligible


class SubscriptionError(Exception):
    """A change that is not allowed; the message is fit to show a reader."""


class TrialAlreadyUsed(SubscriptionError):
    pass


class OfferNotAvailable(SubscriptionError):
    pass


class InvalidTransition(SubscriptionError):
    pass


def _record(subscription: Subscription, kind: str, now: datetime, **data) -> SubscriptionEvent:
    return SubscriptionEvent.objects.create(subscription=subscription, kind=kind, at=now, data=data)


def _locked(subscription: Subscription) -> Subscription:
    """The row as it is now, locked for this transaction (check-then-act would race)."""
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


def _require(subscription: Subscription, allowed: set[Status], action: str) -> None:
    if subscription.status not in allowed:
        raise InvalidTransition(f"cannot {action} a subscription that is {subscription.status}")


def _refresh(target: Subscription, source: Subscription) -> Subscription:
    """Give the caller's instance the saved state, so it need not reload."""
    for field in Subscription._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    return target


def _available_offer(offer: Offer, user, now: datetime) -> None:
    from .fetch import reader_history

    if not (offer.active and offer.plan.active):
        raise OfferNotAvailable("This offer is no longer available.")
    if not eligible(offer.terms(), reader_history(user, now=now), now):
        raise OfferNotAvailable("This offer is not available for your account.")


def start_trial(*, user, offer: Offer, now: datetime) -> Subscription:
    """One trial per reader: a unique constraint settles it, even for racing requests."""
    if offer.terms().kind != OfferKind.FREE_TRIAL:
        raise OfferNotAvailable("This offer is not a free trial.")
    with transaction.atomic():
        if Subscription.objects.filter(user=user, trial_end__isnull=False).exists():
            raise TrialAlreadyUsed("You have already had a free trial.")
        _available_offer(offer, user, now)
        trial_end = now + timedelta(days=offer.trial_days)
        try:
            with transaction.atomic():
                subscription = Subscription.objects.create(
                    user=user,
                    plan=offer.plan,
                    offer=offer,
                    status=Status.TRIALING,
                    current_period_end=trial_end,
                    trial_end=trial_end,
                )
        except IntegrityError as error:
            raise TrialAlreadyUsed("You have already had a free trial.") from error
        _record(subscription, SubscriptionEvent.Kind.TRIAL_STARTED, now, offer=offer.pk)
    return subscription


def start(
    *,
    user,
    plan: Plan,
    offer: Offer | None = None,
    period_end: datetime,
    now: datetime,
    provider: str = "",
    provider_customer_id: str = "",
    provider_subscription_id: str = "",
    recheck_offer: bool = True,
) -> Subscription:
    """A paid subscription from its first verified payment (no trial). A provider that
    bills it (Stripe) passes its ids; they are unique, so two racing webhooks start one.
    A webhook reporting a payment already taken passes ``recheck_offer=False``: the offer
    was checked when its checkout opened, and refusing now (the offer ended a second after
    the reader paid) would leave a paid reader without access."""
    if offer is not None and offer.plan_id != plan.pk:
        raise OfferNotAvailable("This offer is for another plan.")
    if period_end <= now:
        raise InvalidTransition("a new period must end in the future")
    with transaction.atomic():
        if offer is not None and recheck_offer:
            _available_offer(offer, user, now)
        subscription = Subscription.objects.create(
            user=user,
            plan=plan,
            offer=offer,
            status=Status.ACTIVE,
            current_period_end=period_end,
            activated_at=now,
            provider=provider,
            provider_customer_id=provider_customer_id,
            provider_subscription_id=provider_subscription_id,
        )
        _record(
            subscription,
            SubscriptionEvent.Kind.STARTED,
            now,
            plan=plan.pk,
            offer=offer.pk if offer else None,
            period_end=period_end.isoformat(),
        )
    return subscription


def activate(*, subscription: Subscription, period_end: datetime, now: datetime) -> Subscription:
    """The first payment arrived (after a trial, or to recover from past due)."""
    with transaction.atomic():
        row = _locked(subscription)
        _require(row, {Status.TRIALING, Status.PAST_DUE}, "activate")
        if period_end <= now:
            raise InvalidTransition("a paid period must end in the future")
        row.status = Status.ACTIVE
        row.current_period_end = period_end
        row.activated_at = row.activated_at or now
        row.save()
        _record(row, SubscriptionEvent.Kind.ACTIVATED, now, period_end=period_end.isoformat())
    return _refresh(subscription, row)


def renew(*, subscription: Subscription, period_end: datetime, now: datetime) -> Subscription:
    with transaction.atomic():
        row = _locked(subscription)
        _require(row, {Status.ACTIVE, Status.PAST_DUE}, "renew")
        if period_end <= row.current_period_end:
            raise InvalidTransition("a renewal must extend the period")
        row.status = Status.ACTIVE
        row.current_period_end = period_end
        row.activated_at = row.activated_at or now
        row.save()
        _record(row, SubscriptionEvent.Kind.RENEWED, now, period_end=period_end.isoformat())
    return _refresh(subscription, row)


def mark_past_due(*, subscription: Subscription, now: datetime) -> Subscription:
    """A renewal payment failed; access continues for the grace period (settings)."""
    with transaction.atomic():
        row = _locked(subscription)
        _require(row, {Status.ACTIVE}, "mark past due")
        row.status = Status.PAST_DUE
        row.save()
        _record(row, SubscriptionEvent.Kind.PAST_DUE, now)
    return _refresh(subscription, row)


def check_cancel(*, subscription: Subscription, now: datetime) -> None:
    """What `cancel` refuses, refused without changing anything: a view asks first, so that
    a provider is told (outside any transaction) only of a change we will make."""
    _require(subscription, {Status.TRIALING, Status.ACTIVE, Status.PAST_DUE}, "cancel")
    if subscription.status != Status.PAST_DUE and subscription.cancel_at_period_end:
        raise InvalidTransition("this subscription is already cancelled")


def cancel(*, subscription: Subscription, now: datetime) -> Subscription:
    """Cancel at period end: access to the end of the period (or trial). A past-due
    subscription has no paid period left, so it ends now."""
    with transaction.atomic():
        row = _locked(subscription)
        check_cancel(subscription=row, now=now)
        if row.status == Status.PAST_DUE:
            row.status = Status.CANCELED
        row.cancel_at_period_end = True
        row.save()
        _record(
            row,
            SubscriptionEvent.Kind.CANCELED,
            now,
            access_until=row.current_period_end.isoformat(),
        )
    return _refresh(subscription, row)


def check_resume(*, subscription: Subscription, now: datetime) -> None:
    """What `resume` refuses, refused without changing anything (see `check_cancel`)."""
    _require(subscription, {Status.TRIALING, Status.ACTIVE}, "resume")
    if not subscription.cancel_at_period_end:
        raise InvalidTransition("this subscription is not cancelled")
    if now >= subscription.current_period_end:
        raise InvalidTransition("this subscription has already ended")


def resume(*, subscription: Subscription, now: datetime) -> Subscription:
    """Undo a cancellation before the period ends."""
    with transaction.atomic():
        row = _locked(subscription)
        check_resume(subscription=row, now=now)
        row.cancel_at_period_end = False
        row.save()
        _record(row, SubscriptionEvent.Kind.RESUMED, now)
    return _refresh(subscription, row)


def expire(*, subscription: Subscription, now: datetime, **why) -> Subscription:
    """Record that the subscription is over: access already ended by its dates, or ends
    now (a refund, a dispute: ``why`` says which, for the ledger and for `restore`)."""
    with transaction.atomic():
        row = _locked(subscription)
        _require(row, {Status.TRIALING, Status.ACTIVE, Status.PAST_DUE, Status.CANCELED}, "expire")
        previous = row.status
        row.status = Status.EXPIRED
        row.save()
        _record(row, SubscriptionEvent.Kind.EXPIRED, now, previous=previous, **why)
    return _refresh(subscription, row)


def restore(
    *,
    subscription: Subscription,
    status: Status,
    period_end: datetime,
    cancel_at_period_end: bool,
    now: datetime,
    **why,
) -> Subscription:
    """Undo an expiry that turned out wrong (a dispute the newsroom won): back to the
    provider's state, which kept billing it. The one way out of expired, so the caller must
    know the expiry was provisional; the ledger row says why."""
    with transaction.atomic():
        row = _locked(subscription)
        _require(row, {Status.EXPIRED}, "restore")
        if status not in (Status.ACTIVE, Status.PAST_DUE):
            raise InvalidTransition(f"cannot restore a subscription to {status}")
        row.status = status
        row.current_period_end = max(row.current_period_end, period_end)
        row.cancel_at_period_end = cancel_at_period_end
        row.save()
        _record(
            row,
            SubscriptionEvent.Kind.RESTORED,
            now,
            period_end=row.current_period_end.isoformat(),
            **why,
        )
    return _refresh(subscription, row)


def sync(
    *,
    subscription: Subscription,
    status: Status,
    period_end: datetime,
    cancel_at_period_end: bool,
    now: datetime,
) -> Subscription:
    """Bring a provider-billed subscription to the provider's true state (Stripe webhooks
    re-fetch it, so events that come twice or out of order all converge here). One ledger
    row per real change and none when nothing changed. Expired is final. The period end
    only moves forward and only when paid: a past-due subscription keeps the end of the
    period it paid for, which is where its grace counts from."""
    with transaction.atomic():
        row = _locked(subscription)
        if row.status == Status.EXPIRED:
            return _refresh(subscription, row)
        if status == Status.EXPIRED:
            previous = row.status
            row.status = Status.EXPIRED
            row.save()
            _record(row, SubscriptionEvent.Kind.EXPIRED, now, previous=previous)
            return _refresh(subscription, row)
        changed = []
        if status == Status.ACTIVE:
            longer = period_end > row.current_period_end
            if row.status != Status.ACTIVE:
                row.status = Status.ACTIVE
                row.activated_at = row.activated_at or now
                changed.append(SubscriptionEvent.Kind.ACTIVATED)
            elif longer:
                changed.append(SubscriptionEvent.Kind.RENEWED)
            if longer:
                row.current_period_end = period_end
        elif status == Status.PAST_DUE and row.status == Status.ACTIVE:
            row.status = Status.PAST_DUE
            changed.append(SubscriptionEvent.Kind.PAST_DUE)
        if cancel_at_period_end != row.cancel_at_period_end:
            row.cancel_at_period_end = cancel_at_period_end
            changed.append(
                SubscriptionEvent.Kind.CANCELED
                if cancel_at_period_end
                else SubscriptionEvent.Kind.RESUMED
            )
        if changed:
            row.save()
        for kind in changed:
            data = {"source": "provider"}
            if kind in (SubscriptionEvent.Kind.ACTIVATED, SubscriptionEvent.Kind.RENEWED):
                data["period_end"] = row.current_period_end.isoformat()
            if kind == SubscriptionEvent.Kind.CANCELED:
                data["access_until"] = row.current_period_end.isoformat()
            _record(row, kind, now, **data)
    return _refresh(subscription, row)
