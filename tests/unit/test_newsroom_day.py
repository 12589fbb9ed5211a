"""The newsroom's day (masthead.core.dashboard.day_of): midnight to midnight in the
newsroom's time zone, whatever zone the moment is given in."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from masthead.core.dashboard import day_of

TOKYO = ZoneInfo("Asia/Tokyo")
LONDON = ZoneInfo("Europe/London")


def test_a_utc_evening_is_already_the_next_day_in_tokyo():
    day = day_of(datetime(2026, 10, 14, 15, 10, tzinfo=UTC), TOKYO)
    assert day.date.isoformat() == "2026-10-15"
    assert day.start == datetime(2026, 10, 15, tzinfo=TOKYO)
    assert day.end == datetime(2026, 10, 16, tzinfo=TOKYO)
    assert datetime(2026, 10, 14, 15, 0, tzinfo=UTC) in day  # 00:00 in Tokyo
    assert datetime(2026, 10, 14, 14, 59, tzinfo=UTC) not in day
    assert day.end not in day


def test_the_day_the_clocks_go_back_has_25_hours():
    day = day_of(datetime(2026, 10, 25, 12, tzinfo=UTC), LONDON)
    # (measured in UTC: between two times of one zone Python subtracts wall-clock times)
    assert day.end.astimezone(UTC) - day.start.astimezone(UTC) == timedelta(hours=25)
    assert day.start == datetime(2026, 10, 24, 23, tzinfo=UTC)
