"""Is this request really Googlebot or Bingbot?

Crawlers get the full text (with paywall structured data) so articles can be indexed, which
makes "I am Googlebot" the cheapest way past the paywall. A user agent is only a claim; we
believe it when forward-confirmed reverse DNS agrees, the check Google and Microsoft document:
the address's reverse name lies in the crawler's own domain, and that name resolves back to
the same address. DNS is slow and can hang, so every check is bounded by a timeout and its
answer is cached, positive for a day and negative for an hour (a spoofer's lookups, including
ones that hang on a name server the spoofer controls, are paid for once, not on every request).

Nothing here imports Django: the cache and resolver are passed in, so the rules are tested
without settings; `default_verifier()` at the bottom wires in the real ones.
"""

import ipaddress
import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import Any, Protocol

logger = logging.getLogger(__name__)

CRAWLER_DOMAINS: dict[str, tuple[str, ...]] = {
    "google": (".googlebot.com", ".google.com"),
    "bing": (".search.msn.com",),
}

# User-agent token -> crawler name. A substring match also takes in Googlebot-News, -Image and
# -Video; that is safe because DNS, not the user agent, decides.
_CLAIMS = (("googlebot", "google"), ("bingbot", "bing"))

# Bounded, so a flood of lookups that hang cannot start unbounded threads; a request waiting
# for a busy pool still gives up after its timeout.
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="crawler-dns")


class Resolver(Protocol):
    def reverse(self, ip: str) -> str: ...

    def forward(self, host: str) -> list[str]: ...


class Cache(Protocol):
    """The part of Django's cache API we use; any object with these methods will do."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, timeout: float) -> Any: ...


class SocketResolver:
    """The system resolver. Its calls can block for many seconds; `verify_crawler` runs them
    in a worker thread so a request never waits longer than its own timeout."""

    def reverse(self, ip: str) -> str:
        return socket.gethostbyaddr(ip)[0]

    def forward(self, host: str) -> list[str]:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        return sorted({str(info[4][0]) for info in infos})


def claimed_crawler(user_agent: str) -> str | None:
    """Which crawler the user agent claims to be; only a claim until verified."""
    agent = (user_agent or "").lower()
    for token, crawler in _CLAIMS:
        if token in agent:
            return crawler
    return None


def in_crawler_domain(hostname: str, crawler: str) -> bool:
    """A real domain suffix: "evilgooglebot.com" and "googlebot.com.evil.example" are not
    Google's, and neither is a bare "googlebot.com" (Google's crawlers have a host label)."""
    name = hostname.lower().rstrip(".")
    return any(name.endswith(suffix) for suffix in CRAWLER_DOMAINS.get(crawler, ()))


def verify_crawler(ip: str, crawler: str, *, resolver: Resolver, timeout: float) -> bool:
    """Forward-confirmed reverse DNS. Any error, or both lookups together taking longer than
    `timeout` seconds, is False: an unverifiable crawler reads what an anonymous reader reads.
    """
    address = _address(ip)
    if address is None or crawler not in CRAWLER_DOMAINS:
        return False
    try:
        future = _LOOKUPS.submit(_confirm, address, crawler, resolver)
    except RuntimeError:  # the pool is shut down: the interpreter is exiting
        return False
    try:
        return future.result(timeout=timeout)
    except FutureTimeoutError:
        future.cancel()  # drops it if still queued; a running lookup finishes unobserved
        logger.info("DNS check of %s crawler %s timed out after %ss", crawler, ip, timeout)
        return False
    except Exception:
        logger.debug("DNS check of %s crawler %s failed", crawler, ip, exc_info=True)
        return False


def _confirm(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, crawler: str, resolver: Resolver
) -> bool:
    hostname = resolver.reverse(str(address))
    if not in_crawler_domain(hostname, crawler):
        return False
    return any(_address(found) == address for found in resolver.forward(hostname))


def _address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parsed and normalised (IPv4-mapped IPv6 unwrapped), so spellings of one address match."""
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class CrawlerVerifier:
    """Claim, then cached verification. `is_verified` never raises: whatever goes wrong, the
    answer is False (not a crawler) or, if only the cache is down, a fresh bounded check."""

    def __init__(
        self,
        *,
        cache: Cache,
        resolver: Resolver | None = None,
        timeout: float = 1.0,
        ttl_verified: int = 24 * 60 * 60,
        ttl_rejected: int = 60 * 60,
    ) -> None:
        self.cache = cache
        self.resolver = resolver if resolver is not None else SocketResolver()
        self.timeout = timeout
        self.ttl_verified = ttl_verified
        self.ttl_rejected = ttl_rejected

    def is_verified(self, *, user_agent: str, ip: str | None) -> bool:
        try:
            crawler = claimed_crawler(user_agent)
            address = _address(ip) if ip else None
            if crawler is None or address is None:
                return False
            key = self.cache_key(crawler, str(address))
            cached = self._cached(key)
            if cached is not None:
                return cached
            verified = verify_crawler(
                str(address), crawler, resolver=self.resolver, timeout=self.timeout
            )
            self._remember(key, verified)
            return verified
        except Exception:
            logger.exception("crawler verification failed; treating the request as a reader")
            return False

    @staticmethod
    def cache_key(crawler: str, ip: str) -> str:
        return f"masthead:crawler:{crawler}:{ip}"

    def _cached(self, key: str) -> bool | None:
        try:
            value = self.cache.get(key)
        except Exception:
            logger.warning("crawler cache unavailable; verifying without it", exc_info=True)
            return None
        return None if value is None else bool(value)

    def _remember(self, key: str, verified: bool) -> None:
        ttl = self.ttl_verified if verified else self.ttl_rejected
        try:
            self.cache.set(key, verified, ttl)
        except Exception:
            logger.warning("crawler cache unavailable; result not kept", exc_info=True)


def default_verifier() -> CrawlerVerifier:
    """The site's verifier: Django's default cache and the system resolver."""
    from django.conf import settings
    from django.core.cache import cache

    timeout = getattr(settings, "MASTHEAD_CRAWLER_DNS_TIMEOUT", 1.0)
    return CrawlerVerifier(cache=cache, resolver=SocketResolver(), timeout=timeout)
