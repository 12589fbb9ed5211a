"""The catalogue's validation and the ledger's append-only rule."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from masthead.subscriptions import actions
from masthead.subscriptions.models import AppendOnlyError, Offer, SubscriptionEvent
from masthead.subscriptions.offers import Money
from tests.integration.subscription_factories import make_plan, make_reader, make_trial

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 15, 3, tzinfo=UTC)


def offer(plan, **fields):
    defaults = {"name": "x", "starts_at": NOW, "ends_at": NOW + timedelta(days=10)}
    defaults.update(fields)
    return Offer(plan=plan, **defaults)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"intro_price": Decimal("0.99"), "intro_periods": 1, "trial_days": 14}, "__all__"),
        ({}, "__all__"),
        ({"intro_price": Decimal("0.99")}, "intro_periods"),
        ({"intro_periods": 3}, "intro_price"),
        ({"trial_days": 14, "ends_at": NOW}, "ends_at"),
        ({"trial_days": 14, "ends_at": NOW - timedelta(days=1)}, "ends_at"),
        ({"intro_price": Decimal("-1"), "intro_periods": 1}, "intro_price"),
        ({"trial_days": 0}, "trial_days"),
    ],
)
def test_offer_clean_refuses_inconsistent_offers(fields, field):
    # given a plan and an offer that is not exactly one kind, or ends before it starts
    bad = offer(make_plan(), **fields)
    # when it is validated, then the right field is blamed
    with pytest.raises(ValidationError) as raised:
        bad.full_clean()
    assert field in raised.value.message_dict


@pytest.mark.parametrize(
    "fields",
    [{"intro_price": Decimal("0.99"), "intro_periods": 1}, {"trial_days": 14}],
)
def test_offer_clean_accepts_either_kind(fields):
    offer(make_plan(), **fields).full_clean()


def test_plan_currency_must_be_an_iso_code():
    plan = make_plan()
    plan.currency = "usd"
    with pytest.raises(ValidationError):
        plan.full_clean()


def test_terms_carry_decimal_money_from_the_catalogue():
    plan = make_plan(price=Decimal("1200"), currency="JPY")
    saved = offer(plan, intro_price=Decimal("100"), intro_periods=2)
    saved.save()
    assert plan.terms().price == Money(Decimal("1200"), "JPY")
    assert str(saved.terms().intro_price) == "¥100"


def test_the_ledger_refuses_updates_and_deletes():
    # given a subscription with one ledger row
    subscription = actions.start_trial(
        user=make_reader(), offer=make_trial(make_plan(), NOW), now=NOW
    )
    event = subscription.events.get()
    # when anyone tries to change or remove history, then it is refused
    event.data = {"forged": True}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        SubscriptionEvent.objects.filter(pk=event.pk).update(kind="renewed")
    with pytest.raises(AppendOnlyError):
        SubscriptionEvent.objects.all().delete()
    assert SubscriptionEvent.objects.get(pk=event.pk).data == {"offer": subscription.offer_id}
