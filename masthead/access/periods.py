"""Meter periods. A calendar month starts at local midnight on the 1st in the site's time
zone (so a reader in Tokyo and the newsroom agree when the meter resets); a rolling period
covers the last N days. Pure functions over aware datetimes."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    CALENDAR_MONTH = "calendar_month"
    ROLLING_DAYS = "rolling_days"


@dataclass(frozen=True)
class MeterWindow:
    """Reads at or after `start` count; the store may forget a reader at `expires`."""

    start: datetime
    expires: datetime


def _local_midnight(year: int, month: int, zone: ZoneInfo) -> datetime:
    """Midnight on the 1st. Where a DST jump skips local midnight, fold=0 reads it with the
    offset before the jump, which is exactly the instant the day begins."""
    return datetime(year, month, 1, tzinfo=zone)


def meter_window(kind: PeriodKind, now: datetime, zone: ZoneInfo, days: int = 30) -> MeterWindow:
    if now.tzinfo is None:
        raise ValueError("meter windows need an aware datetime")
    if kind == PeriodKind.ROLLING_DAYS:
        return MeterWindow(start=now - timedelta(days=days), expires=now + timedelta(days=days))
    local = now.astimezone(zone)
    start = _local_midnight(local.year, local.month, zone)
    next_year, next_month = (
        (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    )
    return MeterWindow(start=start, expires=_local_midnight(next_year, next_month, zone))
