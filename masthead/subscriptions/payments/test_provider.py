"""The offline `test` provider: the demo's and the tests' stand-in for a card processor.

Its "hosted" checkout page is served by our own app at /subscribe/checkout/<id>/, and it
recognises Stripe's two best-known test cards: 4242 4242 4242 4242 is paid, 4000 0000 0000
0002 is declined. Renewals, failures and refunds are triggered by the ``payments_test``
management command. Every outcome goes through `actions` and the payment ledger, exactly as
a real provider's verified events will."""

import uuid

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from masthead.core import clock

from .. import actions
from ..models import Checkout, PaymentEvent, Subscription
from ..offers import add_periods
from ..templatetags.subscriptions_tags import describe_checkout
from .interface import PaymentProvider, PaymentResult, get_provider

SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
DECLINED_MESSAGE = _("Your card was declined. No payment was taken and no subscription started.")
CHARGED = (PaymentEvent.Kind.CHARGE_SUCCEEDED, PaymentEvent.Kind.RENEWAL_PAID)


class Provider(PaymentProvider):
    name = "test"

    def checkout_url(self, checkout: Checkout) -> str:
        return reverse("test-checkout", args=[checkout.public_id])

    def pay(self, *, checkout: Checkout, card_number: str, now) -> PaymentResult:
        if card_number == DECLINED:
            return self.decline(checkout=checkout, reason=str(DECLINED_MESSAGE), now=now)
        return self.complete(checkout=checkout, reference=f"test_{uuid.uuid4().hex}", now=now)

    def _charge(self, subscription, kind, now, amount=None, **data) -> PaymentEvent:
        return PaymentEvent.objects.create(
            user=subscription.user,
            subscription=subscription,
            provider=self.name,
            kind=kind,
            amount=subscription.plan.price if amount is None else amount,
            currency=subscription.plan.currency,
            at=now,
            data=data,
        )

    def renew(self, *, subscription: Subscription, now) -> Subscription:
        """A regular-price payment for the next period (the first one after a trial)."""
        interval = subscription.plan.terms().interval
        with transaction.atomic():
            if subscription.status == "trialing":
                start = max(now, subscription.current_period_end)
                subscription = actions.activate(
                    subscription=subscription, period_end=add_periods(start, interval), now=now
                )
            else:
                subscription = actions.renew(
                    subscription=subscription,
                    period_end=add_periods(subscription.current_period_end, interval),
                    now=now,
                )
            self._charge(subscription, PaymentEvent.Kind.RENEWAL_PAID, now)
        return subscription

    def fail(self, *, subscription: Subscription, now) -> Subscription:
        """A renewal payment failed: past due, with access for the grace period."""
        with transaction.atomic():
            subscription = actions.mark_past_due(subscription=subscription, now=now)
            self._charge(subscription, PaymentEvent.Kind.RENEWAL_FAILED, now)
        return subscription

    def refund(self, *, subscription: Subscription, now) -> Subscription:
        """Refund the latest payment; a refund revokes access at once (expire)."""
        with transaction.atomic():
            last = (
                PaymentEvent.objects.filter(subscription=subscription, kind__in=CHARGED)
                .order_by("-at", "-pk")
                .first()
            )
            if last is None:
                raise actions.InvalidTransition("there is no payment to refund")
            subscription = actions.expire(subscription=subscription, now=now)
            self._charge(
                subscription, PaymentEvent.Kind.REFUNDED, now, amount=last.amount, refunds=last.pk
            )
        return subscription


class CardForm(forms.Form):
    """Only the card number matters to the test provider; anything else a browser sends
    (a price, an offer id) is not read at all."""

    number = forms.CharField(label=_("Card number"), max_length=30)

    def clean_number(self):
        digits = "".join(self.cleaned_data["number"].replace("-", " ").split())
        if digits not in (SUCCEEDS, DECLINED):
            raise forms.ValidationError(
                _("Enter a test card number, e.g. 4242 4242 4242 4242."), code="invalid"
            )
        return digits


def _checkout_for(request, checkout_id) -> Checkout:
    """Only the reader who started a checkout can see it; anyone else gets a 404 (and so
    does everyone when another provider takes the payments)."""
    if get_provider().name != Provider.name:
        raise Http404("The test provider is not in use")
    return get_object_or_404(
        Checkout.objects.select_related("offer__plan"), public_id=checkout_id, user=request.user
    )


@login_required
def checkout_page(request, checkout_id):
    checkout = _checkout_for(request, checkout_id)
    if checkout.state == Checkout.State.PAID:
        return redirect("test-checkout-done", checkout.public_id)
    error = ""
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = get_provider().pay(
                checkout=checkout, card_number=form.cleaned_data["number"], now=clock.now()
            )
        except actions.SubscriptionError as refused:
            error = str(refused)
        else:
            if result.paid:
                return redirect("test-checkout-done", checkout.public_id)
            error = result.message
    return render(
        request,
        "subscriptions/test_checkout.html",
        {"checkout": describe_checkout(checkout), "form": form, "error": error},
        status=402 if error else 200,
    )


@login_required
def checkout_done(request, checkout_id):
    """Where the reader returns to. It only reports what the payment did; it grants
    nothing, whoever opens it."""
    checkout = _checkout_for(request, checkout_id)
    return render(
        request,
        "subscriptions/checkout_done.html",
        {"checkout": describe_checkout(checkout), "paid": checkout.state == Checkout.State.PAID},
    )
