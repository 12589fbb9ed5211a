"""The campaign window rule: half-open, aware-only, and exact across clock changes."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from masthead.campaigns.windows import Window, active, is_active

TOKYO = ZoneInfo("Asia/Tokyo")
LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 9, 30, tzinfo=TOKYO)
END = datetime(2026, 10, 1, tzinfo=TOKYO)
WINDOW = Window(START, END)


def test_window_is_active_exactly_at_its_start():
    assert is_active(WINDOW, START) is True


def test_window_is_not_active_exactly_at_its_end():
    assert is_active(WINDOW, END) is False
    assert is_active(WINDOW, END - timedelta(microseconds=1)) is True


def test_window_is_not_active_before_it_starts():
    assert is_active(WINDOW, START - timedelta(microseconds=1)) is False


def test_the_same_instant_in_another_zone_gives_the_same_answer():
    # given 00:00 in Tokyo, which is 15:00 the day before in UTC
    now = datetime(2026, 9, 29, 15, tzinfo=UTC)
    # then
    assert is_active(WINDOW, now) is True
    assert is_active(WINDOW, now - timedelta(seconds=1)) is False


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        is_active(WINDOW, datetime(2026, 9, 30, 12))


@dataclass
class Campaign:
    name: str
    starts_at: datetime
    ends_at: datetime


def test_naive_window_times_are_rejected():
    naive_start = Campaign("naive", datetime(2026, 9, 30), END)
    with pytest.raises(ValueError, match="starts_at must be an aware datetime"):
        is_active(naive_start, START)
    with pytest.raises(ValueError, match="ends_at"):
        Window(START, datetime(2026, 10, 1))


def test_window_must_end_after_it_starts():
    with pytest.raises(ValueError, match="after"):
        Window(END, START)
    with pytest.raises(ValueError, match="after"):
        Window(START, START)


def test_active_keeps_live_items_in_their_order():
    # given
    items = [
        Campaign("later", START + timedelta(hours=1), END),
        Campaign("over", START - timedelta(days=2), START - timedelta(days=1)),
        Campaign("all day", START, END),
        Campaign("not yet", END, END + timedelta(days=1)),
    ]
    # when
    live = active(items, START + timedelta(hours=2))
    # then
    assert [item.name for item in live] == ["later", "all day"]


def test_active_of_nothing_is_empty():
    assert active([], START) == []


def test_window_across_spring_forward_lasts_the_real_elapsed_time():
    # given 00:30 GMT to 02:30 BST on 29 March 2026: one real hour, as 01:00-02:00 is skipped
    window = Window(
        datetime(2026, 3, 29, 0, 30, tzinfo=LONDON), datetime(2026, 3, 29, 2, 30, tzinfo=LONDON)
    )
    # then
    assert is_active(window, datetime(2026, 3, 29, 1, 29, tzinfo=UTC)) is True
    assert is_active(window, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) is False


def test_window_ending_in_the_repeated_hour_ends_at_the_first_occurrence():
    # given a window ending at 01:30 BST on 25 October 2026, before clocks go back at 02:00
    window = Window(
        datetime(2026, 10, 25, 1, 0, tzinfo=LONDON),
        datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=0),
    )
    # when 01:10 comes round the second time (GMT), 40 real minutes after the end
    now = datetime(2026, 10, 25, 1, 10, tzinfo=LONDON, fold=1)
    # then it is over, although a wall-clock comparison would say 01:10 < 01:30
    assert now < window.ends_at  # Python's same-zone comparison, the trap
    assert is_active(window, now) is False
    assert is_active(window, datetime(2026, 10, 25, 1, 10, tzinfo=LONDON, fold=0)) is True


aware = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, TOKYO, LONDON, ZoneInfo("America/New_York")]),
)


@given(
    start=aware,
    length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3650)),
    now=aware,
)
def test_is_active_compares_instants_whatever_the_zone(start, length, now):
    end = start + length
    # wall-clock arithmetic across a clock change can land at or before the start
    assume(end.astimezone(UTC) > start.astimezone(UTC))
    window = Window(start, end)
    expected = start.astimezone(UTC) <= now.astimezone(UTC) < end.astimezone(UTC)
    assert is_active(window, now) is expected
    assert is_active(Window(start.astimezone(UTC), end.astimezone(UTC)), now) is expected
