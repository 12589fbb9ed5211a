"""Bounds for readers who keep no identity: pure rules, no Django.

An anonymous reader is known by a random id in a cookie. A client that keeps no cookies
(curl, an archiver, a scraper, a browser that clears them) would be a new reader with a
fresh allowance on every request, so what such clients may read is bounded per *client
network* instead:

- **B, per day**: full texts served to requests that arrive without an identity. A client
  that never keeps its cookie gets at most B full texts per network per day.
- **B', per meter period**: full texts the network's new identities may read. Each new
  identity may read the anonymous allowance, so a network may be issued
  ``B' // allowance`` identities with an allowance per period; identities issued past that
  start with their allowance used. A client that drops its cookie after using each
  allowance reads at most B' full texts per network per period.

A browser that keeps its cookie is counted once, when its identity is issued; after that it
reads its allowance exactly as before, whatever the network does.

The client network is the client's address (IPv4 /32, IPv6 /64: one household or device
usually holds a whole /64). Counters are keyed by a keyed hash (HMAC with the site's secret)
of the network and the counter's bucket (its day or period), so no address is stored, a
counter cannot be linked to the next day's or period's, and every counter expires with its
bucket.
"""

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

from .periods import PeriodKind, meter_window

UNKNOWN_NETWORK = "unknown"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def client_network(ip: str | None) -> str:
    """The network a client address belongs to: the address itself for IPv4, its /64 for
    IPv6. Clients whose address cannot be vouched for share one network, "unknown"."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return UNKNOWN_NETWORK
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True)
class NetworkBounds:
    """What the admin sets (Settings > Meter). 0 switches a bound off."""

    identityless_per_day: int  # B
    full_texts_per_period: int  # B'

    def identities_per_period(self, allowance: int) -> int | None:
        """How many new identities a network may be issued with an allowance this period,
        so that they cannot read more than B' between them (None: no bound)."""
        if self.full_texts_per_period <= 0:
            return None
        return self.full_texts_per_period // max(allowance, 1)


@dataclass(frozen=True)
class Counter:
    """One counter in the meter store: admits while below `limit`, forgotten at `expires`."""

    key: str
    limit: int
    expires: datetime


@dataclass(frozen=True)
class NewReaderCounters:
    """The two counters a request without an identity is counted against. Both keys share
    the period's hash in braces (a Redis Cluster hash tag), so one script can update both."""

    period: Counter | None
    day: Counter | None


class Admission(IntEnum):
    """What the network's counters say about a request that arrived without an identity."""

    BORN_EXHAUSTED = 0  # the network used its identities this period: start with none left
    TEASER = 1  # a normal new identity, but the network's identity-less texts today are spent
    FULL = 2  # a normal new identity, and this request may read (the meter's first read)


def period_bucket(kind: PeriodKind, now: datetime, zone: ZoneInfo, days: int) -> tuple:
    """(start, end) of the fixed bucket the period counter lives in: the calendar month, or
    for a rolling period consecutive blocks of that many days (a rolling window has no fixed
    start to count from)."""
    if kind == PeriodKind.CALENDAR_MONTH:
        window = meter_window(kind, now, zone)
        return window.start, window.expires
    length = timedelta(days=days)
    start = _EPOCH + ((now - _EPOCH) // length) * length
    return start, start + length


def day_bucket(now: datetime, zone: ZoneInfo) -> tuple:
    """(start, end) of the local day in the site's time zone."""
    local = now.astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    following = (start + timedelta(days=1, hours=3)).date()  # past any DST jump
    return start, datetime(following.year, following.month, following.day, tzinfo=zone)


def _hash(secret: bytes, *parts: object) -> str:
    message = "|".join(str(part) for part in parts).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def new_reader_counters(
    *,
    network: str,
    bounds: NetworkBounds,
    allowance: int,
    kind: PeriodKind,
    rolling_days: int,
    zone: ZoneInfo,
    now: datetime,
    secret: bytes,
) -> NewReaderCounters:
    period_start, period_end = period_bucket(kind, now, zone, rolling_days)
    day_start, day_end = day_bucket(now, zone)
    tag = _hash(secret, "period", period_start.isoformat(), network)
    identities = bounds.identities_per_period(allowance)
    period = None if identities is None else Counter(f"{{{tag}}}:p", identities, period_end)
    day = None
    if bounds.identityless_per_day > 0:
        day_hash = _hash(secret, "day", day_start.isoformat(), network)
        day = Counter(f"{{{tag}}}:d:{day_hash}", bounds.identityless_per_day, day_end)
    return NewReaderCounters(period=period, day=day)
