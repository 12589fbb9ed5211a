import socket
import time

import pytest

from masthead.access.crawlers import (
    CrawlerVerifier,
    SocketResolver,
    claimed_crawler,
    in_crawler_domain,
    verify_crawler,
)

GOOGLEBOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT_UA = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"

GOOGLE_IP = "66.249.66.1"
GOOGLE_HOST = "crawl-66-249-66-1.googlebot.com"
GOOGLE_IPV6 = "2001:4860:4801:10::1"
GOOGLE_IPV6_HOST = "crawl-2001-4860-4801-10--1.googlebot.com"
BING_IP = "157.55.39.1"
BING_HOST = "msnbot-157-55-39-1.search.msn.com"
SPOOFER_IP = "203.0.113.7"


class FakeResolver:
    """DNS as two dicts; a missing name raises like the socket module does, and every call
    is recorded so tests can see whether DNS was asked at all."""

    def __init__(self, ptr=None, a=None):
        self.ptr = ptr or {}
        self.a = a or {}
        self.calls = []

    def reverse(self, ip):
        self.calls.append(("reverse", ip))
        if ip not in self.ptr:
            raise socket.herror(1, "Unknown host")
        return self.ptr[ip]

    def forward(self, host):
        self.calls.append(("forward", host))
        if host not in self.a:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.a[host]


class SlowResolver(FakeResolver):
    def __init__(self, delay, **kwargs):
        super().__init__(**kwargs)
        self.delay = delay

    def reverse(self, ip):
        time.sleep(self.delay)
        return super().reverse(ip)

    def forward(self, host):
        time.sleep(self.delay)
        return super().forward(host)


class BrokenResolver:
    def reverse(self, ip):
        raise RuntimeError("resolver exploded")

    def forward(self, host):
        raise RuntimeError("resolver exploded")


class DictCache:
    """Django's cache API over a dict, recording each timeout it was given."""

    def __init__(self):
        self.data = {}
        self.timeouts = {}

    def get(self, key):
        return self.data.get(key)

    def set(self, key, value, timeout):
        self.data[key] = value
        self.timeouts[key] = timeout


class DeadCache:
    def get(self, key):
        raise ConnectionError("cache is down")

    def set(self, key, value, timeout):
        raise ConnectionError("cache is down")


def real_dns():
    return FakeResolver(
        ptr={
            GOOGLE_IP: GOOGLE_HOST,
            GOOGLE_IPV6: GOOGLE_IPV6_HOST,
            BING_IP: BING_HOST,
            SPOOFER_IP: "host-203-0-113-7.example.net",
        },
        a={
            GOOGLE_HOST: [GOOGLE_IP],
            GOOGLE_IPV6_HOST: [GOOGLE_IPV6],
            BING_HOST: [BING_IP],
            "host-203-0-113-7.example.net": [SPOOFER_IP],
        },
    )


def verifier(resolver=None, cache=None, **kwargs):
    return CrawlerVerifier(
        cache=cache if cache is not None else DictCache(),
        resolver=resolver if resolver is not None else real_dns(),
        timeout=kwargs.pop("timeout", 1.0),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (GOOGLEBOT_UA, "google"),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "google"),
        ("GOOGLEBOT", "google"),
        ("Googlebot-News", "google"),
        (BINGBOT_UA, "bing"),
        ("BingBot/2.0", "bing"),
        (BROWSER_UA, None),
        ("Mozilla/5.0 (compatible; Google-InspectionTool/1.0)", None),
        ("", None),
        (None, None),
    ],
)
def test_claimed_crawler_reads_the_user_agent(user_agent, expected):
    assert claimed_crawler(user_agent) == expected


@pytest.mark.parametrize(
    ("hostname", "crawler", "expected"),
    [
        ("crawl-66-249-66-1.googlebot.com", "google", True),
        ("crawl-66-249-66-1.googlebot.com.", "google", True),
        ("CRAWL-66-249-66-1.GOOGLEBOT.COM", "google", True),
        ("rate-limited-proxy-66-249-90-1.google.com", "google", True),
        ("msnbot-157-55-39-1.search.msn.com", "bing", True),
        ("evilgooglebot.com", "google", False),
        ("crawl.evilgooglebot.com", "google", False),
        ("googlebot.com", "google", False),
        ("googlebot.com.evil.example", "google", False),
        ("crawl-66-249-66-1.googlebot.com.evil.example", "google", False),
        ("notsearch.msn.com", "bing", False),
        ("msnbot-157-55-39-1.search.msn.com", "google", False),
        ("crawl-66-249-66-1.googlebot.com", "bing", False),
        ("crawl-66-249-66-1.googlebot.com", "yandex", False),
    ],
)
def test_reverse_names_must_lie_inside_the_crawlers_domain(hostname, crawler, expected):
    assert in_crawler_domain(hostname, crawler) is expected


@pytest.mark.parametrize(
    ("user_agent", "ip"),
    [(GOOGLEBOT_UA, GOOGLE_IP), (GOOGLEBOT_UA, GOOGLE_IPV6), (BINGBOT_UA, BING_IP)],
)
def test_genuine_crawlers_are_verified(user_agent, ip):
    assert verifier().is_verified(user_agent=user_agent, ip=ip) is True


def test_ipv4_seen_through_a_dual_stack_socket_is_still_verified():
    assert verifier().is_verified(user_agent=GOOGLEBOT_UA, ip=f"::ffff:{GOOGLE_IP}") is True


def test_a_user_agent_claim_alone_is_rejected():
    # given a browser posing as Googlebot from an address whose reverse name is its ISP's
    resolver = real_dns()
    # when / then
    assert verifier(resolver).is_verified(user_agent=GOOGLEBOT_UA, ip=SPOOFER_IP) is False
    assert resolver.calls == [("reverse", SPOOFER_IP)]  # no forward lookup needed


def test_googlebot_claim_from_bings_address_is_rejected():
    assert verifier().is_verified(user_agent=GOOGLEBOT_UA, ip=BING_IP) is False


def test_a_forged_reverse_name_that_does_not_resolve_back_is_rejected():
    # given the spoofer controls its own PTR record, but not Google's forward zone
    resolver = FakeResolver(ptr={SPOOFER_IP: GOOGLE_HOST}, a={GOOGLE_HOST: [GOOGLE_IP]})
    # when / then
    assert verifier(resolver).is_verified(user_agent=GOOGLEBOT_UA, ip=SPOOFER_IP) is False
    assert resolver.calls == [("reverse", SPOOFER_IP), ("forward", GOOGLE_HOST)]


@pytest.mark.parametrize(
    "hostname",
    ["evilgooglebot.com", "googlebot.com.evil.example", "crawl.googlebot.com.evil.example"],
)
def test_lookalike_domains_are_rejected_even_when_they_resolve_back(hostname):
    resolver = FakeResolver(ptr={SPOOFER_IP: hostname}, a={hostname: [SPOOFER_IP]})
    assert verifier(resolver).is_verified(user_agent=GOOGLEBOT_UA, ip=SPOOFER_IP) is False


def test_forward_lookup_may_return_several_addresses():
    resolver = FakeResolver(
        ptr={GOOGLE_IP: GOOGLE_HOST}, a={GOOGLE_HOST: ["66.249.66.9", GOOGLE_IP]}
    )
    assert verify_crawler(GOOGLE_IP, "google", resolver=resolver, timeout=1.0) is True


@pytest.mark.parametrize(
    "resolver",
    [
        FakeResolver(),  # no PTR record
        FakeResolver(ptr={GOOGLE_IP: GOOGLE_HOST}),  # PTR, but the name does not resolve
        BrokenResolver(),
    ],
)
def test_resolver_errors_mean_not_verified(resolver):
    assert verifier(resolver).is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP) is False


@pytest.mark.parametrize("ip", ["not-an-ip", "", "66.249.66"])
def test_unparseable_addresses_are_rejected_without_dns(ip):
    resolver = real_dns()
    assert verify_crawler(ip, "google", resolver=resolver, timeout=1.0) is False
    assert resolver.calls == []


def test_unknown_crawler_names_are_rejected_without_dns():
    resolver = real_dns()
    assert verify_crawler(GOOGLE_IP, "yandex", resolver=resolver, timeout=1.0) is False
    assert resolver.calls == []


def test_a_hanging_resolver_is_cut_off_at_the_timeout():
    # given a resolver that takes 0.3 s per lookup
    resolver = SlowResolver(0.3, ptr={GOOGLE_IP: GOOGLE_HOST}, a={GOOGLE_HOST: [GOOGLE_IP]})
    # when
    started = time.monotonic()
    verified = verifier(resolver, timeout=0.05).is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP)
    elapsed = time.monotonic() - started
    # then
    assert verified is False
    assert elapsed < 0.25


def test_the_timeout_covers_both_lookups_together():
    # each lookup alone fits in the budget; the two together do not
    resolver = SlowResolver(0.15, ptr={GOOGLE_IP: GOOGLE_HOST}, a={GOOGLE_HOST: [GOOGLE_IP]})
    assert verify_crawler(GOOGLE_IP, "google", resolver=resolver, timeout=0.2) is False


def test_a_positive_result_is_cached_for_a_day():
    # given
    resolver, cache = real_dns(), DictCache()
    check = verifier(resolver, cache)
    assert check.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP) is True
    calls = len(resolver.calls)
    # when
    again = check.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP)
    # then
    assert again is True
    assert len(resolver.calls) == calls
    key = CrawlerVerifier.cache_key("google", GOOGLE_IP)
    assert cache.data == {key: True}
    assert cache.timeouts == {key: 24 * 60 * 60}


def test_a_negative_result_is_cached_for_an_hour():
    resolver, cache = real_dns(), DictCache()
    check = verifier(resolver, cache)
    assert check.is_verified(user_agent=GOOGLEBOT_UA, ip=SPOOFER_IP) is False
    calls = len(resolver.calls)

    assert check.is_verified(user_agent=GOOGLEBOT_UA, ip=SPOOFER_IP) is False

    assert len(resolver.calls) == calls
    key = CrawlerVerifier.cache_key("google", SPOOFER_IP)
    assert cache.data == {key: False}
    assert cache.timeouts == {key: 60 * 60}


def test_cache_lifetimes_are_configurable():
    cache = DictCache()
    check = verifier(cache=cache, ttl_verified=600, ttl_rejected=60)
    check.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP)
    check.is_verified(user_agent=GOOGLEBOT_UA, ip=SPOOFER_IP)
    assert cache.timeouts == {
        CrawlerVerifier.cache_key("google", GOOGLE_IP): 600,
        CrawlerVerifier.cache_key("google", SPOOFER_IP): 60,
    }


def test_the_cache_key_names_the_crawler_so_claims_do_not_share_answers():
    # given Googlebot verified at this address
    resolver, cache = real_dns(), DictCache()
    check = verifier(resolver, cache)
    assert check.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP) is True
    # when a "Bingbot" arrives from the same address, then it is checked on its own merits
    assert check.is_verified(user_agent=BINGBOT_UA, ip=GOOGLE_IP) is False
    assert CrawlerVerifier.cache_key("bing", GOOGLE_IP) in cache.data


def test_spellings_of_one_address_share_a_cache_entry():
    resolver, cache = real_dns(), DictCache()
    check = verifier(resolver, cache)
    check.is_verified(user_agent=GOOGLEBOT_UA, ip="2001:4860:4801:0010:0:0:0:1")
    check.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IPV6)
    assert list(cache.data) == [CrawlerVerifier.cache_key("google", GOOGLE_IPV6)]
    assert resolver.calls.count(("reverse", GOOGLE_IPV6)) == 1


@pytest.mark.parametrize("user_agent", [BROWSER_UA, "", None])
def test_no_claim_means_no_dns_and_no_cache(user_agent):
    resolver, cache = real_dns(), DictCache()
    assert verifier(resolver, cache).is_verified(user_agent=user_agent, ip=GOOGLE_IP) is False
    assert resolver.calls == []
    assert cache.data == {}


@pytest.mark.parametrize("ip", [None, "", "garbage"])
def test_no_usable_address_means_no_dns(ip):
    resolver = real_dns()
    assert verifier(resolver).is_verified(user_agent=GOOGLEBOT_UA, ip=ip) is False
    assert resolver.calls == []


def test_a_dead_cache_means_verifying_without_it():
    resolver = real_dns()
    check = verifier(resolver, DeadCache())
    assert check.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP) is True
    assert check.is_verified(user_agent=GOOGLEBOT_UA, ip=SPOOFER_IP) is False


def test_a_dead_cache_is_still_bounded_by_the_timeout():
    resolver = SlowResolver(0.3, ptr={GOOGLE_IP: GOOGLE_HOST}, a={GOOGLE_HOST: [GOOGLE_IP]})
    check = verifier(resolver, DeadCache(), timeout=0.05)
    started = time.monotonic()
    assert check.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP) is False
    assert time.monotonic() - started < 0.25


def test_is_verified_never_raises_whatever_it_is_given():
    check = verifier(BrokenResolver(), DeadCache())
    assert check.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP) is False
    assert check.is_verified(user_agent=b"Googlebot", ip=12345) is False


def test_socket_resolver_uses_the_system_resolver(monkeypatch):
    # given a system resolver stubbed at the socket module, so no real DNS is asked
    monkeypatch.setattr(socket, "gethostbyaddr", lambda ip: (GOOGLE_HOST, [], [ip]))
    infos = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (GOOGLE_IP, 0)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (GOOGLE_IPV6, 0, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (GOOGLE_IP, 0)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **kwargs: infos)
    resolver = SocketResolver()
    # when / then
    assert resolver.reverse(GOOGLE_IP) == GOOGLE_HOST
    assert sorted(resolver.forward(GOOGLE_HOST)) == sorted([GOOGLE_IP, GOOGLE_IPV6])
    assert verify_crawler(GOOGLE_IP, "google", resolver=resolver, timeout=1.0) is True
