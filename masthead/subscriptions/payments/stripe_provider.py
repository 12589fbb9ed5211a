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
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from masthead.access.policy import Status
from masthead.core.links import public_url

from .. import actions
from ..models import Checkout, PaymentEvent, Subscription, SubscriptionEvent
from ..offers import add_periods
from ..templatetags.subscriptions_tags import describe_checkout
from . import stripe_api
from .interface import PaymentProvider, ProviderUnavailable, get_provider

logger = logging.getLogger(__name__)

# The database work of a webhook, run inside its transaction, at the event's moment.
Apply = Callable[[datetime], object]

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
# A dispute's outcomes that give the money back: won, or an inquiry that never became one.
DISPUTE_WON = ("won", "warning_closed")
RESTORABLE = (Status.ACTIVE, Status.PAST_DUE)
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


def _with_next(path: str, next_path: str) -> str:
    return f"{path}?{urlencode({'next': next_path})}" if next_path else path


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

    def create_checkout(
        self,
        *,
        reader,
        idempotency_key: str,
        now: datetime,
        offer=None,
        plan=None,
        next_path: str = "",
    ) -> Checkout:
        """One Checkout row (the base class) and one Stripe session for it. Stripe is called
        with no transaction open, under an idempotency key made from the row and with
        parameters made from the row, so a double click, or a retry after Stripe failed,
        gets the same session; it is stored only if no other request stored one meanwhile.
        A session that expired (they last a day) is replaced. Stripe failing or too slow:
        ProviderUnavailable, the row left open without a session for the retry (nothing was
        charged, nothing granted)."""
        checkout = super().create_checkout(
            reader=reader,
            offer=offer,
            plan=plan,
            idempotency_key=idempotency_key,
            now=now,
            next_path=next_path,
        )
        row = Checkout.objects.select_related("plan", "offer", "user").get(pk=checkout.pk)
        if row.state == Checkout.State.PAID:
            return row
        key, intro_from = f"masthead-checkout-{row.public_id}", row.created
        try:
            if row.provider_session_id:
                found = stripe_api.retrieve_checkout_session(row.provider_session_id)
                if found.get("status") != "expired":
                    return row
                key, intro_from = f"{key}-after-{row.provider_session_id}", now
            session = self._create_session(key, self._session_params(row, intro_from))
        except stripe_api.StripeError as error:
            raise ProviderUnavailable(str(error)) from error
        stored = Checkout.objects.filter(
            pk=row.pk, provider_session_id=row.provider_session_id
        ).update(provider_session_id=session["id"], provider_url=session["url"])
        if not stored:  # a racing request stored its session first: that one is used
            row.refresh_from_db()
            return row
        row.provider_session_id, row.provider_url = session["id"], session["url"]
        return row

    def _create_session(self, key: str, params: dict) -> dict:
        """Stripe keeps its answer under a key for a day, a failure too: one it replays
        would refuse this checkout until then, so it is asked once more under a fresh key
        (a session is not a charge, and one nobody was sent to is never paid)."""
        try:
            return stripe_api.create_checkout_session(idempotency_key=key, **params)
        except stripe_api.StripeError as error:
            if not error.replayed:
                raise
        return stripe_api.create_checkout_session(
            idempotency_key=f"{key}-{uuid.uuid4().hex[:12]}", **params
        )

    def _session_params(self, row: Checkout, intro_from: datetime) -> dict:
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
        ours = {"checkout": str(row.public_id), "user": str(row.user_id)}
        line_items = [{"price": recurring, "quantity": 1}]
        subscription_data = {"metadata": ours}
        if offer is not None:
            # The intro span: paid today as a one-off Price, the recurring one from its end.
            today = to_minor(row.amount, currency)
            intro = stripe_api.ensure_price(
                lookup_key=f"masthead-offer-{offer.pk}-{today}-{currency}",
                product=product,
                unit_amount=today,
                currency=currency,
                interval=None,
            )
            line_items.append({"price": intro, "quantity": 1})
            intro_end = add_periods(intro_from, plan.terms().interval, offer.intro_periods or 1)
            subscription_data["trial_end"] = int(intro_end.timestamp())
        params = {
            "mode": "subscription",
            "client_reference_id": str(row.public_id),
            "line_items": line_items,
            "subscription_data": subscription_data,
            "metadata": ours,
            "success_url": public_url(reverse("stripe-return", args=[row.public_id])),
            # Back out of Stripe's page: to the offers, not to the checkout (which would
            # send the reader straight back to Stripe).
            "cancel_url": public_url(_with_next(reverse("subscribe"), row.next_path)),
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

    def push_change(self, *, subscription: Subscription, cancel_at_period_end: bool) -> None:
        """Tell Stripe what the account page's cancel or resume is about to do to ours:
        Stripe then bills, or stops at period end, accordingly, and the webhook that follows
        finds nothing left to change. The key names this change of this subscription (the
        ledger's length counts the changes before it), so a retry reuses it."""
        if subscription.provider == NAME and subscription.provider_subscription_id:
            done = subscription.events.count()
            key = f"masthead-sub-{subscription.pk}-{done}-cancel-{int(cancel_at_period_end)}"
            try:
                stripe_api.set_cancel_at_period_end(
                    subscription.provider_subscription_id,
                    cancel_at_period_end,
                    idempotency_key=key,
                )
            except stripe_api.StripeError as error:
                raise ProviderUnavailable(str(error)) from error

    # What the verified webhooks do, in two steps. The methods below read (and, for refunds
    # and disputes, tell) Stripe with no transaction open, and return the database work as
    # an `Apply`, which the webhook runs in the transaction that records the event. None:
    # nothing of ours to change. Everything they tell Stripe is safe to repeat, since a
    # failed transaction means Stripe sends the event again.

    def fetch(self, stripe_subscription_id: str) -> dict | None:
        if not stripe_subscription_id:
            return None
        return stripe_api.retrieve_subscription(stripe_subscription_id)

    def subscription_changed(self, stripe_subscription_id: str) -> Apply | None:
        remote = self.fetch(stripe_subscription_id)
        if remote is None:
            return None
        return lambda now: self.apply(remote, now)

    def local(self, stripe_subscription_id: str) -> Subscription | None:
        return (
            Subscription.objects.select_for_update()
            .filter(provider=NAME, provider_subscription_id=stripe_subscription_id)
            .first()
        )

    def apply(self, remote: dict, now: datetime) -> Subscription | None:
        """Ours, brought to Stripe's state (``remote``, fetched before the transaction);
        started from its checkout if this is the first we hear of it and Stripe says it is
        paid. None for subscriptions not ours."""
        subscription = self.local(remote["id"]) or self._start(remote, now)
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
            # Only the checkout's row is locked: its offer is optional (a plan at full
            # price), and PostgreSQL cannot lock the nullable side of an outer join.
            Checkout.objects.select_for_update(of=("self",))
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

    def invoice_paid(self, invoice: dict) -> Apply | None:
        remote = self.fetch(invoice_subscription(invoice))
        if remote is None:
            return None

        def apply(now: datetime) -> None:
            subscription = self.apply(remote, now)
            if subscription is None:
                return
            already = PaymentEvent.objects.filter(
                provider=NAME,
                subscription=subscription,
                kind__in=CHARGED,
                data__invoice=invoice["id"],
            ).exists()  # under the subscription's lock, taken by apply
            if not already:
                self._record(
                    subscription,
                    PaymentEvent.Kind.RENEWAL_PAID,
                    invoice.get("amount_paid", 0),
                    invoice["currency"],
                    now,
                    invoice=invoice["id"],
                )

        return apply

    def invoice_failed(self, invoice: dict) -> Apply | None:
        remote = self.fetch(invoice_subscription(invoice))
        if remote is None:
            return None

        def apply(now: datetime) -> None:
            subscription = self.apply(remote, now)
            if subscription is not None:
                self._record(
                    subscription,
                    PaymentEvent.Kind.RENEWAL_FAILED,
                    invoice.get("amount_due", 0),
                    invoice["currency"],
                    now,
                    invoice=invoice["id"],
                )

        return apply

    def refunded(self, charge: dict) -> Apply | None:
        """Only a full refund of the subscription's latest payment ends access (at once)
        and stops Stripe billing. A partial refund, or a refund of an earlier payment, is
        recorded in the payment ledger and access stays; repeated partial refunds record
        only what is new, and the one that completes a refund of the latest payment
        revokes."""
        invoice = object_id(charge.get("invoice"))
        subscription = self._for_charge(customer=object_id(charge.get("customer")), invoice=invoice)
        if subscription is None:
            return None
        refunded = charge.get("amount_refunded", 0)
        revokes = refunded >= charge.get("amount", 0) > 0 and self._latest_payment(
            subscription, invoice
        )
        if revokes and subscription.status != Status.EXPIRED:
            # Ours already ended (cancelled and over, an earlier refund): so has Stripe's
            # billing, and the refund is only recorded, offline.
            stripe_api.cancel_subscription(subscription.provider_subscription_id)

        def apply(now: datetime) -> None:
            row = self._lock(subscription)
            if revokes and row.status != Status.EXPIRED:
                actions.expire(subscription=row, now=now, reason="refunded", charge=charge["id"])
            before = PaymentEvent.objects.filter(
                provider=NAME, kind=PaymentEvent.Kind.REFUNDED, data__charge=charge["id"]
            ).values_list("data__amount_minor", flat=True)
            new = refunded - sum(int(value or 0) for value in before)
            if new > 0:
                self._record(
                    row,
                    PaymentEvent.Kind.REFUNDED,
                    new,
                    charge["currency"],
                    now,
                    charge=charge["id"],
                    amount_minor=new,
                    revoked=revokes,
                )

        return apply

    def disputed(self, dispute: dict) -> Apply | None:
        """A dispute suspends access at once, whatever its outcome: ours expires and Stripe
        stops charging (collection paused) until it is decided. Won (or an inquiry closed
        without a chargeback): Stripe charges again and ours is restored to Stripe's state.
        Lost: Stripe's subscription is cancelled and ours stays expired. The dispute is
        re-fetched, so its events arriving twice or out of order converge on its outcome."""
        current = stripe_api.retrieve_dispute(dispute["id"])
        charge = current.get("charge")
        charge = charge if isinstance(charge, dict) else stripe_api.retrieve_charge(charge)
        subscription = self._for_charge(
            customer=object_id(charge.get("customer")), invoice=object_id(charge.get("invoice"))
        )
        if subscription is None:
            return None
        outcome = current.get("status")
        stripe_id = subscription.provider_subscription_id
        remote = stripe_api.retrieve_subscription(stripe_id)
        if STATUSES.get(remote.get("status")) != Status.EXPIRED:
            if outcome == "lost":
                stripe_api.cancel_subscription(stripe_id)
            else:
                remote = stripe_api.set_collection_paused(stripe_id, outcome not in DISPUTE_WON)
        ids = {"dispute": current["id"], "charge": charge["id"]}
        amount, currency = current.get("amount", 0), current["currency"]

        def apply(now: datetime) -> None:
            row = self._lock(subscription)
            self._once(row, PaymentEvent.Kind.DISPUTED, amount, currency, now, **ids)
            if outcome in DISPUTE_WON:
                self._once(row, PaymentEvent.Kind.DISPUTE_WON, amount, currency, now, **ids)
                status = STATUSES.get(remote.get("status"))
                if self._expired_by(row, current["id"]) and status in RESTORABLE:
                    actions.restore(
                        subscription=row,
                        status=status,
                        period_end=period_end(remote),
                        cancel_at_period_end=bool(remote.get("cancel_at_period_end")),
                        now=now,
                        reason="dispute_won",
                        dispute=current["id"],
                    )
                return
            if outcome == "lost":
                self._once(row, PaymentEvent.Kind.DISPUTE_LOST, amount, currency, now, **ids)
            if row.status != Status.EXPIRED:
                actions.expire(subscription=row, now=now, reason="disputed", **ids)

        return apply

    def _for_charge(self, *, customer: str, invoice: str) -> Subscription | None:
        """Ours that a charge paid for, found without a lock (no transaction is open yet):
        by its invoice's subscription, else the customer's current subscription."""
        stripe_id = invoice and invoice_subscription(stripe_api.retrieve_invoice(invoice))
        if stripe_id:
            found = Subscription.objects.filter(
                provider=NAME, provider_subscription_id=stripe_id
            ).first()
            if found is not None:
                return found
        if not customer:
            return None
        rows = Subscription.objects.filter(provider=NAME, provider_customer_id=customer).order_by(
            "-current_period_end", "-pk"
        )
        return rows.exclude(status=Status.EXPIRED).first() or rows.first()

    def _latest_payment(self, subscription: Subscription, invoice: str) -> bool:
        """Whether the charge for ``invoice`` is the subscription's latest payment. A charge
        that names no invoice (Stripe's newer API versions) cannot be placed, and is taken
        as the latest: a full refund of it revokes, as before."""
        if not invoice:
            return True
        latest = (
            PaymentEvent.objects.filter(subscription=subscription, kind__in=CHARGED)
            .order_by("-at", "-pk")
            .first()
        )
        return latest is None or latest.data.get("invoice") == invoice

    def _expired_by(self, subscription: Subscription, dispute_id: str) -> bool:
        """Whether this dispute is what ended it (nothing happened to it since)."""
        last = subscription.events.order_by("-at", "-pk").first()
        return (
            subscription.status == Status.EXPIRED
            and last is not None
            and last.kind == SubscriptionEvent.Kind.EXPIRED
            and last.data.get("dispute") == dispute_id
        )

    def _lock(self, subscription: Subscription) -> Subscription:
        return Subscription.objects.select_for_update().get(pk=subscription.pk)

    def _once(self, subscription, kind, minor: int, currency: str, now, **data) -> None:
        """A ledger row for this dispute's step, unless there is one (under the lock)."""
        if not PaymentEvent.objects.filter(
            provider=NAME, subscription=subscription, kind=kind, data__dispute=data["dispute"]
        ).exists():
            self._record(subscription, kind, minor, currency, now, **data)

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
