"""The monthly reset happens at local midnight on the 1st, whatever DST and leap years do."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from masthead.access.periods import PeriodKind, meter_window
from masthead.access.teaser import teaser_length

MONTH = PeriodKind.CALENDAR_MONTH
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SANTIAGO = ZoneInfo("America/Santiago")


def start(now, zone):
    return meter_window(MONTH, now, zone).start


def test_month_starts_at_local_midnight_on_the_first():
    now = datetime(2026, 11, 15, 3, 0, tzinfo=UTC)
    assert start(now, TOKYO) == datetime(2026, 11, 1, tzinfo=TOKYO)
    assert start(now, TOKYO).astimezone(UTC) == datetime(2026, 10, 31, 15, 0, tzinfo=UTC)


def test_reset_is_local_not_utc():
    # 20:00 UTC on Oct 31 is already Nov 1 in Tokyo, still Oct 31 in New York.
    now = datetime(2026, 10, 31, 20, 0, tzinfo=UTC)
    assert start(now, TOKYO) == datetime(2026, 11, 1, tzinfo=TOKYO)
    assert start(now, NEW_YORK) == datetime(2026, 10, 1, tzinfo=NEW_YORK)


@pytest.mark.parametrize("zone", [NEW_YORK, LONDON, TOKYO, SANTIAGO])
def test_one_microsecond_before_and_at_midnight_on_the_first(zone):
    for year, month in [(2026, 3), (2026, 4), (2026, 10), (2026, 11), (2027, 1), (2028, 3)]:
        midnight = datetime(year, month, 1, tzinfo=zone)
        before = (midnight.astimezone(UTC) - timedelta(microseconds=1)).astimezone(zone)
        assert start(midnight, zone) == midnight
        assert start(before, zone) < midnight
        assert meter_window(MONTH, before, zone).expires == midnight


def test_windows_across_the_dst_changes_are_whole_local_months():
    # New York: DST ends on Nov 1 2026 and starts on Mar 8 2026.
    november = meter_window(MONTH, datetime(2026, 11, 20, tzinfo=NEW_YORK), NEW_YORK)
    assert november.start.astimezone(UTC) == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert november.expires.astimezone(UTC) == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    march = meter_window(MONTH, datetime(2026, 3, 20, tzinfo=NEW_YORK), NEW_YORK)
    assert march.start.astimezone(UTC) == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    assert march.expires.astimezone(UTC) == datetime(2026, 4, 1, 4, 0, tzinfo=UTC)


def test_leap_day_belongs_to_february_and_march_starts_fresh():
    leap_evening = datetime(2028, 2, 29, 23, 59, tzinfo=TOKYO)
    window = meter_window(MONTH, leap_evening, TOKYO)
    assert window.start == datetime(2028, 2, 1, tzinfo=TOKYO)
    assert window.expires == datetime(2028, 3, 1, tzinfo=TOKYO)
    assert start(datetime(2028, 3, 1, tzinfo=TOKYO), TOKYO) == datetime(2028, 3, 1, tzinfo=TOKYO)


def test_december_rolls_into_january():
    window = meter_window(MONTH, datetime(2026, 12, 31, 23, 0, tzinfo=TOKYO), TOKYO)
    assert window.expires == datetime(2027, 1, 1, tzinfo=TOKYO)


def test_rolling_window_covers_the_last_n_days():
    now = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
    window = meter_window(PeriodKind.ROLLING_DAYS, now, TOKYO, days=7)
    assert window.start == now - timedelta(days=7)
    assert window.expires == now + timedelta(days=7)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        meter_window(MONTH, datetime(2026, 11, 15), TOKYO)


@pytest.mark.parametrize(
    ("kinds", "paragraphs", "expected"),
    [
        (["paragraph"] * 5, 2, 2),
        # A fourth paragraph: with three, the half rule would stop the teaser at the first.
        (["subheading", "paragraph", "pull_quote", "paragraph", "paragraph", "paragraph"], 2, 4),
        # Never more than half of the paragraphs: a one-paragraph story has no teaser.
        (["paragraph"], 3, 0),
        ([], 2, 0),
        (["paragraph", "paragraph"], 1, 1),
    ],
)
def test_teaser_ends_after_the_nth_paragraph(kinds, paragraphs, expected):
    assert teaser_length(kinds, paragraphs) == expected
