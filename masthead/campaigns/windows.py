"""When a campaign is live: one pure rule shared by banners, free-access windows and the
access decision.

A window is half-open, ``starts_at <= now < ends_at``, so back-to-back windows never overlap
and a campaign "until midnight" ends at midnight. Instants are compared in UTC: Python
compares two datetimes that share a tzinfo by wall-clock time, which is wrong for the
repeated hour when clocks go back (``fold``), and a campaign that ends then must end on time.
No Django here, so the access policy can depend on it without the ORM.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar


class HasWindow(Protocol):
    starts_at: datetime
    ends_at: datetime


T = TypeVar("T", bound=HasWindow)


def _instant(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not naive {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self):
        if _instant(self.ends_at, "ends_at") <= _instant(self.starts_at, "starts_at"):
            raise ValueError("ends_at must be after starts_at")


def is_active(window: HasWindow, now: datetime) -> bool:
    """Whether ``now`` falls in ``[starts_at, ends_at)``; naive datetimes raise ValueError."""
    now = _instant(now, "now")
    starts_at = _instant(window.starts_at, "starts_at")
    ends_at = _instant(window.ends_at, "ends_at")
    return starts_at <= now < ends_at


def active(items: Iterable[T], now: datetime) -> list[T]:
    """The items live at ``now``, in their original order."""
    return [item for item in items if is_active(item, now)]
