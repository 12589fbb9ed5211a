"""The pure rules behind the bounds for clients without an identity (access.networks)."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from masthead.access.networks import (
    UNKNOWN_NETWORK,
    Admission,
    Kind,
    NetworkBounds,
    admission,
    client_network,
    day_bucket,
    first_request,
    network_counters,
    period_bucket,
    settling,
)
from masthead.access.periods import PeriodKind

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 14, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        (None, UNKNOWN_NETWORK),
        ("", UNKNOWN_NETWORK),
        ("not an address", UNKNOWN_NETWORK),
    ],
)
def test_client_network(ip, network):
    assert client_network(ip) == network


def test_a_calendar_month_bucket_is_the_meter_month_in_the_sites_time_zone():
    start, end = period_bucket(PeriodKind.CALENDAR_MONTH, NOW, SEOUL, 30)
    assert start == datetime(2026, 11, 1, tzinfo=SEOUL)
    assert end == datetime(2026, 12, 1, tzinfo=SEOUL)


def test_rolling_buckets_are_fixed_blocks_that_hold_now():
    for moment in (NOW, NOW + timedelta(days=3, hours=5), NOW - timedelta(days=11)):
        start, end = period_bucket(PeriodKind.ROLLING_DAYS, moment, SEOUL, 7)
        assert start <= moment < end and end - start == timedelta(days=7)
    first, _ = period_bucket(PeriodKind.ROLLING_DAYS, NOW, SEOUL, 7)
    assert period_bucket(PeriodKind.ROLLING_DAYS, first + timedelta(days=6), SEOUL, 7)[0] == first


def test_a_day_is_the_local_day_across_a_dst_change():
    berlin = ZoneInfo("Europe/Berlin")
    moment = datetime(2026, 10, 25, 12, tzinfo=berlin)  # 25 hours long
    start, end = day_bucket(moment, berlin)
    assert start == datetime(2026, 10, 25, tzinfo=berlin)
    assert end == datetime(2026, 10, 26, tzinfo=berlin)


def counters(network="203.0.113.7", now=NOW, secret=b"s", per_day=20, per_period=300):
    return network_counters(
        network=network,
        bounds=NetworkBounds(identityless_per_day=per_day, full_texts_per_period=per_period),
        kind=PeriodKind.CALENDAR_MONTH,
        rolling_days=30,
        zone=SEOUL,
        now=now,
        secret=secret,
    )


def test_counter_keys_hold_no_address_and_share_one_hash_tag():
    found = counters()
    for counter in (found.period, found.day):
        assert "203" not in counter.key
    tag = found.period.key.split("}")[0] + "}"
    assert found.day.key.startswith(tag)
    assert (found.period.limit, found.day.limit) == (300, 20)
    assert found.period.expires == datetime(2026, 12, 1, tzinfo=SEOUL)
    assert found.day.expires == datetime(2026, 11, 15, tzinfo=SEOUL)


def test_keys_rotate_with_the_day_and_the_period_and_depend_on_the_secret():
    today, tomorrow = counters(), counters(now=NOW + timedelta(days=1))
    assert today.period.key == tomorrow.period.key
    assert today.day.key != tomorrow.day.key
    next_month = counters(now=NOW + timedelta(days=30))
    assert next_month.period.key != today.period.key
    assert counters(network="203.0.113.8").period.key != today.period.key
    assert counters(secret=b"other").period.key != today.period.key


def test_keys_are_the_same_from_one_release_to_the_next():
    # given a network's counters as an earlier release keyed them
    # when this release works them out
    found = counters()
    # then a deployment mid-period finds the counts already taken
    assert found.period.key == "{2a2d0352f1c42513ec54d35bc66b7d53}:p"
    assert found.day.key == (
        "{2a2d0352f1c42513ec54d35bc66b7d53}:d:0d1c19c79da17d0d654fb2bbc7614b81"
    )


def test_a_bound_set_to_zero_keeps_no_counter():
    assert counters(per_day=0).day is None
    assert counters(per_period=0).period is None


def test_a_first_request_takes_one_from_each_bound_that_is_on():
    both = counters()
    assert [(t.kind, t.amount) for t in first_request(both)] == [(Kind.PERIOD, 1), (Kind.DAY, 1)]
    assert [t.kind for t in first_request(counters(per_period=0))] == [Kind.DAY]
    assert first_request(counters(per_day=0, per_period=0)) == []


def test_what_the_refused_take_means_for_a_first_request():
    period, day = first_request(counters())
    assert admission(None) == Admission.FULL
    assert admission(period) == Admission.BORN_EXHAUSTED
    assert admission(day) == Admission.TEASER


@pytest.mark.parametrize(
    ("allowance", "read", "taken"), [(5, 1, 4), (5, 0, 5), (1, 1, None), (0, 0, None)]
)
def test_settling_takes_the_rest_of_the_allowance_from_the_period(allowance, read, taken):
    takes = settling(counters(), allowance, read)
    assert [t.amount for t in takes] == ([] if taken is None else [taken])
    assert all(t.kind == Kind.PERIOD for t in takes)
    assert settling(counters(per_period=0), allowance, read) == []


def test_counters_follow_now_back_and_forth_across_a_day_and_a_month():
    # given instants on both sides of the local midnight that ends a month, asked for out of
    # order (a worker keeps the buckets it worked out last)
    midnight = datetime(2026, 12, 1, tzinfo=SEOUL)
    before, after = midnight - timedelta(minutes=1), midnight + timedelta(minutes=1)
    for now in (before, after, before, after + timedelta(days=1), after):
        # when a network's counters are worked out
        found = counters(now=now)
        # then they are the buckets that hold `now`, named as the key's formula says
        period_start, period_end = period_bucket(PeriodKind.CALENDAR_MONTH, now, SEOUL, 30)
        day_start, day_end = day_bucket(now, SEOUL)
        tag = _key_hash(f"period|{period_start.isoformat()}|203.0.113.7")
        day = _key_hash(f"day|{day_start.isoformat()}|203.0.113.7")
        assert found.period.key == f"{{{tag}}}:p"
        assert found.day.key == f"{{{tag}}}:d:{day}"
        assert (found.period.expires, found.day.expires) == (period_end, day_end)


def _key_hash(message: str) -> str:
    return hmac.new(b"s", message.encode(), hashlib.sha256).hexdigest()[:32]
