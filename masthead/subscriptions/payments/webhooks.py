"""Stripe's webhooks at /subscribe/stripe/webhook/.

The order matters: the signature is verified before anything is read or written (400
otherwise). The event's id is then inserted under a unique constraint in the same
transaction that applies it, so an event is applied once: a duplicate delivery, even a
concurrent one, meets the constraint and gets 200 with nothing changed, and an event whose
handler fails rolls back whole (500) for Stripe to send again. Handlers are thin: they
hand Stripe's object to the provider, which re-fetches the subscription from Stripe, so
events arriving twice or out of order converge on Stripe's state."""

import logging

from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from masthead.access import gate

from .. import actions
from ..models import PaymentEvent, ProviderEvent
from . import stripe_api
from .stripe_provider import NAME, Provider, object_id

logger = logging.getLogger(__name__)


def subscription_changed(obj: dict, *, now) -> None:
    Provider().sync(stripe_subscription_id=obj["id"], now=now)


def checkout_completed(obj: dict, *, now) -> None:
    if obj.get("mode") == "subscription":
        Provider().sync(stripe_subscription_id=object_id(obj.get("subscription")), now=now)


def invoice_paid(obj: dict, *, now) -> None:
    Provider().invoice_paid(invoice=obj, now=now)


def invoice_payment_failed(obj: dict, *, now) -> None:
    Provider().invoice_failed(invoice=obj, now=now)


def charge_refunded(obj: dict, *, now) -> None:
    Provider().revoke(
        charge_id=obj["id"],
        customer=object_id(obj.get("customer")),
        invoice=object_id(obj.get("invoice")),
        kind=PaymentEvent.Kind.REFUNDED,
        amount=obj.get("amount_refunded", 0),
        currency=obj["currency"],
        now=now,
    )


def dispute_created(obj: dict, *, now) -> None:
    charge = obj.get("charge")
    charge = charge if isinstance(charge, dict) else stripe_api.retrieve_charge(charge)
    Provider().revoke(
        charge_id=charge["id"],
        customer=object_id(charge.get("customer")),
        invoice=object_id(charge.get("invoice")),
        kind=PaymentEvent.Kind.DISPUTED,
        amount=obj.get("amount", 0),
        currency=obj["currency"],
        now=now,
    )


HANDLERS = {
    "checkout.session.completed": checkout_completed,
    "invoice.paid": invoice_paid,
    # localstripe (and older integrations) send this one; it is the same fact as invoice.paid,
    # and payments are recorded once per invoice whichever of the two comes first.
    "invoice.payment_succeeded": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
}


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = stripe_api.construct_event(request.body, request.headers.get("Stripe-Signature"))
    except stripe_api.InvalidWebhook:
        return HttpResponseBadRequest("invalid signature or payload")
    now = gate.clock()
    handler = HANDLERS.get(event["type"])
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    ProviderEvent.objects.create(
                        provider=NAME,
                        event_id=event["id"],
                        type=event["type"],
                        received_at=now,
                        payload=event,
                    )
            except IntegrityError:
                return HttpResponse("already processed")
            if handler is not None:
                handler(event["data"]["object"], now=now)
    except (stripe_api.StripeError, actions.SubscriptionError, IntegrityError):
        # Nothing was written; Stripe retries, and by then the state may have settled.
        logger.exception("Stripe event %s (%s) failed", event["id"], event["type"])
        return HttpResponse("not processed", status=500)
    return HttpResponse("ok" if handler else "ignored")
