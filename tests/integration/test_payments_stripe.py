"""The Stripe provider: Checkout priced from our catalogue, access only from verified
webhooks, each event applied once in one transaction, and Stripe's state winning over the
order events arrive in.

localstripe (a subprocess) plays a real payment and signs and delivers real webhooks;
it has no Checkout Sessions, Prices, billing portal, refund or dispute events, so those
cases use signed fixtures (tests/fixtures/stripe) and a fake Stripe account installed over
``stripe_api``."""

import json
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.core.checks import run_checks
from django.db import connection

from masthead.subscriptions import actions
from masthead.subscriptions.models import (
    Checkout,
    PaymentEvent,
    ProviderEvent,
    Subscription,
    SubscriptionEvent,
)
from masthead.subscriptions.payments import stripe_api
from masthead.subscriptions.payments.stripe_provider import Provider
from tests.integration.stripe_helpers import (
    SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    LocalStripe,
    load_event,
    post_event,
    sign,
    unix,
)
from tests.integration.subscription_factories import (
    DAY,
    NOW,
    TOKYO,
    make_intro,
    make_plan,
    make_reader,
    reads_in_full,
)

FIRST_END = datetime(2026, 11, 15, 12, tzinfo=TOKYO)  # NOW + one month, the intro span


@pytest.fixture
def stripe_settings(settings):
    settings.MASTHEAD_PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


@pytest.fixture
def fake(monkeypatch, stripe_settings):
    """The fake Stripe; a test that called it while a transaction was open fails."""
    fake = FakeStripe().install(monkeypatch)
    yield fake
    assert fake.in_transaction == [], f"Stripe called in a transaction: {fake.in_transaction}"


@pytest.fixture
def catalogue(db):
    plan = make_plan(name="Digital", price="12.00")
    return {
        "plan": plan,
        "dollar": make_intro(plan, NOW, "0.99", 1, name="Dollar"),
        "nine": make_intro(plan, NOW, "9", 3, name="Nine"),
    }


def text(response) -> str:
    return " ".join(BeautifulSoup(response.content, "html.parser").get_text().split())


def subscribe(client, offer, extra=None):
    return client.post(f"/subscribe/{offer.pk}/", extra or {})


def counts():
    return (
        ProviderEvent.objects.count(),
        Subscription.objects.count(),
        SubscriptionEvent.objects.count(),
        PaymentEvent.objects.count(),
    )


@pytest.fixture
def paid_at_stripe(fake, catalogue, client, reader, at):
    """A reader who opened a checkout for "1 month for $0.99" and paid on Stripe's page;
    Stripe's subscription exists, our side has heard nothing yet."""
    subscribe(client, catalogue["dollar"])
    checkout = Checkout.objects.get()
    fake.subscription(period_end=FIRST_END, status="trialing", checkout=str(checkout.public_id))
    ids = {
        "checkout": str(checkout.public_id),
        "subscription": "sub_test_1",
        "customer": "cus_test_1",
        "invoice": "in_test_first",
    }
    return {"checkout": checkout, "ids": ids}


def completed(client, ids):
    return post_event(client, load_event("checkout.session.completed", **ids))


# Checkout


def test_subscribe_opens_one_stripe_session_priced_from_the_catalogue(
    fake, catalogue, client, reader, at
):
    # given a reader posting Subscribe twice, with made-up price fields
    tampered = {"amount": "0.01", "price": "0.01", "offer": catalogue["nine"].pk}
    first = subscribe(client, catalogue["dollar"], tampered)
    second = subscribe(client, catalogue["dollar"], tampered)
    # then both go to the same Stripe Checkout page, from one row and one Stripe call
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == "https://checkout.stripe.com/c/pay/cs_test_1"
    checkout = Checkout.objects.get()
    assert (checkout.provider, checkout.amount, checkout.provider_session_id) == (
        "stripe",
        Decimal("0.99"),
        "cs_test_1",
    )
    assert len(fake.session_calls) == 1
    call = fake.session_calls[0]
    assert call["idempotency_key"] == f"masthead-checkout-{checkout.public_id}"
    # and Stripe charges the catalogue's prices: $0.99 once, then $12.00 a month from the
    # end of the intro span
    plan = catalogue["plan"]
    assert call["mode"] == "subscription"
    prices = [fake.prices[item["price"].removeprefix("price_")] for item in call["line_items"]]
    assert [(p["unit_amount"], p["currency"], p["interval"]) for p in prices] == [
        (1200, "USD", "month"),
        (99, "USD", None),
    ]
    assert {p["product"] for p in prices} == {f"masthead-plan-{plan.pk}"}
    assert call["subscription_data"]["trial_end"] == unix(FIRST_END)
    assert call["subscription_data"]["metadata"]["checkout"] == str(checkout.public_id)
    assert call["client_reference_id"] == str(checkout.public_id)
    assert call["customer_email"] == reader.email
    assert call["success_url"] == f"http://testserver/subscribe/stripe/return/{checkout.public_id}/"
    # and nothing is granted yet
    assert not Subscription.objects.exists()
    assert not PaymentEvent.objects.exists()


def test_three_months_for_nine_dollars_charges_nine_then_starts_the_plan_in_three_months(
    fake, catalogue, client, reader, at
):
    subscribe(client, catalogue["nine"])
    call = fake.session_calls[0]
    intro = fake.prices[call["line_items"][1]["price"].removeprefix("price_")]
    assert intro["unit_amount"] == 900
    assert call["subscription_data"]["trial_end"] == unix(datetime(2027, 1, 15, 12, tzinfo=TOKYO))


def test_an_expired_stripe_session_is_replaced_but_an_open_one_is_reused(
    fake, catalogue, client, reader, at
):
    first = subscribe(client, catalogue["dollar"]).url
    fake.sessions[next(iter(fake.sessions))]["status"] = "expired"
    second = subscribe(client, catalogue["dollar"]).url
    third = subscribe(client, catalogue["dollar"]).url
    assert first != second == third
    assert Checkout.objects.count() == 1
    assert len(fake.session_calls) == 2


@pytest.mark.parametrize(
    "failing", ["ensure_product", "ensure_price", "create_checkout_session", "timeout"]
)
def test_a_stripe_failure_in_checkout_says_payments_are_unavailable_and_grants_nothing(
    fake, catalogue, client, reader, at, failing
):
    # given Stripe refusing one of the checkout's calls, or timing out (which the SDK
    # reports as a connection error, and stripe_api as a StripeError)
    if failing == "timeout":
        failing = "create_checkout_session"
        fake.fail_with = stripe_api.StripeError("Request timed out")
    fake.fail_on = {failing}
    # when the reader presses Subscribe
    response = subscribe(client, catalogue["dollar"])
    # then a clear page says to try again: 503, not cached, nothing charged or granted
    assert response.status_code == 503
    assert "Payments are unavailable just now" in text(response)
    assert "Nothing was charged" in text(response)
    assert response["Retry-After"] == "30"
    assert "no-store" in response["Cache-Control"]
    assert not Subscription.objects.exists()
    assert not PaymentEvent.objects.exists()
    checkout = Checkout.objects.get()
    assert (checkout.state, checkout.provider_session_id) == ("open", "")
    # and once Stripe answers, trying again opens the session under the same key
    fake.fail_on, fake.fail_with = set(), None
    again = subscribe(client, catalogue["dollar"])
    assert again.status_code == 302
    assert Checkout.objects.get().provider_session_id == "cs_test_1"
    assert {call["idempotency_key"] for call in fake.session_calls} == {
        f"masthead-checkout-{checkout.public_id}"
    }


def test_a_failure_stripe_replays_under_the_checkout_key_is_retried_under_a_fresh_one(
    fake, catalogue, client, reader, at, monkeypatch
):
    # given Stripe answering the checkout's key with a failure it stored earlier (it keeps
    # answers, 500s included, for a day)
    create = stripe_api.create_checkout_session
    keys = []

    def replaying(*, idempotency_key, **params):
        keys.append(idempotency_key)
        if len(keys) == 1:
            raise stripe_api.StripeError("stored 500", replayed=True)
        return create(idempotency_key=idempotency_key, **params)

    monkeypatch.setattr(stripe_api, "create_checkout_session", replaying)
    # when the reader presses Subscribe
    response = subscribe(client, catalogue["dollar"])
    # then a session made under a fresh key opens
    assert response.status_code == 302
    checkout = Checkout.objects.get()
    assert checkout.provider_session_id == "cs_test_1"
    first, second = keys
    assert first == f"masthead-checkout-{checkout.public_id}"
    assert second.startswith(f"{first}-") and second != first


def test_sdk_errors_say_when_stripe_replayed_a_stored_failure(stripe_settings, monkeypatch):
    def stored(**params):
        raise stripe_api.stripe.APIError(
            "Internal error", http_status=500, headers={"Idempotent-Replayed": "true"}
        )

    monkeypatch.setattr(stripe_api.stripe.checkout.Session, "create", stored)
    with pytest.raises(stripe_api.StripeError) as raised:
        stripe_api.create_checkout_session(idempotency_key="k1", mode="subscription")
    assert raised.value.replayed is True


def test_a_double_click_sends_stripe_the_same_key_and_parameters(
    fake, catalogue, client, reader, at
):
    # given a first Subscribe whose session Stripe created but which we failed to store
    # (so the second request asks Stripe again, a second later)
    subscribe(client, catalogue["dollar"])
    Checkout.objects.update(provider_session_id="", provider_url="")
    at(NOW + timedelta(seconds=1))
    subscribe(client, catalogue["dollar"])
    # then Stripe sees one request twice: it answers with the same session
    first, second = fake.session_calls
    assert first == second
    assert Checkout.objects.get().provider_session_id == "cs_test_1"


def test_the_return_page_grants_nothing_until_the_webhook_arrives(
    exclusive, paid_at_stripe, client, reader, at
):
    checkout = paid_at_stripe["checkout"]
    page = client.get(f"/subscribe/stripe/return/{checkout.public_id}/")
    assert page.status_code == 200
    assert "We're confirming your payment" in text(page)
    assert not Subscription.objects.exists()
    assert not reads_in_full(client, exclusive)
    # when the verified webhook comes, the same page reports the payment
    assert completed(client, paid_at_stripe["ids"]).status_code == 200
    assert "your payment of $0.99 has been received" in text(
        client.get(f"/subscribe/stripe/return/{checkout.public_id}/")
    )
    assert reads_in_full(client, exclusive)


def test_another_readers_return_page_is_not_found(paid_at_stripe, client, at):
    client.force_login(make_reader())
    checkout = paid_at_stripe["checkout"]
    assert client.get(f"/subscribe/stripe/return/{checkout.public_id}/").status_code == 404


# Webhooks: the first payment


def test_a_verified_checkout_completed_event_starts_the_subscription(
    exclusive, paid_at_stripe, client, reader, at
):
    # when Stripe reports the completed checkout
    response = completed(client, paid_at_stripe["ids"])
    # then the subscription runs to the end of the paid intro span, billed by Stripe
    assert response.status_code == 200
    subscription = Subscription.objects.get(user=reader)
    assert subscription.status == "active"
    assert subscription.current_period_end == FIRST_END
    assert subscription.trial_end is None  # Stripe's "trial" is our paid intro
    assert (
        subscription.provider,
        subscription.provider_customer_id,
        subscription.provider_subscription_id,
    ) == ("stripe", "cus_test_1", "sub_test_1")
    payment = PaymentEvent.objects.get()
    assert (payment.kind, payment.amount, payment.currency, payment.provider) == (
        "charge_succeeded",
        Decimal("0.99"),
        "USD",
        "stripe",
    )
    assert payment.checkout == paid_at_stripe["checkout"]
    assert [e.kind for e in subscription.events.all()] == ["started"]
    assert Checkout.objects.get().state == "paid"
    assert ProviderEvent.objects.get().type == "checkout.session.completed"
    assert reads_in_full(client, exclusive)


def test_a_payment_is_honoured_when_the_offer_ended_before_its_webhook(
    paid_at_stripe, catalogue, client, reader, at
):
    # given the reader paid a moment before the offer ended, and Stripe's event comes after
    at(catalogue["dollar"].ends_at + DAY)
    assert completed(client, paid_at_stripe["ids"]).status_code == 200
    subscription = Subscription.objects.get(user=reader)
    assert (subscription.status, subscription.offer) == ("active", catalogue["dollar"])


def test_a_duplicate_delivery_changes_nothing(paid_at_stripe, client, at):
    event = load_event("checkout.session.completed", **paid_at_stripe["ids"])
    assert post_event(client, event).status_code == 200
    before = counts()
    assert before == (1, 1, 1, 1)
    again = post_event(client, event)
    assert again.status_code == 200
    assert counts() == before


def test_a_duplicate_payment_failure_is_recorded_once(subscribed, fake, client, at):
    # the failure is not idempotent by itself (every attempt is a ledger row): the event id is
    fake.subscriptions["sub_test_1"]["status"] = "past_due"
    event = load_event("invoice.payment_failed", **dict(subscribed["ids"], invoice="in_2"))
    assert post_event(client, event).status_code == 200
    assert post_event(client, event).status_code == 200
    assert list(PaymentEvent.objects.values_list("kind", flat=True)) == [
        "charge_succeeded",
        "renewal_failed",
    ]


def test_subscription_updated_before_checkout_completed_still_starts_it_once(
    paid_at_stripe, client, reader, at
):
    ids = paid_at_stripe["ids"]
    # given the update arrives first, with a stale snapshot (status incomplete)
    response = post_event(client, load_event("customer.subscription.updated", **ids))
    # then Stripe's true state (re-fetched: paid) starts the subscription
    assert response.status_code == 200
    subscription = Subscription.objects.get(user=reader)
    assert (subscription.status, subscription.current_period_end) == ("active", FIRST_END)
    # and the later events for the same payment change nothing
    assert completed(client, ids).status_code == 200
    first_invoice = load_event("invoice.paid", **ids)
    first_invoice["data"]["object"].update(amount_paid=99, billing_reason="subscription_create")
    assert post_event(client, first_invoice).status_code == 200
    assert [e.kind for e in subscription.events.all()] == ["started"]
    assert list(PaymentEvent.objects.values_list("kind", "amount")) == [
        ("charge_succeeded", Decimal("0.99"))
    ]
    assert ProviderEvent.objects.count() == 3


def test_an_unpaid_stripe_subscription_grants_nothing(paid_at_stripe, fake, client, at):
    fake.subscriptions["sub_test_1"]["status"] = "incomplete"
    assert completed(client, paid_at_stripe["ids"]).status_code == 200
    assert not Subscription.objects.exists()
    assert Checkout.objects.get().state == "open"


def test_events_for_subscriptions_that_are_not_ours_are_stored_and_ignored(db, fake, client, at):
    fake.subscription("sub_elsewhere", period_end=FIRST_END)
    event = load_event(
        "customer.subscription.updated", subscription="sub_elsewhere", checkout="", customer="c"
    )
    assert post_event(client, event).status_code == 200
    assert ProviderEvent.objects.count() == 1
    assert not Subscription.objects.exists()
    unknown = load_event("invoice.paid", subscription="x", invoice="i", customer="c")
    unknown["type"] = "invoice.finalized"
    assert post_event(client, unknown).status_code == 200
    assert ProviderEvent.objects.count() == 2


# Webhooks: what must not be believed


@pytest.mark.parametrize(
    "how", ["wrong secret", "no signature", "tampered body", "old timestamp", "not json"]
)
def test_a_webhook_that_does_not_verify_is_refused_and_writes_nothing(
    paid_at_stripe, client, at, how
):
    event = load_event("checkout.session.completed", **paid_at_stripe["ids"])
    payload = json.dumps(event).encode()
    if how == "wrong secret":
        response = post_event(client, payload, secret="whsec_someone_else")
    elif how == "no signature":
        response = post_event(client, payload, signature=False)
    elif how == "tampered body":
        signature = sign(payload)
        response = post_event(client, payload.replace(b"0.99", b"0.01") + b" ", signature=signature)
    elif how == "old timestamp":
        response = post_event(client, payload, signature=sign(payload, timestamp=1_000_000_000))
    else:
        response = post_event(client, b"{not json")
    assert response.status_code == 400
    assert counts() == (0, 0, 0, 0)


def test_a_webhook_is_refused_when_no_secret_is_configured(paid_at_stripe, client, at, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    event = load_event("checkout.session.completed", **paid_at_stripe["ids"])
    assert post_event(client, event, secret="").status_code == 400
    assert counts() == (0, 0, 0, 0)


def test_only_post_reaches_the_webhook(client, db, stripe_settings):
    assert client.get("/subscribe/stripe/webhook/").status_code == 405


def test_a_failed_event_rolls_back_whole_and_succeeds_when_retried(
    paid_at_stripe, fake, client, at
):
    event = load_event("checkout.session.completed", **paid_at_stripe["ids"])
    fake.fail_with = stripe_api.StripeError("Stripe is down")
    assert post_event(client, event).status_code == 500
    assert counts() == (0, 0, 0, 0)
    fake.fail_with = None
    assert post_event(client, event).status_code == 200
    assert counts() == (1, 1, 1, 1)


# Webhooks: renewals, failures, cancellations


@pytest.fixture
def subscribed(paid_at_stripe, client, at):
    completed(client, paid_at_stripe["ids"])
    return {**paid_at_stripe, "subscription": Subscription.objects.get()}


def test_a_paid_renewal_extends_the_period_and_is_recorded_once(subscribed, fake, client, at):
    ids = subscribed["ids"]
    renewed_to = datetime(2026, 12, 15, 12, tzinfo=TOKYO)
    fake.subscription(period_end=renewed_to, checkout=ids["checkout"], latest_invoice="in_2")
    renewal = dict(ids, invoice="in_2")
    assert post_event(client, load_event("invoice.paid", **renewal)).status_code == 200
    # localstripe and older integrations also send invoice.payment_succeeded for it
    succeeded = load_event("invoice.paid", **renewal)
    succeeded["type"] = "invoice.payment_succeeded"
    assert post_event(client, succeeded).status_code == 200
    subscription = subscribed["subscription"]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.current_period_end) == ("active", renewed_to)
    assert [e.kind for e in subscription.events.all()] == ["started", "renewed"]
    assert list(subscription.payment_events.values_list("kind", "amount")) == [
        ("charge_succeeded", Decimal("0.99")),
        ("renewal_paid", Decimal("12.00")),
    ]


def test_a_failed_renewal_makes_it_past_due_with_grace(exclusive, subscribed, fake, client, at):
    ids = subscribed["ids"]
    # given Stripe failed to charge the renewal (and, as it does, moved its period on)
    fake.subscription(
        period_end=datetime(2026, 12, 15, 12, tzinfo=TOKYO),
        status="past_due",
        checkout=ids["checkout"],
    )
    at(FIRST_END)
    response = post_event(client, load_event("invoice.payment_failed", **dict(ids, invoice="in_2")))
    # then it is past due, and the grace counts from the end of the period paid for
    assert response.status_code == 200
    subscription = subscribed["subscription"]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.current_period_end) == ("past_due", FIRST_END)
    assert subscription.payment_events.last().kind == "renewal_failed"
    assert subscription.payment_events.last().amount == Decimal("12.00")
    assert [e.kind for e in subscription.events.all()] == ["started", "past_due"]
    at(FIRST_END + DAY)
    assert reads_in_full(client, exclusive)
    at(FIRST_END + settings.MASTHEAD_PAST_DUE_GRACE_DAYS * DAY)
    assert not reads_in_full(client, exclusive)


def test_a_late_failure_after_a_successful_retry_leaves_it_active(subscribed, fake, client, at):
    ids = subscribed["ids"]
    renewed_to = datetime(2026, 12, 15, 12, tzinfo=TOKYO)
    fake.subscription(period_end=renewed_to, checkout=ids["checkout"])
    post_event(client, load_event("invoice.paid", **dict(ids, invoice="in_2")))
    # the failure of the first attempt arrives after the retry was paid
    post_event(client, load_event("invoice.payment_failed", **dict(ids, invoice="in_2")))
    subscription = subscribed["subscription"]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.current_period_end) == ("active", renewed_to)
    assert [e.kind for e in subscription.events.all()] == ["started", "renewed"]


def test_cancelling_in_the_portal_keeps_access_to_period_end_and_resuming_undoes_it(
    subscribed, fake, client, at
):
    ids = subscribed["ids"]
    fake.subscriptions["sub_test_1"]["cancel_at_period_end"] = True
    post_event(client, load_event("customer.subscription.updated", **ids))
    post_event(client, load_event("customer.subscription.updated", **ids))  # no change twice
    subscription = subscribed["subscription"]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)
    fake.subscriptions["sub_test_1"]["cancel_at_period_end"] = False
    post_event(client, load_event("customer.subscription.updated", **ids))
    assert [e.kind for e in subscription.events.all()] == ["started", "canceled", "resumed"]


def test_cancelling_on_the_account_page_tells_stripe_and_the_webhook_adds_nothing(
    subscribed, fake, client, at
):
    subscription = subscribed["subscription"]
    # when the reader presses Cancel on the account page
    response = client.post(f"/account/subscriptions/{subscription.pk}/cancel/")
    # then ours is cancelled at period end, and so is Stripe's
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end is True
    assert fake.subscriptions["sub_test_1"]["cancel_at_period_end"] is True
    post_event(client, load_event("customer.subscription.updated", **subscribed["ids"]))
    assert [e.kind for e in subscription.events.all()] == ["started", "canceled"]
    # and Resume reaches Stripe too
    client.post(f"/account/subscriptions/{subscription.pk}/resume/")
    assert fake.subscriptions["sub_test_1"]["cancel_at_period_end"] is False


def test_when_stripe_cannot_be_told_the_cancellation_is_not_made_and_said(
    subscribed, fake, client, at, monkeypatch
):
    def unreachable(subscription_id, cancel, **options):
        raise stripe_api.StripeError("connection refused")

    monkeypatch.setattr(stripe_api, "set_cancel_at_period_end", unreachable)
    subscription = subscribed["subscription"]
    response = client.post(f"/account/subscriptions/{subscription.pk}/cancel/", follow=True)
    assert "Billing is unavailable just now" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end is False
    assert [e.kind for e in subscription.events.all()] == ["started"]


def test_a_deleted_stripe_subscription_expires_ours(exclusive, subscribed, fake, client, at):
    fake.subscriptions["sub_test_1"]["status"] = "canceled"
    event = load_event("customer.subscription.deleted", **subscribed["ids"])
    assert post_event(client, event).status_code == 200
    subscription = subscribed["subscription"]
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    assert not reads_in_full(client, exclusive)


# Webhooks: refunds and disputes


def refund(charge="ch_1", *, invoice="in_test_first", refunded=99, amount=99) -> dict:
    event = load_event("charge.refunded", charge=charge, customer="cus_test_1", invoice=invoice)
    event["data"]["object"].update(amount=amount, amount_refunded=refunded)
    return event


def test_a_full_refund_of_the_latest_payment_revokes_access_at_once_and_stops_billing(
    exclusive, subscribed, fake, client, at
):
    assert reads_in_full(client, exclusive)
    assert post_event(client, refund()).status_code == 200
    subscription = subscribed["subscription"]
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    assert fake.canceled == ["sub_test_1"]
    refunded = subscription.payment_events.last()
    assert (refunded.kind, refunded.amount, refunded.currency) == (
        "refunded",
        Decimal("0.99"),
        "USD",
    )
    assert not reads_in_full(client, exclusive)
    body = client.get(exclusive.url).content.decode()
    assert f"Your full access to {settings.MASTHEAD_SITE_NAME} has expired" in body
    # and a stale "active" update arriving later does not bring access back
    fake.subscriptions["sub_test_1"]["status"] = "active"
    post_event(client, load_event("customer.subscription.updated", **subscribed["ids"]))
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    assert [e.kind for e in subscription.events.all()] == ["started", "expired"]


def test_a_partial_refund_is_recorded_and_keeps_access(exclusive, subscribed, fake, client, at):
    # given a goodwill refund of 40 cents of the 99 the reader paid
    assert post_event(client, refund(refunded=40)).status_code == 200
    # then it is in the payment ledger, and nothing else changed: access, billing, history
    subscription = subscribed["subscription"]
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert fake.canceled == []
    assert list(subscription.payment_events.values_list("kind", "amount")) == [
        ("charge_succeeded", Decimal("0.99")),
        ("refunded", Decimal("0.40")),
    ]
    assert [e.kind for e in subscription.events.all()] == ["started"]
    assert reads_in_full(client, exclusive)


def test_a_second_partial_refund_records_only_the_new_amount_and_completing_it_revokes(
    subscribed, fake, client, at
):
    post_event(client, refund(refunded=40))
    assert Subscription.objects.get().status == "active"
    post_event(client, refund(refunded=99))
    refunds = PaymentEvent.objects.filter(kind="refunded").values_list("amount", flat=True)
    assert list(refunds) == [Decimal("0.40"), Decimal("0.59")]
    assert SubscriptionEvent.objects.filter(kind="expired").count() == 1
    assert Subscription.objects.get().status == "expired"


def test_a_full_refund_of_an_earlier_payment_is_recorded_and_keeps_access(
    exclusive, subscribed, fake, client, at
):
    # given the reader renewed (invoice in_2), and then the first payment is refunded in full
    ids = subscribed["ids"]
    fake.subscription(
        period_end=datetime(2026, 12, 15, 12, tzinfo=TOKYO),
        checkout=ids["checkout"],
        latest_invoice="in_2",
    )
    renewal = load_event("invoice.paid", **dict(ids, invoice="in_2"))
    assert post_event(client, renewal).status_code == 200
    assert post_event(client, refund(invoice="in_test_first")).status_code == 200
    # then the refund is recorded and the renewed period stands
    subscription = subscribed["subscription"]
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert fake.canceled == []
    assert subscription.payment_events.last().kind == "refunded"
    assert reads_in_full(client, exclusive)
    # and a full refund of the latest payment (the renewal) does revoke
    latest = refund("ch_2", invoice="in_2", amount=1200, refunded=1200)
    assert post_event(client, latest).status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    assert fake.canceled == ["sub_test_1"]


def dispute_event(kind="created", dispute="dp_test_1", charge="ch_1") -> dict:
    return load_event(f"charge.dispute.{kind}", dispute=dispute, charge=charge)


@pytest.fixture
def disputed(subscribed, fake):
    fake.charge("ch_1", invoice="in_test_first")
    fake.dispute("dp_test_1", charge="ch_1", status="needs_response")
    return subscribed


def test_a_dispute_revokes_access_at_once_and_pauses_billing(exclusive, disputed, fake, client, at):
    assert post_event(client, dispute_event()).status_code == 200
    subscription = disputed["subscription"]
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    dispute = subscription.payment_events.last()
    assert (dispute.kind, dispute.amount) == ("disputed", Decimal("0.99"))
    assert fake.paused == {"sub_test_1": True}
    assert fake.canceled == []  # kept at Stripe until the dispute is decided
    assert not reads_in_full(client, exclusive)


def test_a_dispute_the_newsroom_wins_restores_access_and_billing(
    exclusive, disputed, fake, client, at
):
    # given a dispute that suspended the subscription
    post_event(client, dispute_event())
    # when the newsroom wins it
    fake.disputes["dp_test_1"]["status"] = "won"
    assert post_event(client, dispute_event("closed")).status_code == 200
    # then access is back to the end of the period paid for, and Stripe charges again
    subscription = disputed["subscription"]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.current_period_end) == ("active", FIRST_END)
    assert fake.paused == {"sub_test_1": False}
    assert [e.kind for e in subscription.events.all()] == ["started", "expired", "restored"]
    assert list(subscription.payment_events.values_list("kind", flat=True)) == [
        "charge_succeeded",
        "disputed",
        "dispute_won",
    ]
    assert reads_in_full(client, exclusive)
    # and the same outcome delivered again changes nothing
    assert post_event(client, dispute_event("closed")).status_code == 200
    assert subscription.events.count() == 3
    assert subscription.payment_events.count() == 3


def test_a_dispute_the_newsroom_loses_ends_billing_and_access_stays_ended(
    exclusive, disputed, fake, client, at
):
    post_event(client, dispute_event())
    fake.disputes["dp_test_1"]["status"] = "lost"
    assert post_event(client, dispute_event("closed")).status_code == 200
    subscription = disputed["subscription"]
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    assert fake.canceled == ["sub_test_1"]
    assert subscription.payment_events.last().kind == "dispute_lost"
    assert not reads_in_full(client, exclusive)


def test_dispute_events_out_of_order_converge_on_the_outcome(exclusive, disputed, fake, client, at):
    # given the dispute was already won when its "created" event arrives, after "closed"
    fake.disputes["dp_test_1"]["status"] = "won"
    assert post_event(client, dispute_event("closed")).status_code == 200
    assert post_event(client, dispute_event("created")).status_code == 200
    # then access was never taken away, and both steps are in the ledger once
    subscription = disputed["subscription"]
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert [e.kind for e in subscription.events.all()] == ["started"]
    assert list(subscription.payment_events.values_list("kind", flat=True)) == [
        "charge_succeeded",
        "disputed",
        "dispute_won",
    ]
    assert reads_in_full(client, exclusive)


# The customer portal (localstripe has none: the Stripe call is faked)


def test_manage_billing_opens_the_stripe_portal_for_the_readers_customer(
    subscribed, fake, client, at
):
    subscription = subscribed["subscription"]
    response = client.post(f"/account/subscriptions/{subscription.pk}/billing/")
    assert response.status_code == 302
    assert response.url == "https://billing.stripe.com/p/session/cus_test_1"
    assert fake.portals == [{"customer": "cus_test_1", "return_url": "http://testserver/account/"}]
    assert client.get(f"/account/subscriptions/{subscription.pk}/billing/").status_code == 405
    client.force_login(make_reader())
    assert client.post(f"/account/subscriptions/{subscription.pk}/billing/").status_code == 404
    assert len(fake.portals) == 1


# The wrappers themselves, over a stand-in for the SDK's classes


class _Answer:
    def __init__(self, **data):
        self.data = data

    def to_dict(self, recursive=True):
        return self.data


def test_the_wrappers_pass_keys_address_and_idempotency_to_the_sdk(stripe_settings, monkeypatch):
    stripe_settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    calls = []

    def session_create(**params):
        calls.append(params)
        return _Answer(id="cs_1", url="https://checkout.stripe.com/c/pay/cs_1")

    def portal_create(**params):
        calls.append(params)
        return _Answer(url="https://billing.stripe.com/p/session/x")

    sdk = stripe_api.stripe
    monkeypatch.setattr(sdk.checkout.Session, "create", session_create)
    monkeypatch.setattr(sdk.billing_portal.Session, "create", portal_create)
    session = stripe_api.create_checkout_session(idempotency_key="k1", mode="subscription")
    portal = stripe_api.create_portal_session(customer="cus_1", return_url="http://x/account/")
    assert session == {"id": "cs_1", "url": "https://checkout.stripe.com/c/pay/cs_1"}
    assert portal == {"url": "https://billing.stripe.com/p/session/x"}
    assert calls == [
        {"mode": "subscription", "api_key": SECRET_KEY, "idempotency_key": "k1"},
        {"customer": "cus_1", "return_url": "http://x/account/", "api_key": SECRET_KEY},
    ]
    assert sdk.api_base == "http://127.0.0.1:9"


def test_every_stripe_call_is_bounded_by_a_timeout_and_a_timeout_is_our_error(
    stripe_settings, monkeypatch
):
    # given a Stripe that does not answer in time (the SDK reports a connection error)
    stripe_settings.STRIPE_TIMEOUT_SECONDS = 3

    def too_slow(**params):
        raise stripe_api.stripe.APIConnectionError("Request timed out")

    monkeypatch.setattr(stripe_api.stripe.checkout.Session, "create", too_slow)
    monkeypatch.setattr(stripe_api.stripe, "default_http_client", None)
    monkeypatch.setattr(stripe_api, "_client_timeout", None)
    with pytest.raises(stripe_api.StripeError, match="timed out"):
        stripe_api.create_checkout_session(idempotency_key="k1", mode="subscription")
    # and the SDK's client waits 3 seconds, not its default 80
    assert stripe_api.stripe.default_http_client._timeout == 3


def test_sdk_errors_come_out_as_our_own(stripe_settings, monkeypatch):
    def refuse(**params):
        raise stripe_api.stripe.InvalidRequestError("No such customer", "customer")

    monkeypatch.setattr(stripe_api.stripe.billing_portal.Session, "create", refuse)
    with pytest.raises(stripe_api.StripeError, match="No such customer"):
        stripe_api.create_portal_session(customer="cus_gone", return_url="http://x/")


# Configuration


def test_stripe_without_its_keys_fails_the_system_checks(settings):
    settings.MASTHEAD_PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    ids = {error.id for error in run_checks()}
    assert {"masthead.E020", "masthead.E021"} <= ids
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    ids = {error.id for error in run_checks()}
    assert not {"masthead.E020", "masthead.E021"} & ids


def test_the_test_provider_needs_no_stripe_keys(settings):
    settings.MASTHEAD_PAYMENT_PROVIDER = "test"
    settings.STRIPE_SECRET_KEY = ""
    assert not {"masthead.E020", "masthead.E021"} & {e.id for e in run_checks()}


# No network call while a transaction is open (a slow Stripe must not hold row locks)


@pytest.mark.django_db(transaction=True)
def test_no_stripe_call_is_made_while_a_transaction_is_open(fake, catalogue, client, reader, at):
    # given no test transaction around the requests (transaction=True): any transaction
    # open during a call to Stripe is one the code under test opened
    assert not connection.in_atomic_block
    # when a reader subscribes, pays, renews, cancels, resumes, opens the portal, fails a
    # renewal, gets a partial refund, disputes a payment and loses access, has it restored,
    # and finally gets the latest payment refunded in full
    subscribe(client, catalogue["dollar"])
    checkout = Checkout.objects.get()
    fake.subscription(period_end=FIRST_END, status="trialing", checkout=str(checkout.public_id))
    ids = {
        "checkout": str(checkout.public_id),
        "subscription": "sub_test_1",
        "customer": "cus_test_1",
        "invoice": "in_test_first",
    }
    statuses = [completed(client, ids).status_code]
    subscription = Subscription.objects.get()
    fake.subscription(
        period_end=datetime(2026, 12, 15, 12, tzinfo=TOKYO),
        checkout=ids["checkout"],
        latest_invoice="in_2",
    )
    renewal = dict(ids, invoice="in_2")
    statuses.append(post_event(client, load_event("invoice.paid", **renewal)).status_code)
    for change in ("cancel", "resume", "billing"):
        url = f"/account/subscriptions/{subscription.pk}/{change}/"
        statuses.append(client.post(url).status_code)
    fake.subscriptions["sub_test_1"]["status"] = "past_due"
    statuses.append(post_event(client, load_event("invoice.payment_failed", **renewal)).status_code)
    partial = refund("ch_2", invoice="in_2", amount=1200, refunded=100)
    statuses.append(post_event(client, partial).status_code)
    fake.charge("ch_2", invoice="in_2", amount=1200)
    fake.dispute("dp_test_1", charge="ch_2")
    statuses.append(post_event(client, dispute_event(charge="ch_2")).status_code)
    fake.disputes["dp_test_1"]["status"] = "won"
    statuses.append(post_event(client, dispute_event("closed", charge="ch_2")).status_code)
    last = refund("ch_2", invoice="in_2", amount=1200, refunded=1200)
    statuses.append(post_event(client, last).status_code)
    # then every step worked, through every kind of Stripe call, none in a transaction
    assert statuses == [200, 200, 302, 302, 302, 200, 200, 200, 200, 200]
    assert set(fake.calls) == set(FakeStripe.API) - {"retrieve_checkout_session"}
    assert fake.in_transaction == []
    assert [e.kind for e in subscription.events.all()] == [
        "started",
        "renewed",
        "canceled",
        "resumed",
        "past_due",
        "expired",
        "restored",
        "expired",
    ]
    # and the account page's changes reached Stripe under idempotency keys
    assert all(fake.modify_keys) and len(set(fake.modify_keys)) == 2


# Races (real threads and connections: PostgreSQL row locks, SQLite's write lock)


def _race(*posts):
    barrier = threading.Barrier(len(posts))
    results, errors = [], []

    def run(post):
        try:
            barrier.wait()
            results.append(post())
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(post,)) for post in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    return results


@pytest.fixture
def racing(transactional_db, fake, catalogue, at, monkeypatch):
    from django.test import Client

    reader = make_reader()
    checkout = Provider().create_checkout(
        reader=reader, offer=catalogue["dollar"], idempotency_key="race", now=NOW
    )
    fake.subscription(period_end=FIRST_END, checkout=str(checkout.public_id))
    slow = stripe_api.retrieve_subscription  # the fake's, still watched for transactions

    def slower(subscription_id):  # widen the window between the event row and the work
        time.sleep(0.2)
        return slow(subscription_id)

    monkeypatch.setattr(stripe_api, "retrieve_subscription", slower)
    ids = {
        "checkout": str(checkout.public_id),
        "subscription": "sub_test_1",
        "customer": "cus_test_1",
        "invoice": "in_test_first",
    }
    return {"ids": ids, "client": Client}


@pytest.mark.sqlite  # the races run on both engines
def test_two_concurrent_deliveries_of_one_event_apply_it_once(racing):
    event = load_event("checkout.session.completed", **racing["ids"])
    statuses = _race(*[lambda: post_event(racing["client"](), event).status_code] * 2)
    assert statuses == [200, 200]
    assert counts() == (1, 1, 1, 1)


@pytest.mark.sqlite  # the races run on both engines
def test_two_concurrent_deliveries_of_a_payment_failure_record_it_once(racing, fake):
    client = racing["client"]()
    post_event(client, load_event("checkout.session.completed", **racing["ids"]))
    fake.subscriptions["sub_test_1"]["status"] = "past_due"
    event = load_event("invoice.payment_failed", **dict(racing["ids"], invoice="in_2"))
    statuses = _race(*[lambda: post_event(racing["client"](), event).status_code] * 2)
    assert statuses == [200, 200]
    assert PaymentEvent.objects.filter(kind="renewal_failed").count() == 1
    assert SubscriptionEvent.objects.filter(kind="past_due").count() == 1
    assert Subscription.objects.get().status == "past_due"


@pytest.mark.sqlite  # the races run on both engines
def test_two_different_events_for_one_payment_racing_start_one_subscription(racing):
    ids = racing["ids"]
    first = load_event("checkout.session.completed", **ids)
    other = load_event("customer.subscription.updated", **ids)
    statuses = _race(
        lambda: post_event(racing["client"](), first).status_code,
        lambda: post_event(racing["client"](), other).status_code,
    )
    # one of them may lose the race on the unique subscription id: it answers 500 and
    # Stripe sends it again, when it finds the subscription and changes nothing
    assert 200 in statuses and set(statuses) <= {200, 500}
    for event, status in zip((first, other), statuses, strict=True):
        if status != 200:
            assert post_event(racing["client"](), event).status_code == 200
    assert Subscription.objects.count() == 1
    assert PaymentEvent.objects.count() == 1
    assert SubscriptionEvent.objects.count() == 1
    assert ProviderEvent.objects.count() == 2


# End to end with localstripe: a real (local) Stripe charges the card and signs and
# delivers the webhooks to a live server


@pytest.fixture(scope="module")
def localstripe():
    server = LocalStripe()
    yield server
    server.stop()


def _wait_for(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_payment_in_localstripe_reaches_us_by_webhook_and_grants_access(
    localstripe, live_server, transactional_db, stripe_settings, catalogue, at, monkeypatch
):
    stripe_settings.STRIPE_API_BASE = localstripe.url
    localstripe.request(
        "POST",
        "/_config/webhooks/masthead",
        {"url": live_server.url + "/subscribe/stripe/webhook/", "secret": WEBHOOK_SECRET},
    )
    reader = make_reader()
    # given our checkout for "1 month for $0.99" (Stripe Checkout's hosted page is the part
    # localstripe lacks, so the session call is faked and the test pays in its place)
    fake = FakeStripe()
    monkeypatch.setattr(stripe_api, "ensure_price", fake.ensure_price)
    monkeypatch.setattr(stripe_api, "create_checkout_session", fake.create_checkout_session)
    checkout = Provider().create_checkout(
        reader=reader, offer=catalogue["dollar"], idempotency_key="e2e", now=NOW
    )
    # when the reader pays at (local) Stripe with the Visa test card: a customer, the
    # plan's price, and a first invoice of exactly the checkout's amount
    plan = catalogue["plan"]
    product = localstripe.request("GET", f"/v1/products/masthead-plan-{plan.pk}")
    assert product["name"] == "Digital"  # made by our checkout, from the catalogue
    price = localstripe.request(
        "POST",
        "/v1/plans",
        {
            "product": f"masthead-plan-{plan.pk}",
            "amount": 1200,
            "currency": "usd",
            "interval": "month",
        },
    )
    customer = localstripe.request(
        "POST",
        "/v1/customers",
        {
            "email": reader.email,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        },
    )
    localstripe.request(
        "POST",
        "/v1/invoiceitems",
        {"customer": customer["id"], "amount": 99 - 1200, "currency": "usd"},
    )
    remote = localstripe.request(
        "POST",
        "/v1/subscriptions",
        {
            "customer": customer["id"],
            "items": [{"plan": price["id"]}],
            "metadata": {"checkout": str(checkout.public_id)},
        },
    )
    invoice = localstripe.request("GET", f"/v1/invoices/{remote['latest_invoice']}")
    assert (remote["status"], invoice["amount_paid"]) == ("active", 99)
    # then localstripe's signed webhooks start our subscription, once
    assert _wait_for(lambda: Subscription.objects.filter(user=reader).exists())
    delivered = ProviderEvent.objects.filter(
        type__in=["customer.subscription.created", "invoice.payment_succeeded"]
    )
    assert _wait_for(lambda: delivered.count() == 2)
    subscription = Subscription.objects.get(user=reader)
    assert subscription.status == "active"
    assert subscription.provider_subscription_id == remote["id"]
    assert subscription.provider_customer_id == customer["id"]
    assert unix(subscription.current_period_end) == remote["current_period_end"]
    assert list(PaymentEvent.objects.values_list("kind", "amount")) == [
        ("charge_succeeded", Decimal("0.99"))
    ]
    assert PaymentEvent.objects.get().data["invoice"] == invoice["id"]
    assert [e.kind for e in subscription.events.all()] == ["started"]
    # and cancelling on the account page reaches (local) Stripe
    Provider().push_change(subscription=subscription, cancel_at_period_end=True)
    subscription = actions.cancel(subscription=subscription, now=NOW)
    assert localstripe.request("GET", f"/v1/subscriptions/{remote['id']}")["cancel_at_period_end"]
    # and when the subscription is cancelled at (local) Stripe, ours expires
    localstripe.request("DELETE", f"/v1/subscriptions/{remote['id']}")
    assert _wait_for(lambda: Subscription.objects.get(pk=subscription.pk).status == "expired")


def test_a_full_refund_for_a_subscription_that_already_ended_is_recorded_without_stripe(
    subscribed, fake, client, at
):
    # given a subscription that has already ended (cancelled and over)
    subscription = subscribed["subscription"]
    Subscription.objects.filter(pk=subscription.pk).update(status="expired")
    # when Stripe reports a full refund of its payment
    assert post_event(client, refund(refunded=99)).status_code == 200
    # then the refund is recorded, and Stripe is not asked to cancel billing that has ended
    assert fake.canceled == []
    refunds = PaymentEvent.objects.filter(kind="refunded").values_list("amount", flat=True)
    assert list(refunds) == [Decimal("0.99")]


# A plan at full price


def test_a_plan_at_full_price_is_the_recurring_price_alone_and_returns_to_the_story(
    fake, catalogue, client, reader, at, exclusive
):
    plan = catalogue["plan"]
    # when a reader presses the plan's buy button under a story (GET, twice)
    first = client.get(f"/subscribe/plan/{plan.slug}/?next={exclusive.url}")
    second = client.get(f"/subscribe/plan/{plan.slug}/?next={exclusive.url}")
    # then both go straight to the one Stripe session, priced at the plan's own price
    assert first.url == second.url == "https://checkout.stripe.com/c/pay/cs_test_1"
    checkout = Checkout.objects.get()
    assert (checkout.offer, checkout.amount, checkout.next_path) == (
        None,
        Decimal("12.00"),
        exclusive.url,
    )
    call = fake.session_calls[0]
    prices = [fake.prices[item["price"].removeprefix("price_")] for item in call["line_items"]]
    assert [(p["unit_amount"], p["interval"]) for p in prices] == [(1200, "month")]
    assert "trial_end" not in call["subscription_data"]
    # backing out of Stripe's page leads to the offers, keeping the story
    assert (
        call["cancel_url"]
        == f"http://testserver/subscribe/?next={exclusive.url.replace('/', '%2F')}"
    )
    # when Stripe reports the paid checkout
    fake.subscription(period_end=FIRST_END, status="active", checkout=str(checkout.public_id))
    ids = {
        "checkout": str(checkout.public_id),
        "subscription": "sub_test_1",
        "customer": "cus_test_1",
        "invoice": "in_test_first",
    }
    assert completed(client, ids).status_code == 200
    # then a full-price subscription runs, and the return page leads back to the story first
    subscription = Subscription.objects.get(user=reader)
    assert (subscription.status, subscription.offer) == ("active", None)
    assert PaymentEvent.objects.get().amount == Decimal("12.00")
    back = client.get(f"/subscribe/stripe/return/{checkout.public_id}/")
    first_button = BeautifulSoup(back.content, "html.parser").select("main a.button")[0]
    assert first_button["href"] == exclusive.url
    assert reads_in_full(client, exclusive)
