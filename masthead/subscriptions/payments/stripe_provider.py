"""The `stripe` provider: Stripe Checkout in subscription mode, the customer portal, and
what the webhooks do (`webhooks.py` verifies and dispatches to the methods here).

Prices come from our catalogue. The plan's regular price is a recurring Stripe Price; an
offer's intro price (the price of the whole intro span, e.g. $9 for 3 months) is a one-off
Price on the first invoice, and the recurring price starts when the intro span ends
(``subscription_data.trial_end``). So the reader pays exactly the catalogue amount today,
then the plan's price every period, for any number of intro periods (a repeating coupon
would round). Stripe calls the intro span "trialing"; to us it is a paid period (active),
and we never set our `trial_end`, which means a free trial without payment.

Nothing the reader's browser does grants access: the return page only reports. A verified
webhook re-fetches the Stripe subscription and syncs ours to it (``actions.sync``), so
events that arrive twice or out of order converge on Stripe's true state."""

import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from masthead.access.policy import Status
from masthead.core.links import public_url

from .. import actions
from ..models import Checkout, PaymentEvent, Subscription
from ..offers import add_periods
from ..templatetags.subscriptions_tags import describe_checkout
from . import stripe_api
from .interface import PaymentProvider, ProviderUnavailable, get_provider

logger = logging.getLogger(__name__)

NAME = "stripe"
# Stripe's subscription statuses as ours; "incomplete" (first payment not made) and
# "paused" change nothing.
STATUSES = {
    "active": Status.ACTIVE,
    "trialing": Status.ACTIVE,  # our intro span, paid up front
    "past_due": Status.PAST_DUE,
    "unpaid": Status.PAST_DUE,
    "canceled": Status.EXPIRED,
    "incomplete_expired": Status.EXPIRED,
}
PAID = ("active", "trialing")
CHARGED = (PaymentEvent.Kind.CHARGE_SUCCEEDED, PaymentEvent.Kind.RENEWAL_PAID)
# Currencies Stripe counts in whole units (no cents).
ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip


def to_minor(amount: Decimal, currency: str) -> int:
    return int(amount if currency.upper() in ZERO_DECIMAL else amount * 100)


def from_minor(amount: int, currency: str) -> Decimal:
    value = Decimal(amount)
    return value if currency.upper() in ZERO_DECIMAL else value / 100


def _timestamp(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def period_end(remote: dict) -> datetime:
    """Recent API versions keep the period on the subscription's items; older ones (and
    localstripe) on the subscription."""
    if remote.get("current_period_end"):
        return _timestamp(remote["current_period_end"])
    return _timestamp(max(item["current_period_end"] for item in remote["items"]["data"]))


def object_id(value) -> str:
    """An id, whether Stripe sent it bare or as an expanded object."""
    if isinstance(value, dict):
        return value.get("id", "")
    return value or ""


def invoice_subscription(invoice: dict) -> str:
    found = object_id(invoice.get("subscription"))
    if not found:
        parent = invoice.get("parent") or {}
        found = object_id((parent.get("subscription_details") or {}).get("subscription"))
    return found


class Provider(PaymentProvider):
    name = NAME

    def checkout_url(self, checkout: Checkout) -> str:
        return checkout.provider_url

    def create_checkout(self, *, reader, offer, idempotency_key: str, now: datetime) -> Checkout:
        """One Checkout row (the base class) and one Stripe session for it: the session is
        created under the row's lock and an idempotency key, so a double click gets the
        same session. A session that expired (they last a day) is replaced."""
        checkout = super().create_checkout(
            reader=reader, offer=offer, idempotency_key=idempotency_key, now=now
        )
        with transaction.atomic():
            row = (
                Checkout.objects.select_for_update()
                .select_related("plan", "offer")
                .get(pk=checkout.pk)
            )
            if row.state == Checkout.State.PAID:
                return row
            key = f"masthead-checkout-{row.public_id}"
            if row.provider_session_id:
                found = stripe_api.retrieve_checkout_session(row.provider_session_id)
                if found.get("status") != "expired":
                    return row
                key = f"{key}-after-{row.provider_session_id}"
            session = stripe_api.create_checkout_session(
                idempotency_key=key, **self._session_params(row, now)
            )
            row.provider_session_id = session["id"]
            row.provider_url = session["url"]
            row.save(update_fields=["provider_session_id", "provider_url"])
        return row

    def _session_params(self, row: Checkout, now: datetime) -> dict:
        plan, offer, currency = row.plan, row.offer, row.currency
        product = stripe_api.ensure_product(product_id=f"masthead-plan-{plan.pk}", name=plan.name)
        regular = to_minor(plan.price, currency)
        recurring = stripe_api.ensure_price(
            lookup_key=f"masthead-plan-{plan.pk}-{plan.interval}-{regular}-{currency}",
            product=product,
            unit_amount=regular,
            currency=currency,
            interval=plan.interval,
        )
        today = to_minor(row.amount, currency)
        intro = stripe_api.ensure_price(
            lookup_key=f"masthead-offer-{offer.pk}-{today}-{currency}",
            product=product,
            unit_amount=today,
            currency=currency,
            interval=None,
        )
        intro_end = add_periods(now, plan.terms().interval, offer.intro_periods or 1)
        ours = {"checkout": str(row.public_id), "user": str(row.user_id)}
        params = {
            "mode": "subscription",
            "client_reference_id": str(row.public_id),
            "line_items": [{"price": recurring, "quantity": 1}, {"price": intro, "quantity": 1}],
            "subscription_data": {"trial_end": int(intro_end.timestamp()), "metadata": ours},
            "metadata": ours,
            "success_url": public_url(reverse("stripe-return", args=[row.public_id])),
            "cancel_url": public_url(reverse("subscribe-offer", args=[offer.pk])),
        }
        customer = (
            Subscription.objects.filter(user=row.user, provider=NAME)
            .exclude(provider_customer_id="")
            .values_list("provider_customer_id", flat=True)
            .first()
        )
        if customer:
            params["customer"] = customer
        else:
            params["customer_email"] = row.user.email
        return params

    def push_change(self, *, subscription: Subscription) -> None:
        """Tell Stripe what the account page's cancel or resume just did to ours: Stripe
        then bills, or stops at period end, accordingly, and the webhook that follows finds
        nothing left to change."""
        if subscription.provider == NAME and subscription.provider_subscription_id:
            try:
                stripe_api.set_cancel_at_period_end(
                    subscription.provider_subscription_id, subscription.cancel_at_period_end
                )
            except stripe_api.StripeError as error:
                raise ProviderUnavailable(str(error)) from error

    # What the verified webhooks do. Each runs inside the webhook's transaction.

    def local(self, stripe_subscription_id: str) -> Subscription | None:
        return (
            Subscription.objects.select_for_update()
            .filter(provider=NAME, provider_subscription_id=stripe_subscription_id)
            .first()
        )

    def sync(self, *, stripe_subscription_id: str, now: datetime) -> Subscription | None:
        """Ours, brought to Stripe's state; started from its checkout if this is the first
        we hear of it and Stripe says it is paid. None for subscriptions not ours."""
        if not stripe_subscription_id:
            return None
        remote = stripe_api.retrieve_subscription(stripe_subscription_id)
        subscription = self.local(stripe_subscription_id) or self._start(remote, now)
        status = STATUSES.get(remote.get("status"))
        if subscription is None or status is None:
            return subscription
        return actions.sync(
            subscription=subscription,
            status=status,
            period_end=period_end(remote),
            cancel_at_period_end=bool(
                remote.get("cancel_at_period_end") or remote.get("cancel_at")
            ),
            now=now,
        )

    def _start(self, remote: dict, now: datetime) -> Subscription | None:
        public_id = (remote.get("metadata") or {}).get("checkout", "")
        try:
            uuid.UUID(public_id)
        except ValueError:
            return None
        if remote.get("status") not in PAID:
            return None
        row = (
            Checkout.objects.select_for_update()
            .filter(public_id=public_id, provider=NAME)
            .select_related("plan", "offer", "user")
            .first()
        )
        if row is None:
            return None
        if row.state == Checkout.State.PAID:
            return row.subscription
        subscription = actions.start(
            user=row.user,
            plan=row.plan,
            offer=row.offer,
            period_end=period_end(remote),
            now=now,
            provider=NAME,
            provider_customer_id=object_id(remote.get("customer")),
            provider_subscription_id=remote["id"],
            recheck_offer=False,
        )
        PaymentEvent.objects.create(
            user=row.user,
            subscription=subscription,
            checkout=row,
            provider=NAME,
            kind=PaymentEvent.Kind.CHARGE_SUCCEEDED,
            amount=row.amount,
            currency=row.currency,
            at=now,
            data={"invoice": object_id(remote.get("latest_invoice")), "subscription": remote["id"]},
        )
        row.state = Checkout.State.PAID
        row.subscription = subscription
        row.save(update_fields=["state", "subscription"])
        return subscription

    def invoice_paid(self, *, invoice: dict, now: datetime) -> None:
        subscription = self.sync(stripe_subscription_id=invoice_subscription(invoice), now=now)
        if subscription is None:
            return
        already = PaymentEvent.objects.filter(
            provider=NAME, subscription=subscription, kind__in=CHARGED, data__invoice=invoice["id"]
        ).exists()  # under the subscription's lock, taken by sync
        if not already:
            self._record(
                subscription,
                PaymentEvent.Kind.RENEWAL_PAID,
                invoice.get("amount_paid", 0),
                invoice["currency"],
                now,
                invoice=invoice["id"],
            )

    def invoice_failed(self, *, invoice: dict, now: datetime) -> None:
        subscription = self.sync(stripe_subscription_id=invoice_subscription(invoice), now=now)
        if subscription is not None:
            self._record(
                subscription,
                PaymentEvent.Kind.RENEWAL_FAILED,
                invoice.get("amount_due", 0),
                invoice["currency"],
                now,
                invoice=invoice["id"],
            )

    def revoke(
        self,
        *,
        charge_id: str,
        customer: str,
        invoice: str,
        kind: str,
        amount: int,
        currency: str,
        now: datetime,
    ) -> None:
        """A refund or a dispute ends access at once (as the test provider's refund does)
        and stops Stripe billing again. Repeated partial refunds record only what is new."""
        subscription = self._for_charge(customer=customer, invoice=invoice)
        if subscription is None:
            return
        if subscription.status != Status.EXPIRED:
            subscription = actions.expire(subscription=subscription, now=now)
            stripe_api.cancel_subscription(subscription.provider_subscription_id)
        minor = amount
        if kind == PaymentEvent.Kind.REFUNDED:
            before = PaymentEvent.objects.filter(
                provider=NAME, kind=kind, data__charge=charge_id
            ).values_list("data__amount_minor", flat=True)
            minor = amount - sum(int(value or 0) for value in before)
        if minor > 0:
            self._record(
                subscription, kind, minor, currency, now, charge=charge_id, amount_minor=minor
            )

    def _for_charge(self, *, customer: str, invoice: str) -> Subscription | None:
        if invoice:
            found = self.local(invoice_subscription(stripe_api.retrieve_invoice(invoice)))
            if found is not None:
                return found
        if not customer:
            return None
        rows = (
            Subscription.objects.select_for_update()
            .filter(provider=NAME, provider_customer_id=customer)
            .order_by("-current_period_end", "-pk")
        )
        return rows.exclude(status=Status.EXPIRED).first() or rows.first()

    def _record(self, subscription, kind, minor: int, currency: str, now, **data):
        return PaymentEvent.objects.create(
            user=subscription.user,
            subscription=subscription,
            provider=NAME,
            kind=kind,
            amount=from_minor(minor, currency),
            currency=currency.upper(),
            at=now,
            data=data,
        )


def _own_checkout(request, checkout_id) -> Checkout:
    if get_provider().name != NAME:
        raise Http404("Stripe is not in use")
    return get_object_or_404(
        Checkout.objects.select_related("offer__plan"), public_id=checkout_id, user=request.user
    )


@login_required
def checkout_return(request, checkout_id):
    """Where Stripe sends the reader back. It grants nothing: until the verified webhook
    has arrived it says we are confirming the payment (and refreshes itself)."""
    checkout = _own_checkout(request, checkout_id)
    return render(
        request,
        "subscriptions/stripe_return.html",
        {"checkout": describe_checkout(checkout), "paid": checkout.state == Checkout.State.PAID},
    )


@login_required
@require_POST
def billing_portal(request, subscription_id: int):
    """The account page's "Manage billing": Stripe's customer portal for this reader's
    Stripe customer (cards, invoices, cancellation, which come back to us as webhooks)."""
    subscription = get_object_or_404(
        Subscription, pk=subscription_id, user=request.user, provider=NAME
    )
    if not subscription.provider_customer_id:
        raise Http404("No Stripe customer")
    try:
        session = stripe_api.create_portal_session(
            customer=subscription.provider_customer_id,
            return_url=request.build_absolute_uri(reverse("readers:account")),
        )
    except stripe_api.StripeError:
        logger.exception("Stripe billing portal for subscription %s", subscription.pk)
        messages.error(request, _("Billing is unavailable just now. Please try again later."))
        return redirect("readers:account")
    return redirect(session["url"])
