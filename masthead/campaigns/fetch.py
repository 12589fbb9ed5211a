"""What campaigns are live now: read once a minute from the database, shared through the cache.

The cache holds the rows whose window overlaps the current UTC minute, not the answer for one
instant; ``windows.active`` then picks what is live at ``now`` exactly, so a banner that starts
at 12:00:30 appears at 12:00:30 even though the rows were read at 12:00:05. Entries live
``CACHE_SECONDS`` at most, and any save or delete forgets them by changing the generation
token that every key carries (deleting one key per minute could miss a worker whose clock is a
minute ahead, and a reader that read old rows just before the edit would put them back).

The cache is an optimisation only: whatever it raises, the database answers.
"""

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cachetools import LRUCache, cached
from django.core.cache import cache

from masthead.core import generations

from .models import Banner, FreeAccessWindow
from .windows import active

CACHE_SECONDS = 30


@dataclass(frozen=True)
class Campaigns:
    banners: list[Banner]
    free_access: FreeAccessWindow | None

    @property
    def free_access_active(self) -> bool:
        return self.free_access is not None


@dataclass(frozen=True)
class _Candidates:
    """Rows overlapping one minute, in display order; what the cache stores."""

    banners: list[Banner]
    free_access: list[FreeAccessWindow]


def current_campaigns(now: datetime, request=None) -> Campaigns:
    """The banners live at ``now`` (priority first, then earliest start) and the free-access
    window in force, if any (the latest to start). At most two queries, none on a cache hit;
    given the request, its generation tokens are read with the others in one round trip."""
    candidates = _candidates(_minute(now), request)
    windows = active(candidates.free_access, now)
    return Campaigns(
        banners=active(candidates.banners, now), free_access=windows[0] if windows else None
    )


def free_access_active(now: datetime) -> bool:
    """Whether the meter is off for everyone at ``now``."""
    return current_campaigns(now).free_access is not None


def invalidate() -> None:
    """Forget every cached answer; never raises, since it runs inside admin saves."""
    generations.bump(generations.CAMPAIGNS)


def invalidate_on_change(sender, **kwargs) -> None:
    """post_save/post_delete receiver."""
    generations.bump_with_transaction(generations.CAMPAIGNS, kwargs.get("using"))


def _minute(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, not naive {now!r}")
    return now.astimezone(UTC).replace(second=0, microsecond=0)


def _candidates(minute: datetime, request=None) -> _Candidates:
    token = generations.current(generations.CAMPAIGNS, request)
    if token is None:
        return _query(minute)
    return _candidates_under(token, minute)


# Per process as well: a key names its minute and generation, so it is never stale.
@cached(LRUCache(8), lock=threading.Lock())
def _candidates_under(token: str, minute: datetime) -> _Candidates:
    key = f"masthead:campaigns:{token}:{minute:%Y%m%dT%H%M}"
    found = cache.get(key)
    if not isinstance(found, _Candidates):  # nothing, or a value of another shape
        found = _query(minute)
        cache.set(key, found, CACHE_SECONDS)
    return found


def _query(minute: datetime) -> _Candidates:
    end = minute + timedelta(minutes=1)
    banners = Banner.objects.filter(starts_at__lt=end, ends_at__gt=minute).order_by(
        "-priority", "starts_at", "pk"
    )
    windows = FreeAccessWindow.objects.filter(starts_at__lt=end, ends_at__gt=minute).order_by(
        "-starts_at", "-pk"
    )
    return _Candidates(banners=list(banners), free_access=list(windows))
