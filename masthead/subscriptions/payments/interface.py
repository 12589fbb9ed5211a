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
from ..models import Checkout, Offer, PaymentEvent
from ..offers import OfferKind, add_periods, first_period_price

PROVIDERS = {
    "test": "masthead.subscriptions.payments.test_provider",
    "stripe": "masthead.subscriptions.payments.stripe_provider",
}


class ProviderUnavailable(Exception):
    """The provider could not be reached or refused a call; nothing was changed here."""


class PaymentDeclined(actions.SubscriptionError):
    """The card was refused; nothing was charged and nothing granted."""


@dataclass(frozen=True)
class PaymentResult:
    checkout: Checkout
    paid: bool
    message: str = ""


def checkout_key(*, reader, offer: Offer) -> str:
    """One checkout per reader and offer until one is paid for: a double click (or two
    tabs) reuses it, and a lapsed reader coming back later gets a fresh one."""
    paid = Checkout.objects.filter(user=reader, offer=offer, state=Checkout.State.PAID).count()
    return f"{reader.pk}:{offer.pk}:{paid}"


class PaymentProvider:
    name = ""

    def checkout_url(self, checkout: Checkout) -> str:
        raise NotImplementedError("subclasses of PaymentProvider must provide checkout_url()")

    def create_checkout(
        self, *, reader, offer: Offer, idempotency_key: str, now: datetime
    ) -> Checkout:
        """The checkout for this key, created once. The price comes from the catalogue;
        the unique key settles two racing requests."""
        terms = offer.terms()
        if terms.kind != OfferKind.INTRO_PRICE:
            raise actions.OfferNotAvailable("A free trial needs no payment.")
        found = Checkout.objects.filter(idempotency_key=idempotency_key).first()
        if found is not None:
            return found
        price = first_period_price(terms, offer.plan.currency)
        try:
            with transaction.atomic():
                return Checkout.objects.create(
                    provider=self.name,
                    idempotency_key=idempotency_key,
                    user=reader,
                    offer=offer,
                    plan=offer.plan,
                    amount=price.amount,
                    currency=price.currency,
                    created=now,
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
            period_end = add_periods(now, offer.plan.terms().interval, offer.intro_periods or 1)
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
