"""The contract every payment provider meets, and the logic they share.

Like Django's session backends: this base class implements what is common once (creating
the checkout row from the server's catalogue, and turning a *verified* payment into a
subscription through `actions`), and each provider module exports a ``Provider`` class
that adds how the reader pays. Access never comes from a page the reader's browser lands
on: only `complete()` grants it, and only a provider calls it, after it has verified the
payment."""

from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.db import IntegrityError, transaction

from .. import actions
from ..models import Checkout, Offer, PaymentEvent, Plan
from ..offers import OfferKind, add_periods, first_period_price

PROVIDERS = {
    "test": "masthead.subscriptions.payments.test_provider",
    "stripe": "masthead.subscriptions.payments.stripe_provider",
}


# A longer story address is dropped (a cut one would lead nowhere).
MAX_NEXT = 500


class ProviderUnavailable(Exception):
    """The provider could not be reached or refused a call; nothing was changed here."""


class PaymentDeclined(actions.SubscriptionError):
    """The card was refused; nothing was charged and nothing granted."""


@dataclass(frozen=True)
class PaymentResult:
    checkout: Checkout
    paid: bool
    message: str = ""


def checkout_key(*, reader, offer: Offer | None = None, plan: Plan | None = None) -> str:
    """One checkout per reader and offer (or plan at full price) until one is paid for: a
    double click (or two tabs) reuses it, and a lapsed reader coming back later gets a
    fresh one."""
    if offer is not None:
        paid = Checkout.objects.filter(user=reader, offer=offer, state=Checkout.State.PAID)
        return f"{reader.pk}:{offer.pk}:{paid.count()}"
    paid = Checkout.objects.filter(
        user=reader, plan=plan, offer__isnull=True, state=Checkout.State.PAID
    )
    return f"{reader.pk}:plan-{plan.pk}:{paid.count()}"


class PaymentProvider:
    name = ""

    def checkout_url(self, checkout: Checkout) -> str:
        raise NotImplementedError("subclasses of PaymentProvider must provide checkout_url()")

    def create_checkout(
        self,
        *,
        reader,
        idempotency_key: str,
        now: datetime,
        offer: Offer | None = None,
        plan: Plan | None = None,
        next_path: str = "",
    ) -> Checkout:
        """The checkout for this key, created once, for an offer (an intro price) or for a
        plan at its full price. The price comes from the catalogue; the unique key settles
        two racing requests. ``next_path`` must already be checked (links.safe_next)."""
        if offer is not None:
            terms = offer.terms()
            if terms.kind != OfferKind.INTRO_PRICE:
                raise actions.OfferNotAvailable("A free trial needs no payment.")
            plan = offer.plan
            price = first_period_price(terms, plan.currency)
        elif plan is None:
            raise ValueError("a checkout is for an offer or a plan")
        else:
            price = plan.terms().price
        found = Checkout.objects.filter(idempotency_key=idempotency_key).first()
        if found is not None:
            if next_path and found.next_path != next_path and len(next_path) <= MAX_NEXT:
                # The same checkout, opened again from another story: lead back to that one.
                Checkout.objects.filter(pk=found.pk, state=Checkout.State.OPEN).update(
                    next_path=next_path
                )
                found.refresh_from_db()
            return found
        try:
            with transaction.atomic():
                return Checkout.objects.create(
                    provider=self.name,
                    idempotency_key=idempotency_key,
                    user=reader,
                    offer=offer,
                    plan=plan,
                    amount=price.amount,
                    currency=price.currency,
                    created=now,
                    next_path=next_path if len(next_path) <= MAX_NEXT else "",
                )
        except IntegrityError:
            return Checkout.objects.get(idempotency_key=idempotency_key)

    def complete(self, *, checkout: Checkout, reference: str, now: datetime) -> PaymentResult:
        """A verified first payment: record it and start the subscription, in one
        transaction, once (a second confirmation of the same checkout changes nothing)."""
        with transaction.atomic():
            row = Checkout.objects.select_for_update().get(pk=checkout.pk)
            if row.state == Checkout.State.PAID:
                return PaymentResult(row, paid=True)
            offer = row.offer
            periods = (offer.intro_periods or 1) if offer is not None else 1
            period_end = add_periods(now, row.plan.terms().interval, periods)
            subscription = actions.start(
                user=row.user, plan=row.plan, offer=offer, period_end=period_end, now=now
            )
            PaymentEvent.objects.create(
                user=row.user,
                subscription=subscription,
                checkout=row,
                provider=self.name,
                kind=PaymentEvent.Kind.CHARGE_SUCCEEDED,
                amount=row.amount,
                currency=row.currency,
                at=now,
                data={"reference": reference},
            )
            row.state = Checkout.State.PAID
            row.subscription = subscription
            row.save(update_fields=["state", "subscription"])
        return PaymentResult(row, paid=True)

    def push_change(self, *, subscription, cancel_at_period_end: bool) -> None:
        """Tell the provider what the reader is about to change here (cancel, resume).
        Call it before the action and outside any transaction (never hold a row lock over
        the network): ProviderUnavailable then leaves ours unchanged. A provider that does
        not bill on its own schedule (the test one, a trial) needs no telling."""

    def decline(self, *, checkout: Checkout, reason: str, now: datetime) -> PaymentResult:
        PaymentEvent.objects.create(
            user=checkout.user,
            checkout=checkout,
            provider=self.name,
            kind=PaymentEvent.Kind.CHARGE_DECLINED,
            amount=checkout.amount,
            currency=checkout.currency,
            at=now,
            data={"reason": reason},
        )
        return PaymentResult(checkout, paid=False, message=reason)


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider named (by default the one that takes new payments)."""
    name = name or settings.MASTHEAD_PAYMENT_PROVIDER
    return import_module(PROVIDERS.get(name, name)).Provider()


def provider_for(subscription) -> PaymentProvider:
    """The provider that bills a subscription: the one it was bought through, whichever
    takes new payments now; the base class (which needs no telling) for trials and others
    no provider bills."""
    return get_provider(subscription.provider) if subscription.provider else PaymentProvider()
