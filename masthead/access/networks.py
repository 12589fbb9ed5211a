"""Bounds for readers who keep no identity: pure rules, no Django.

An anonymous reader is known by a random id in a cookie. A client that keeps no cookies
(curl, an archiver, a scraper, a browser that clears them) would be a new reader with a
fresh allowance on every request, so what such clients may read is bounded per *client
network* instead, by two counters in the meter store:

- **B, per day**: full texts served to requests that arrive without an identity. A client
  that never keeps its cookie gets at most B full texts per network per day.
- **B', per meter period**: full texts the network's new identities may read between
  them. A request without an identity that gets the full text takes 1; when its cookie
  comes back, the rest of the identity's allowance is taken before it reads on (an identity
  that got the teaser takes its whole allowance then). What cannot be taken is not given:
  past B' a new identity starts with its allowance used. So a client that drops its cookie
  after using each allowance reads at most B' full texts per network per period, and one
  that never keeps it costs the period only the texts it got.

A browser that keeps its cookie is counted once, when it settles (its second request);
after that it reads its allowance exactly as before, whatever the network does.

The client network is the client's address (IPv4 /32, IPv6 /64: one household or device
usually holds a whole /64). Counters are keyed by a keyed hash (HMAC with the site's secret)
of the network and the counter's bucket (its day or period), so no address is stored, a
counter cannot be linked to the next day's or period's, and every counter expires with its
bucket.
"""

import hmac
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from .client_ip import parse_ip
from .periods import PeriodKind, meter_window

UNKNOWN_NETWORK = "unknown"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def client_network(ip: str | None) -> str:
    """The network a client address belongs to: the address itself for IPv4, its /64 for
    IPv6. Clients whose address cannot be vouched for share one network, "unknown"."""
    return network_of(parse_ip(ip))


def network_of(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str:
    """client_network of an address already parsed (None: unknown)."""
    if address is None:
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


@dataclass(frozen=True)
class Counter:
    """One counter in the meter store: counts up to `limit`, forgotten at `expires`."""

    key: str
    limit: int
    expires: datetime


@dataclass(frozen=True)
class NetworkCounters:
    """A network's two counters (None: that bound is off). Both keys share the period's
    hash in braces (a Redis Cluster hash tag), so one script can take from both."""

    period: Counter | None
    day: Counter | None


class Kind(StrEnum):
    PERIOD = "period"
    DAY = "day"


@dataclass(frozen=True)
class Take:
    """`amount` to take from a counter, all or nothing (MeterStoreBase.take)."""

    kind: Kind
    counter: Counter
    amount: int = 1


class Admission(StrEnum):
    """What a network's counters say about a request that arrived without an identity."""

    FULL = "full"  # a new identity, and this request reads (its first read)
    TEASER = "teaser"  # the network's identity-less texts today are spent: a new identity
    BORN_EXHAUSTED = "born_exhausted"  # the period's texts are spent: an identity with none


def first_request(counters: NetworkCounters) -> list[Take]:
    """What a request without an identity takes for its full text: one from each counter."""
    return [
        Take(kind, counter)
        for kind, counter in ((Kind.PERIOD, counters.period), (Kind.DAY, counters.day))
        if counter is not None
    ]


def admission(refused: Take | None) -> Admission:
    """The answer for a first request, from the take the store refused (None: all taken)."""
    if refused is None:
        return Admission.FULL
    return Admission.BORN_EXHAUSTED if refused.kind == Kind.PERIOD else Admission.TEASER


def settling(counters: NetworkCounters, allowance: int, texts_read: int) -> list[Take]:
    """What an identity takes from its network's period when its cookie first comes back:
    the rest of its allowance (it has read `texts_read` already)."""
    rest = allowance - texts_read
    if counters.period is None or rest <= 0:
        return []
    return [Take(Kind.PERIOD, counters.period, rest)]


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


def _digest(secret: bytes, message: bytes) -> str:
    # hmac.digest: the one-shot form, computed in C without an HMAC object per counter.
    return hmac.digest(secret, message, "sha256").hex()[:32]


@dataclass(frozen=True)
class _Buckets:
    """The period's and the day's bucket as the counters' hashes name them ("period|<start>|",
    then the network), their ends, and the stretch of time in which both hold."""

    since: datetime
    until: datetime
    period: bytes
    period_end: datetime
    day: bytes
    day_end: datetime


# The buckets that held last, per (kind, rolling_days, zone): they change once a day, so a
# request works them out again only when `now` has left them.
_held: dict[tuple, _Buckets] = {}


def _buckets(kind: PeriodKind, now: datetime, zone: ZoneInfo, days: int) -> _Buckets:
    key = (kind, days, zone)
    held = _held.get(key)
    if held is not None and held.since <= now < held.until:
        return held
    period_start, period_end = period_bucket(kind, now, zone, days)
    day_start, day_end = day_bucket(now, zone)
    held = _Buckets(
        since=max(period_start, day_start),
        until=min(period_end, day_end),
        period=f"period|{period_start.isoformat()}|".encode(),
        period_end=period_end,
        day=f"day|{day_start.isoformat()}|".encode(),
        day_end=day_end,
    )
    if len(_held) >= 64:  # a few settings live at once; tests try many
        _held.clear()
    _held[key] = held
    return held


def network_counters(
    *,
    network: str,
    bounds: NetworkBounds,
    kind: PeriodKind,
    rolling_days: int,
    zone: ZoneInfo,
    now: datetime,
    secret: bytes,
) -> NetworkCounters:
    buckets = _buckets(kind, now, zone, rolling_days)
    network_bytes = network.encode()
    tag = _digest(secret, buckets.period + network_bytes)
    period = None
    if bounds.full_texts_per_period > 0:
        period = Counter(f"{{{tag}}}:p", bounds.full_texts_per_period, buckets.period_end)
    day = None
    if bounds.identityless_per_day > 0:
        day_hash = _digest(secret, buckets.day + network_bytes)
        day = Counter(f"{{{tag}}}:d:{day_hash}", bounds.identityless_per_day, buckets.day_end)
    return NetworkCounters(period=period, day=day)
