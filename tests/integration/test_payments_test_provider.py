"""The offline test payment provider, end to end on the web: Subscribe opens one checkout,
the test cards pay or decline, only a verified payment grants access, and the
``payments_test`` command renews, fails and refunds."""

from datetime import datetime
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.core.management import CommandError, call_command

from masthead.subscriptions import actions
from masthead.subscriptions.models import Checkout, PaymentEvent, Subscription, SubscriptionEvent
from tests.integration.subscription_factories import (
    DAY,
    NOW,
    TOKYO,
    make_intro,
    make_plan,
    make_reader,
    make_trial,
    reads_in_full,
)

pytestmark = pytest.mark.django_db

PAYS = "4242 4242 4242 4242"
DECLINES = "4000 0000 0000 0002"


@pytest.fixture
def catalogue(db):
    plan = make_plan(name="Digital", price="12.00")
    return {
        "plan": plan,
        "dollar": make_intro(plan, NOW, "0.99", 1, name="Dollar"),
        "nine": make_intro(plan, NOW, "9", 3, name="Nine"),
        "trial": make_trial(plan, NOW, 14, name="Trial"),
    }


def open_checkout(client, offer, extra=None) -> str:
    response = client.post(f"/subscribe/{offer.pk}/", extra or {})
    assert response.status_code == 302
    assert response.url.startswith("/subscribe/checkout/")
    return response.url


def pay(client, url, number, extra=None):
    return client.post(url, {"number": number, **(extra or {})})


def text(response) -> str:
    return " ".join(BeautifulSoup(response.content, "html.parser").get_text().split())


def test_paying_with_the_success_card_grants_access_to_subscribers_only_articles(
    exclusive, catalogue, client, reader, at
):
    # given a reader who cannot read a subscribers-only article
    assert not reads_in_full(client, exclusive)
    # when they take "1 month for $0.99" and pay with the success card
    url = open_checkout(client, catalogue["dollar"])
    assert "Pay $0.99 today" in text(client.get(url))
    response = pay(client, url, PAYS)
    # then the payment is recorded, the subscription started, and they read everything
    assert response.status_code == 302
    assert "has been received" in text(client.get(response.url))
    subscription = Subscription.objects.get(user=reader)
    assert subscription.status == "active"
    assert subscription.offer == catalogue["dollar"]
    assert subscription.current_period_end == datetime(2026, 11, 15, 12, tzinfo=TOKYO)
    payment = PaymentEvent.objects.get(user=reader)
    assert (payment.kind, payment.amount, payment.currency) == (
        "charge_succeeded",
        Decimal("0.99"),
        "USD",
    )
    assert payment.subscription == subscription
    assert [e.kind for e in subscription.events.all()] == ["started"]
    assert reads_in_full(client, exclusive)


def test_an_intro_for_three_months_pays_for_three_months(catalogue, client, reader, at):
    pay(client, open_checkout(client, catalogue["nine"]), PAYS)
    subscription = Subscription.objects.get(user=reader)
    assert subscription.current_period_end == datetime(2027, 1, 15, 12, tzinfo=TOKYO)
    assert PaymentEvent.objects.get().amount == Decimal("9.00")


def test_a_declined_card_grants_nothing_and_says_so(exclusive, catalogue, client, reader, at):
    url = open_checkout(client, catalogue["dollar"])
    response = pay(client, url, DECLINES)
    assert response.status_code == 402
    assert "Your card was declined" in text(response)
    assert not Subscription.objects.filter(user=reader).exists()
    assert list(PaymentEvent.objects.values_list("kind", flat=True)) == ["charge_declined"]
    assert not reads_in_full(client, exclusive)
    # and the reader can try again with another card on the same checkout
    assert pay(client, url, PAYS).status_code == 302
    assert reads_in_full(client, exclusive)


@pytest.mark.parametrize("number", ["1234 5678 9012 3456", "4242", "not a card", ""])
def test_any_other_number_is_a_form_error(catalogue, client, reader, at, number):
    url = open_checkout(client, catalogue["dollar"])
    response = pay(client, url, number)
    assert response.status_code == 200
    assert "Please correct the errors below." in text(response)
    assert not PaymentEvent.objects.exists()
    assert not Subscription.objects.exists()


def test_tampered_price_and_offer_fields_change_nothing(catalogue, client, reader, at):
    # given forms posted with a price, an offer and a plan the reader made up
    tampered = {
        "amount": "0.01",
        "price": "0.01",
        "offer": catalogue["nine"].pk,
        "offer_id": catalogue["nine"].pk,
        "plan": "999",
        "currency": "JPY",
    }
    url = open_checkout(client, catalogue["dollar"], tampered)
    pay(client, url, PAYS, tampered)
    # then the catalogue's price for the offer in the URL was charged
    payment = PaymentEvent.objects.get()
    assert (payment.amount, payment.currency) == (Decimal("0.99"), "USD")
    assert Subscription.objects.get().offer == catalogue["dollar"]
    assert Checkout.objects.get().amount == Decimal("0.99")


def test_double_clicking_subscribe_opens_one_checkout(catalogue, client, reader, at):
    first = open_checkout(client, catalogue["dollar"])
    second = open_checkout(client, catalogue["dollar"])
    assert first == second
    assert Checkout.objects.count() == 1
    # and paying twice charges once
    pay(client, first, PAYS)
    pay(client, first, PAYS)
    assert PaymentEvent.objects.count() == 1
    assert Subscription.objects.count() == 1


def test_the_success_page_alone_grants_nothing(exclusive, catalogue, client, reader, at):
    url = open_checkout(client, catalogue["dollar"])
    response = client.get(f"{url}done/")
    assert response.status_code == 200
    assert "We have not received your payment" in text(response)
    assert not Subscription.objects.exists()
    assert not reads_in_full(client, exclusive)


def test_checkout_sends_a_reader_without_an_account_to_create_one(catalogue, client, at, site):
    response = client.post(f"/subscribe/{catalogue['dollar'].pk}/")
    assert response.status_code == 302
    assert response.url == f"/account/sign-up/?next=%2Fsubscribe%2F{catalogue['dollar'].pk}%2F"
    assert not Checkout.objects.exists()


def test_another_readers_checkout_is_not_found(catalogue, client, reader, at):
    url = open_checkout(client, catalogue["dollar"])
    client.force_login(make_reader())
    assert client.get(url).status_code == 404
    assert pay(client, url, PAYS).status_code == 404
    assert client.get(f"{url}done/").status_code == 404
    assert not Subscription.objects.exists()


def test_a_trial_offer_starts_a_trial_without_charging(exclusive, catalogue, client, reader, at):
    response = client.post(f"/subscribe/{catalogue['trial'].pk}/")
    assert response.status_code == 302
    subscription = Subscription.objects.get(user=reader)
    assert subscription.status == "trialing"
    assert subscription.trial_end == NOW + 14 * DAY
    assert not Checkout.objects.exists()
    assert not PaymentEvent.objects.exists()
    assert reads_in_full(client, exclusive)


def test_a_subscriber_cannot_check_out_again(catalogue, client, reader, at):
    pay(client, open_checkout(client, catalogue["dollar"]), PAYS)
    response = client.post(f"/subscribe/{catalogue['nine'].pk}/")
    assert response.status_code == 200
    assert "You already have a subscription" in text(response)
    links = [a["href"] for a in BeautifulSoup(response.content, "html.parser").select("main a")]
    assert "/account/" in links and "/subscribe/" in links  # ways on, not a dead end
    assert Checkout.objects.count() == 1


def paid_subscription(client, catalogue) -> Subscription:
    pay(client, open_checkout(client, catalogue["dollar"]), PAYS)
    return Subscription.objects.get()


def kinds(subscription):
    return list(subscription.payment_events.values_list("kind", flat=True))


def test_the_renew_command_charges_the_regular_price_for_the_next_period(
    catalogue, client, reader, at
):
    subscription = paid_subscription(client, catalogue)
    at(subscription.current_period_end)
    call_command("payments_test", "renew", "--subscription", str(subscription.pk))
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert subscription.current_period_end == datetime(2026, 12, 15, 12, tzinfo=TOKYO)
    assert kinds(subscription) == ["charge_succeeded", "renewal_paid"]
    assert subscription.payment_events.last().amount == Decimal("12.00")
    assert subscription.events.last().kind == "renewed"


def test_renewing_a_trial_activates_it(catalogue, client, reader, at):
    client.post(f"/subscribe/{catalogue['trial'].pk}/")
    subscription = Subscription.objects.get()
    call_command("payments_test", "renew", "--subscription", str(subscription.pk))
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert subscription.activated_at == NOW
    assert subscription.current_period_end == datetime(2026, 11, 29, 12, tzinfo=TOKYO)
    assert subscription.events.last().kind == "activated"


def test_the_fail_command_makes_the_subscription_past_due_with_grace(
    exclusive, catalogue, client, reader, at
):
    subscription = paid_subscription(client, catalogue)
    end = subscription.current_period_end
    at(end)
    call_command("payments_test", "fail", "--subscription", str(subscription.pk))
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    assert kinds(subscription) == ["charge_succeeded", "renewal_failed"]
    assert reads_in_full(client, exclusive)
    at(end + settings.MASTHEAD_PAST_DUE_GRACE_DAYS * DAY)
    assert not reads_in_full(client, exclusive)


def test_the_refund_command_revokes_access_at_once(exclusive, catalogue, client, reader, at):
    subscription = paid_subscription(client, catalogue)
    assert reads_in_full(client, exclusive)
    call_command("payments_test", "refund", "--subscription", str(subscription.pk))
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    refund = subscription.payment_events.last()
    assert (refund.kind, refund.amount) == ("refunded", Decimal("0.99"))
    assert not reads_in_full(client, exclusive)
    body = client.get(exclusive.url).content.decode()
    assert f"Your full access to {settings.MASTHEAD_SITE_NAME} has expired" in body


def test_commands_refuse_what_the_actions_refuse(catalogue, client, reader, at):
    subscription = actions.start_trial(user=reader, offer=catalogue["trial"], now=NOW)
    with pytest.raises(CommandError, match="no payment to refund"):
        call_command("payments_test", "refund", "--subscription", str(subscription.pk))
    with pytest.raises(CommandError, match="cannot mark past due"):
        call_command("payments_test", "fail", "--subscription", str(subscription.pk))
    with pytest.raises(CommandError, match="No subscription"):
        call_command("payments_test", "renew", "--subscription", "999999")
    assert not PaymentEvent.objects.exists()
    assert [e.kind for e in SubscriptionEvent.objects.all()] == ["trial_started"]


def test_the_payment_ledger_is_append_only(catalogue, client, reader, at):
    from masthead.subscriptions.models import AppendOnlyError

    paid_subscription(client, catalogue)
    payment = PaymentEvent.objects.get()
    with pytest.raises(AppendOnlyError):
        payment.save()
    with pytest.raises(AppendOnlyError):
        payment.delete()
    with pytest.raises(AppendOnlyError):
        PaymentEvent.objects.update(amount=0)
    with pytest.raises(AppendOnlyError):
        PaymentEvent.objects.all().delete()
