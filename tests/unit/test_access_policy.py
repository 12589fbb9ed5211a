"""The access decision, rule by rule (table-driven) and as properties (hypothesis)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from masthead.access.policy import (
    ArticleAccess,
    Decision,
    Message,
    MeterPolicy,
    MeterResult,
    Reader,
    Reason,
    Status,
    Subscription,
    access_ends_at,
    decide,
    is_entitled,
    meter_unavailable,
    needs_meter,
)

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ANON = Reader(key="a:x")
MEMBER = Reader(key="u:1", registered=True)
CRAWLER = Reader(key="a:bot", verified_crawler=True)
STAFF = Reader(key="u:2", registered=True, staff=True)

ACTIVE = Subscription(Status.ACTIVE, period_end=NOW + DAY)
TRIAL = Subscription(Status.TRIALING, period_end=NOW + 30 * DAY, trial_end=NOW + DAY, paid=False)
TRIAL_OVER = Subscription(Status.TRIALING, period_end=NOW + DAY, trial_end=NOW - DAY, paid=False)
TRIAL_EXPIRED = Subscription(Status.EXPIRED, period_end=NOW - DAY, paid=False)
CANCELED_RUNNING = Subscription(Status.CANCELED, period_end=NOW + DAY)
CANCELED_OVER = Subscription(Status.CANCELED, period_end=NOW - DAY)
PAST_DUE_GRACE = Subscription(Status.PAST_DUE, period_end=NOW - DAY, grace=3 * DAY)
PAST_DUE_OVER = Subscription(Status.PAST_DUE, period_end=NOW - 5 * DAY, grace=3 * DAY)
LAPSED = Subscription(Status.EXPIRED, period_end=NOW - DAY)

ADMITTED = MeterResult(allowance=5, used=3, admitted=True)
LAST = MeterResult(allowance=5, used=5, admitted=True)
COUNTED = MeterResult(allowance=5, used=5, already_counted=True)
EXHAUSTED = MeterResult(allowance=5, used=5)

F, M, S = ArticleAccess.FREE, ArticleAccess.METERED, ArticleAccess.SUBSCRIBERS


def run(access, reader=ANON, subscription=None, window=False, meter=None):
    return decide(
        access=access,
        reader=reader,
        subscription=subscription,
        free_access_window=window,
        now=NOW,
        meter=meter,
    )


@pytest.mark.parametrize(
    ("access", "reader", "subscription", "window", "meter", "full", "reason", "message"),
    [
        # 1. free, crawler, campaign
        (F, ANON, None, False, None, True, Reason.FREE, Message.NONE),
        (F, ANON, LAPSED, False, None, True, Reason.FREE, Message.NONE),
        (S, CRAWLER, None, False, None, True, Reason.CRAWLER, Message.NONE),
        (M, CRAWLER, None, False, None, True, Reason.CRAWLER, Message.NONE),
        (M, ANON, None, True, None, True, Reason.CAMPAIGN, Message.NONE),
        (S, ANON, None, True, None, True, Reason.CAMPAIGN, Message.NONE),
        # 2. entitled
        (S, MEMBER, ACTIVE, False, None, True, Reason.ENTITLED, Message.NONE),
        (M, MEMBER, ACTIVE, False, None, True, Reason.ENTITLED, Message.NONE),
        (S, MEMBER, TRIAL, False, None, True, Reason.ENTITLED, Message.NONE),
        (S, MEMBER, CANCELED_RUNNING, False, None, True, Reason.ENTITLED, Message.NONE),
        (S, MEMBER, PAST_DUE_GRACE, False, None, True, Reason.ENTITLED, Message.NONE),
        (S, STAFF, None, False, None, True, Reason.ENTITLED, Message.NONE),
        # 3. subscribers only
        (S, ANON, None, False, None, False, Reason.SUBSCRIBERS_ONLY, Message.PAYWALL_SUBSCRIBERS),
        (S, MEMBER, None, False, None, False, Reason.SUBSCRIBERS_ONLY, Message.PAYWALL_SUBSCRIBERS),
        (S, MEMBER, TRIAL_OVER, False, None, False, Reason.TRIAL_EXPIRED,
         Message.PAYWALL_TRIAL_EXPIRED),
        (S, MEMBER, TRIAL_EXPIRED, False, None, False, Reason.TRIAL_EXPIRED,
         Message.PAYWALL_TRIAL_EXPIRED),
        (S, MEMBER, CANCELED_OVER, False, None, False, Reason.ACCESS_EXPIRED,
         Message.PAYWALL_ACCESS_EXPIRED),
        (S, MEMBER, PAST_DUE_OVER, False, None, False, Reason.ACCESS_EXPIRED,
         Message.PAYWALL_ACCESS_EXPIRED),
        (S, MEMBER, LAPSED, False, None, False, Reason.ACCESS_EXPIRED,
         Message.PAYWALL_ACCESS_EXPIRED),
        # 4. metered
        (M, ANON, None, False, COUNTED, True, Reason.ALREADY_COUNTED, Message.NONE),
        (M, ANON, None, False, ADMITTED, True, Reason.METERED, Message.METER_REMAINING),
        (M, ANON, None, False, LAST, True, Reason.METERED, Message.METER_LAST),
        (M, ANON, None, False, EXHAUSTED, False, Reason.EXHAUSTED, Message.PAYWALL_EXHAUSTED),
        (M, MEMBER, LAPSED, False, ADMITTED, True, Reason.METERED, Message.METER_REMAINING),
        (M, MEMBER, LAPSED, False, EXHAUSTED, False, Reason.ACCESS_EXPIRED,
         Message.PAYWALL_ACCESS_EXPIRED),
        (M, MEMBER, TRIAL_EXPIRED, False, EXHAUSTED, False, Reason.TRIAL_EXPIRED,
         Message.PAYWALL_TRIAL_EXPIRED),
    ],
)  # fmt: skip
def test_rules_in_order(access, reader, subscription, window, meter, full, reason, message):
    decision = run(access, reader, subscription, window, meter)
    assert (decision.full, decision.reason, decision.message) == (full, reason, message)
    assert decision.show_offers is (not full)


def test_remaining_is_reported_while_metering():
    assert run(M, meter=ADMITTED).remaining == 2
    assert run(M, meter=LAST).remaining == 0
    assert run(M, meter=EXHAUSTED).remaining == 0


def test_metered_decision_without_the_meter_is_refused():
    with pytest.raises(ValueError, match="needs_meter"):
        run(M)


@pytest.mark.parametrize(
    ("access", "reader", "subscription", "window", "expected"),
    [
        (M, ANON, None, False, True),
        (M, MEMBER, LAPSED, False, True),
        (F, ANON, None, False, False),
        (S, ANON, None, False, False),
        (M, CRAWLER, None, False, False),
        (M, ANON, None, True, False),
        (M, MEMBER, ACTIVE, False, False),
        (M, STAFF, None, False, False),
    ],
)
def test_the_meter_is_asked_only_when_it_decides(access, reader, subscription, window, expected):
    assert (
        needs_meter(
            access=access, reader=reader, subscription=subscription, free_access_window=window,
            now=NOW,
        )
        is expected
    )  # fmt: skip


@pytest.mark.parametrize(
    ("subscription", "entitled"),
    [
        (None, False),
        (ACTIVE, True),
        (Subscription(Status.ACTIVE, period_end=NOW), False),  # ends exactly now
        (TRIAL, True),
        (TRIAL_OVER, False),
        (CANCELED_RUNNING, True),
        (CANCELED_OVER, False),
        (PAST_DUE_GRACE, True),
        (Subscription(Status.PAST_DUE, period_end=NOW - 3 * DAY, grace=3 * DAY), False),
        (PAST_DUE_OVER, False),
        (LAPSED, False),
    ],
)
def test_entitlement_follows_dates_at_read_time(subscription, entitled):
    assert is_entitled(subscription, NOW) is entitled


@pytest.mark.parametrize(
    ("subscription", "end"),
    [
        (ACTIVE, NOW + DAY),
        (TRIAL, NOW + DAY),  # the trial's end, not the period's
        (Subscription(Status.TRIALING, period_end=NOW + DAY, paid=False), NOW + DAY),
        (CANCELED_RUNNING, NOW + DAY),
        (PAST_DUE_GRACE, NOW + 2 * DAY),  # period end plus the grace
        (LAPSED, None),
    ],
)
def test_access_ends_when_the_dates_say(subscription, end):
    assert access_ends_at(subscription) == end


def test_unavailable_meter_fails_closed():
    decision = meter_unavailable()
    assert not decision.full
    assert decision.message == Message.PAYWALL_METER_UNAVAILABLE


def test_registered_readers_get_the_larger_allowance():
    policy = MeterPolicy(anonymous_allowance=5, registered_allowance=10)
    assert policy.allowance_for(ANON) == 5
    assert policy.allowance_for(MEMBER) == 10


class ModelMeter:
    """The meter's contract in memory: what every store must behave like."""

    def __init__(self, allowance):
        self.allowance = allowance
        self.read = set()

    def consume(self, article):
        if article in self.read:
            return MeterResult(self.allowance, len(self.read), already_counted=True)
        if len(self.read) >= self.allowance:
            return MeterResult(self.allowance, len(self.read))
        self.read.add(article)
        return MeterResult(self.allowance, len(self.read), admitted=True)


@given(
    allowance=st.integers(min_value=0, max_value=12),
    reads=st.lists(st.integers(min_value=1, max_value=30), max_size=60),
)
def test_meter_properties_hold_for_any_sequence_of_reads(allowance, reads):
    meter = ModelMeter(allowance)
    full_articles: set[int] = set()
    previous_remaining = allowance
    for article in reads:
        decision: Decision = run(M, meter=meter.consume(article))
        assert decision.remaining is not None and decision.remaining >= 0
        assert decision.remaining <= previous_remaining
        previous_remaining = decision.remaining
        if article in full_articles:
            # re-reading a counted article is always free and costs nothing
            assert decision.full and decision.reason == Reason.ALREADY_COUNTED
        if decision.full:
            full_articles.add(article)
    assert len(full_articles) <= allowance


@given(
    access=st.sampled_from(list(ArticleAccess)),
    registered=st.booleans(),
    crawler=st.booleans(),
    window=st.booleans(),
    subscription=st.sampled_from(
        [None, ACTIVE, TRIAL, TRIAL_OVER, CANCELED_OVER, PAST_DUE_GRACE, PAST_DUE_OVER, LAPSED]
    ),
    meter=st.sampled_from([ADMITTED, LAST, COUNTED, EXHAUSTED]),
)
def test_every_teaser_comes_with_a_paywall_message_and_every_full_read_without(
    access, registered, crawler, window, subscription, meter
):
    reader = Reader(key="r", registered=registered, verified_crawler=crawler)
    decision = run(access, reader, subscription, window, meter)
    if decision.full:
        assert not decision.message.startswith("paywall")
    else:
        assert decision.message.startswith("paywall")
        assert access != ArticleAccess.FREE and not crawler and not window
        assert not is_entitled(subscription, NOW)
