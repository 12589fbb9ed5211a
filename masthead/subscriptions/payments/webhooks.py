"""Stripe's webhooks at /subscribe/stripe/webhook/.

The order matters. The signature is verified before anything is read or written (400
otherwise). Then Stripe is read (and, for refunds and disputes, told) with no transaction
open: a handler takes Stripe's object, re-fetches what it needs and returns the database
work, so no row is locked while we wait on the network. Then one transaction inserts the
event's id under a unique constraint and does that work, so an event is applied once: a
duplicate delivery, even a concurrent one, meets the constraint and gets 200 with nothing
changed, and an event whose work fails rolls back whole (500) for Stripe to send again,
which repeats the reads (what handlers tell Stripe is safe to repeat). Handlers are thin;
the re-fetched state makes events arriving twice or out of order converge."""

import logging

from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from masthead.core import clock

from .. import actions
from ..models import ProviderEvent
from . import stripe_api
from .stripe_provider import NAME, Apply, Provider, object_id

logger = logging.getLogger(__name__)


def subscription_changed(obj: dict) -> Apply | None:
    return Provider().subscription_changed(obj["id"])


def checkout_completed(obj: dict) -> Apply | None:
    if obj.get("mode") != "subscription":
        return None
    return Provider().subscription_changed(object_id(obj.get("subscription")))


def invoice_paid(obj: dict) -> Apply | None:
    return Provider().invoice_paid(obj)


def invoice_payment_failed(obj: dict) -> Apply | None:
    return Provider().invoice_failed(obj)


def charge_refunded(obj: dict) -> Apply | None:
    return Provider().refunded(obj)


def dispute_changed(obj: dict) -> Apply | None:
    return Provider().disputed(obj)


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
    "charge.dispute.created": dispute_changed,
    "charge.dispute.closed": dispute_changed,
}


def _seen(event_id: str) -> bool:
    return ProviderEvent.objects.filter(provider=NAME, event_id=event_id).exists()


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = stripe_api.construct_event(request.body, request.headers.get("Stripe-Signature"))
    except stripe_api.InvalidWebhook:
        return HttpResponseBadRequest("invalid signature or payload")
    # Saves a duplicate its calls to Stripe; the unique constraint below is what decides.
    if _seen(event["id"]):
        return HttpResponse("already processed")
    now = clock.now()
    handler = HANDLERS.get(event["type"])
    try:
        work = handler(event["data"]["object"]) if handler is not None else None
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
            if work is not None:
                work(now)
    except (stripe_api.StripeError, actions.SubscriptionError, IntegrityError):
        # Nothing was written; Stripe retries, and by then the state may have settled.
        logger.exception("Stripe event %s (%s) failed", event["id"], event["type"])
        return HttpResponse("not processed", status=500)
    return HttpResponse("ok" if handler else "ignored")
