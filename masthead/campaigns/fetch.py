"""What campaigns are live now: read once a minute from the database, shared through the cache.

The cache holds the rows whose window overlaps the current UTC minute, not the answer for one
instant; ``windows.active`` then picks what is live at ``now`` exactly, so a banner that starts
at 12:00:30 appears at 12:00:30 even though the rows were read at 12:00:05. Entries live
``CACHE_SECONDS`` at most, and any save or delete forgets them by changing the generation
token that every key carries (deleting one key per minute could miss a worker whose clock is a
minute ahead, and a reader that read old rows just before the edit would put them back).

The cache is an optimisation only: whatever it raises, the database answers.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import transaction

from .models import Banner, FreeAccessWindow
from .windows import active

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30
GENERATION_KEY = "masthead:campaigns:generation"


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


def current_campaigns(now: datetime) -> Campaigns:
    """The banners live at ``now`` (priority first, then earliest start) and the free-access
    window in force, if any (the latest to start). At most two queries, none on a cache hit."""
    candidates = _candidates(_minute(now))
    windows = active(candidates.free_access, now)
    return Campaigns(
        banners=active(candidates.banners, now), free_access=windows[0] if windows else None
    )


def campaigns_for_request(request, now: datetime) -> Campaigns:
    """One answer per request, shared by the paywall's decision and the banners, so the two
    always agree (and the cache is asked once)."""
    found = getattr(request, "_masthead_campaigns", None)
    if found is None:
        found = current_campaigns(now)
        request._masthead_campaigns = found
    return found


def free_access_active(now: datetime) -> bool:
    """Whether the meter is off for everyone at ``now``."""
    return current_campaigns(now).free_access is not None


def invalidate() -> None:
    """Forget every cached answer; never raises, since it runs inside admin saves."""
    try:
        cache.delete(GENERATION_KEY)
    except Exception:
        logger.warning("Could not clear the campaigns cache", exc_info=True)


def invalidate_on_change(sender, **kwargs) -> None:
    """post_save/post_delete receiver. Clears now, and again once the transaction commits,
    so a reader cannot re-cache the old rows between the signal and the commit."""
    invalidate()
    transaction.on_commit(invalidate, using=kwargs.get("using"))


def _minute(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, not naive {now!r}")
    return now.astimezone(UTC).replace(second=0, microsecond=0)


def _candidates(minute: datetime) -> _Candidates:
    key = _cache_key(minute)
    if key is not None:
        try:
            cached = cache.get(key)
        except Exception:
            logger.warning("Could not read the campaigns cache", exc_info=True)
            cached = None
            key = None
        if isinstance(cached, _Candidates):
            return cached
    candidates = _query(minute)
    if key is not None:
        try:
            cache.set(key, candidates, CACHE_SECONDS)
        except Exception:
            logger.warning("Could not write the campaigns cache", exc_info=True)
    return candidates


def _cache_key(minute: datetime) -> str | None:
    """The key for ``minute`` under the current generation; None when the cache is down."""
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            # add() only sets a missing key, so concurrent readers agree on one generation.
            cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
            generation = cache.get(GENERATION_KEY)
    except Exception:
        logger.warning("Could not read the campaigns cache generation", exc_info=True)
        return None
    if not generation:
        return None
    return f"masthead:campaigns:{generation}:{minute:%Y%m%dT%H%M}"


def _query(minute: datetime) -> _Candidates:
    end = minute + timedelta(minutes=1)
    banners = Banner.objects.filter(starts_at__lt=end, ends_at__gt=minute).order_by(
        "-priority", "starts_at", "pk"
    )
    windows = FreeAccessWindow.objects.filter(starts_at__lt=end, ends_at__gt=minute).order_by(
        "-starts_at", "-pk"
    )
    return _Candidates(banners=list(banners), free_access=list(windows))
