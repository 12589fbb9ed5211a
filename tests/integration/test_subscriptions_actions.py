"""Actions change subscriptions and write the ledger; entitlement_for reads them back as
the access rules see them, at any moment."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from masthead.access.policy import Status, is_entitled
from masthead.subscriptions import actions
from masthead.subscriptions.fetch import entitlement_for, reader_history
from masthead.subscriptions.models import Subscription
from tests.integration.subscription_factories import (
    make_intro,
    make_plan,
    make_reader,
    make_trial,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 15, 3, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def plan():
    return make_plan()


@pytest.fixture
def reader():
    return make_reader()


def kinds(subscription):
    return list(subscription.events.values_list("kind", flat=True))


def paid(reader, plan, *, days=30):
    return actions.start(user=reader, plan=plan, period_end=NOW + days * DAY, now=NOW)


def test_a_trial_starts_once_per_reader(reader, plan):
    # given a 14-day trial offer
    offer = make_trial(plan, NOW, days=14)
    # when the reader starts it
    subscription = actions.start_trial(user=reader, offer=offer, now=NOW)
    # then they are trialing until the trial ends, and the ledger says so
    assert subscription.status == Status.TRIALING
    assert subscription.trial_end == NOW + 14 * DAY
    assert kinds(subscription) == ["trial_started"]
    # and a second trial, from any offer, is refused clearly
    other = make_trial(plan, NOW, days=7, eligibility="everyone")
    with pytest.raises(actions.TrialAlreadyUsed, match="already had a free trial"):
        actions.start_trial(user=reader, offer=other, now=NOW + 30 * DAY)
    assert Subscription.objects.filter(user=reader).count() == 1


def test_the_database_refuses_a_second_trial_even_past_the_check(reader, plan):
    from django.db import IntegrityError

    actions.start_trial(user=reader, offer=make_trial(plan, NOW), now=NOW)
    with pytest.raises(IntegrityError):
        Subscription.objects.create(
            user=reader, plan=plan, status="trialing", current_period_end=NOW, trial_end=NOW
        )


def test_start_trial_refuses_an_intro_offer_or_an_ineligible_reader(reader, plan):
    with pytest.raises(actions.OfferNotAvailable):
        actions.start_trial(user=reader, offer=make_intro(plan, NOW), now=NOW)
    lapsed_only = make_trial(plan, NOW, eligibility="lapsed")
    with pytest.raises(actions.OfferNotAvailable):
        actions.start_trial(user=reader, offer=lapsed_only, now=NOW)
    ended = make_trial(plan, NOW, days_left=-1)
    with pytest.raises(actions.OfferNotAvailable):
        actions.start_trial(user=reader, offer=ended, now=NOW)


def test_the_full_lifecycle_writes_one_ledger_row_per_change(reader, plan):
    subscription = actions.start_trial(user=reader, offer=make_trial(plan, NOW), now=NOW)
    actions.activate(subscription=subscription, period_end=NOW + 44 * DAY, now=NOW + 14 * DAY)
    assert subscription.status == Status.ACTIVE and subscription.activated_at == NOW + 14 * DAY
    actions.renew(subscription=subscription, period_end=NOW + 74 * DAY, now=NOW + 44 * DAY)
    actions.mark_past_due(subscription=subscription, now=NOW + 74 * DAY)
    actions.activate(subscription=subscription, period_end=NOW + 105 * DAY, now=NOW + 75 * DAY)
    actions.cancel(subscription=subscription, now=NOW + 80 * DAY)
    actions.resume(subscription=subscription, now=NOW + 81 * DAY)
    actions.cancel(subscription=subscription, now=NOW + 82 * DAY)
    actions.expire(subscription=subscription, now=NOW + 105 * DAY)
    subscription.refresh_from_db()
    assert subscription.status == Status.EXPIRED
    assert kinds(subscription) == [
        "trial_started",
        "activated",
        "renewed",
        "past_due",
        "activated",
        "canceled",
        "resumed",
        "canceled",
        "expired",
    ]


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (lambda s: actions.mark_past_due(subscription=s, now=NOW), Status.TRIALING),
        (lambda s: actions.resume(subscription=s, now=NOW), Status.TRIALING),
        (lambda s: actions.renew(subscription=s, period_end=NOW + 60 * DAY, now=NOW), "trialing"),
    ],
)
def test_transitions_that_make_no_sense_are_refused(reader, plan, action, status):
    subscription = actions.start_trial(user=reader, offer=make_trial(plan, NOW), now=NOW)
    with pytest.raises(actions.InvalidTransition):
        action(subscription)
    subscription.refresh_from_db()
    assert subscription.status == status
    assert kinds(subscription) == ["trial_started"]


def test_renewal_must_extend_and_resume_must_come_before_the_end(reader, plan):
    subscription = paid(reader, plan)
    with pytest.raises(actions.InvalidTransition):
        actions.renew(subscription=subscription, period_end=NOW + DAY, now=NOW)
    actions.cancel(subscription=subscription, now=NOW)
    with pytest.raises(actions.InvalidTransition):
        actions.cancel(subscription=subscription, now=NOW)
    with pytest.raises(actions.InvalidTransition):
        actions.resume(subscription=subscription, now=NOW + 30 * DAY)
    expired = actions.expire(subscription=subscription, now=NOW + 30 * DAY)
    with pytest.raises(actions.InvalidTransition):
        actions.expire(subscription=expired, now=NOW + 31 * DAY)


def test_an_offer_for_another_plan_is_refused(reader, plan):
    other = make_intro(make_plan(name="Other"), NOW)
    with pytest.raises(actions.OfferNotAvailable):
        actions.start(user=reader, plan=plan, offer=other, period_end=NOW + 30 * DAY, now=NOW)


def test_no_subscription_means_no_entitlement(reader):
    assert entitlement_for(reader, NOW) is None
    assert reader_history(reader, NOW) == reader_history(None, NOW)


def test_a_trial_entitles_until_it_ends_and_then_is_unpaid(reader, plan):
    actions.start_trial(user=reader, offer=make_trial(plan, NOW, days=14), now=NOW)
    during = entitlement_for(reader, NOW + 14 * DAY - timedelta(seconds=1))
    assert is_entitled(during, NOW + 14 * DAY - timedelta(seconds=1))
    after = entitlement_for(reader, NOW + 14 * DAY)
    assert after.status == Status.TRIALING and after.paid is False
    assert not is_entitled(after, NOW + 14 * DAY)
    history = reader_history(reader, NOW + 15 * DAY)
    assert history.ever_trialled and history.ever_subscribed and not history.entitled


def test_a_cancelled_subscription_keeps_access_to_the_period_end(reader, plan):
    subscription = paid(reader, plan)
    actions.cancel(subscription=subscription, now=NOW + DAY)
    end = NOW + 30 * DAY
    last_second = end - timedelta(seconds=1)
    assert is_entitled(entitlement_for(reader, last_second), last_second)
    lapsed = entitlement_for(reader, end)
    assert lapsed.paid is True and not is_entitled(lapsed, end)


@override_settings(MASTHEAD_PAST_DUE_GRACE_DAYS=3)
def test_past_due_keeps_access_for_the_grace_period_from_settings(reader, plan):
    subscription = paid(reader, plan)
    actions.mark_past_due(subscription=subscription, now=NOW + 30 * DAY)
    found = entitlement_for(reader, NOW + 31 * DAY)
    assert found.grace == 3 * DAY
    assert is_entitled(found, NOW + 33 * DAY - timedelta(seconds=1))
    assert not is_entitled(found, NOW + 33 * DAY)


def test_a_past_due_subscription_cancelled_ends_now(reader, plan):
    subscription = paid(reader, plan)
    actions.mark_past_due(subscription=subscription, now=NOW + 30 * DAY)
    actions.cancel(subscription=subscription, now=NOW + 31 * DAY)
    found = entitlement_for(reader, NOW + 31 * DAY)
    assert found.status == Status.CANCELED and not is_entitled(found, NOW + 31 * DAY)


def test_the_subscription_giving_access_speaks_for_the_reader(reader, plan):
    # given a trial that lapsed, then a paid subscription later
    actions.start_trial(user=reader, offer=make_trial(plan, NOW), now=NOW)
    later = NOW + 60 * DAY
    actions.start(user=reader, plan=plan, period_end=later + 30 * DAY, now=later)
    # then the paid one decides, and the reader counts as having paid
    found = entitlement_for(reader, later)
    assert found.status == Status.ACTIVE and found.paid and is_entitled(found, later)
    assert reader_history(reader, later).entitled
    # and once it has lapsed too, the reader is a lapsed subscriber, not a lapsed trialist
    gone = entitlement_for(reader, later + 31 * DAY)
    assert gone.paid and not is_entitled(gone, later + 31 * DAY)


def test_expired_is_not_entitled_even_inside_the_old_period(reader, plan):
    subscription = paid(reader, plan)
    actions.expire(subscription=subscription, now=NOW + DAY)
    assert not is_entitled(entitlement_for(reader, NOW + 2 * DAY), NOW + 2 * DAY)


def test_restore_undoes_an_expiry_and_only_an_expiry(reader, plan):
    # given a paid subscription ended early (a dispute), the reason in its ledger row
    subscription = paid(reader, plan)
    with pytest.raises(actions.InvalidTransition, match="cannot restore"):
        actions.restore(
            subscription=subscription,
            status=Status.ACTIVE,
            period_end=NOW + 30 * DAY,
            cancel_at_period_end=False,
            now=NOW,
        )
    actions.expire(subscription=subscription, now=NOW + DAY, reason="disputed", dispute="dp_1")
    assert subscription.events.last().data == {
        "previous": "active",
        "reason": "disputed",
        "dispute": "dp_1",
    }
    assert not is_entitled(entitlement_for(reader, NOW + 2 * DAY), NOW + 2 * DAY)
    # when it is restored to the provider's state
    actions.restore(
        subscription=subscription,
        status=Status.ACTIVE,
        period_end=NOW + 30 * DAY,
        cancel_at_period_end=False,
        now=NOW + 3 * DAY,
        reason="dispute_won",
    )
    # then access is back to the period's end, and the ledger says why
    assert subscription.status == Status.ACTIVE
    assert is_entitled(entitlement_for(reader, NOW + 3 * DAY), NOW + 3 * DAY)
    assert kinds(subscription) == ["started", "expired", "restored"]
    # and it cannot be restored to an ended state
    actions.expire(subscription=subscription, now=NOW + 4 * DAY)
    with pytest.raises(actions.InvalidTransition):
        actions.restore(
            subscription=subscription,
            status=Status.EXPIRED,
            period_end=NOW + 30 * DAY,
            cancel_at_period_end=False,
            now=NOW + 5 * DAY,
        )


@pytest.mark.parametrize(
    ("change", "check", "status", "cancelled"),
    [
        (actions.cancel, actions.check_cancel, Status.ACTIVE, True),
        (actions.cancel, actions.check_cancel, Status.EXPIRED, False),
        (actions.resume, actions.check_resume, Status.ACTIVE, False),
        (actions.resume, actions.check_resume, Status.CANCELED, True),
    ],
)
def test_checks_refuse_beforehand_exactly_what_the_change_refuses(
    reader, plan, change, check, status, cancelled
):
    subscription = paid(reader, plan)
    Subscription.objects.filter(pk=subscription.pk).update(
        status=status, cancel_at_period_end=cancelled
    )
    subscription.refresh_from_db()
    with pytest.raises(actions.InvalidTransition) as checked:
        check(subscription=subscription, now=NOW)
    with pytest.raises(actions.InvalidTransition) as changed:
        change(subscription=subscription, now=NOW)
    assert str(checked.value) == str(changed.value)
