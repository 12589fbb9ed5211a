"""The only module that imports the Stripe SDK: thin wrappers that take and return plain
values (dicts, strings), so the provider and the webhook handlers never see an SDK object
and the SDK can change under us in one place.

Keys and the API address come from settings on every call (``STRIPE_API_BASE`` points the
tests at localstripe). Every call is bounded (``STRIPE_TIMEOUT_SECONDS``, 10 by default where
the SDK would wait 80: a reader is waiting), and a timeout is a `StripeError` like any
refusal. Nothing here may be called inside a database transaction: a slow Stripe must never
hold a row lock (the tests wrap these functions to prove it)."""

import json

import stripe
from django.conf import settings


class StripeError(Exception):
    """Stripe refused or could not be reached; the message is for logs, not for readers.
    ``replayed``: Stripe answered with the failure it stored under the idempotency key."""

    def __init__(self, message: str, *, replayed: bool = False):
        super().__init__(message)
        self.replayed = replayed


class InvalidWebhook(Exception):
    """A webhook whose signature does not verify, or whose body is not an event."""


_client_timeout = None


def _options(idempotency_key: str | None = None) -> dict:
    stripe.api_base = settings.STRIPE_API_BASE
    global _client_timeout  # noqa: PLW0603 - the SDK's client is process-wide too
    timeout = settings.STRIPE_TIMEOUT_SECONDS
    if _client_timeout != timeout:
        stripe.default_http_client = stripe.new_default_http_client(timeout=timeout)
        _client_timeout = timeout
    options = {"api_key": settings.STRIPE_SECRET_KEY}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    return options


def _plain(obj) -> dict:
    return obj.to_dict(recursive=True)


def _call(method, *args, idempotency_key: str | None = None, **params) -> dict:
    try:
        return _plain(method(*args, **params, **_options(idempotency_key)))
    except stripe.StripeError as error:
        headers = {str(k).lower(): str(v) for k, v in (error.headers or {}).items()}
        replayed = headers.get("idempotent-replayed", "").lower() == "true"
        raise StripeError(str(error), replayed=replayed) from error


def construct_event(payload: bytes, signature: str | None) -> dict:
    """The event, as a plain dict, only once its signature verifies against
    ``STRIPE_WEBHOOK_SECRET`` (and its timestamp is within Stripe's tolerance)."""
    if not signature or not settings.STRIPE_WEBHOOK_SECRET:
        raise InvalidWebhook("no signature")
    try:
        stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
        event = json.loads(payload)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise InvalidWebhook(str(error)) from error
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise InvalidWebhook("not an event")
    return event


def ensure_product(*, product_id: str, name: str) -> str:
    """Our plan as a Stripe Product, under an id we choose, so looking it up is one call."""
    try:
        return _plain(stripe.Product.retrieve(product_id, **_options()))["id"]
    except stripe.InvalidRequestError:
        pass
    try:
        return _call(stripe.Product.create, id=product_id, name=name, idempotency_key=product_id)[
            "id"
        ]
    except StripeError:
        # Created meanwhile by a racing request.
        return _call(stripe.Product.retrieve, product_id)["id"]


def ensure_price(
    *, lookup_key: str, product: str, unit_amount: int, currency: str, interval: str | None
) -> str:
    """A Price with exactly these terms, found by its lookup key (which encodes the terms,
    so a change of price in our catalogue makes a new Price and never edits an old one)."""
    found = _call(stripe.Price.list, lookup_keys=[lookup_key], limit=1)["data"]
    if found:
        return found[0]["id"]
    params = {
        "lookup_key": lookup_key,
        "product": product,
        "unit_amount": unit_amount,
        "currency": currency.lower(),
    }
    if interval:
        params["recurring"] = {"interval": interval}
    return _call(stripe.Price.create, idempotency_key=f"price-{lookup_key}", **params)["id"]


def create_checkout_session(*, idempotency_key: str, **params) -> dict:
    return _call(stripe.checkout.Session.create, idempotency_key=idempotency_key, **params)


def retrieve_checkout_session(session_id: str) -> dict:
    return _call(stripe.checkout.Session.retrieve, session_id)


def retrieve_subscription(subscription_id: str) -> dict:
    return _call(stripe.Subscription.retrieve, subscription_id)


def cancel_subscription(subscription_id: str) -> None:
    """Stop billing now (after a refund or a dispute); already cancelled is fine."""
    try:
        stripe.Subscription.cancel(subscription_id, **_options())
    except stripe.InvalidRequestError:
        pass
    except stripe.StripeError as error:
        raise StripeError(str(error)) from error


def set_cancel_at_period_end(
    subscription_id: str, cancel: bool, *, idempotency_key: str | None = None
) -> dict:
    return _call(
        stripe.Subscription.modify,
        subscription_id,
        cancel_at_period_end=cancel,
        idempotency_key=idempotency_key,
    )


def set_collection_paused(subscription_id: str, paused: bool) -> dict:
    """Stop (or restart) charging a subscription without ending it, while a dispute is
    open: invoices in between are voided, so nothing is charged twice when it restarts.
    Setting the same value again changes nothing, so a retried webhook may call it again."""
    pause = {"behavior": "void"} if paused else ""
    return _call(stripe.Subscription.modify, subscription_id, pause_collection=pause)


def retrieve_dispute(dispute_id: str) -> dict:
    return _call(stripe.Dispute.retrieve, dispute_id)


def retrieve_invoice(invoice_id: str) -> dict:
    return _call(stripe.Invoice.retrieve, invoice_id)


def create_portal_session(*, customer: str, return_url: str) -> dict:
    return _call(stripe.billing_portal.Session.create, customer=customer, return_url=return_url)


def retrieve_charge(charge_id: str) -> dict:
    return _call(stripe.Charge.retrieve, charge_id)
