"""Crawler verification through Django's real (local-memory) cache, as the site runs it."""

import socket

import pytest
from django.core.cache import cache

from masthead.access.crawlers import CrawlerVerifier, SocketResolver, default_verifier

GOOGLEBOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLE_IP = "66.249.66.1"
GOOGLE_HOST = "crawl-66-249-66-1.googlebot.com"
SPOOFER_IP = "203.0.113.7"


class CountingResolver:
    def __init__(self):
        self.calls = 0

    def reverse(self, ip):
        self.calls += 1
        if ip != GOOGLE_IP:
            raise socket.herror(1, "Unknown host")
        return GOOGLE_HOST

    def forward(self, host):
        self.calls += 1
        return [GOOGLE_IP]


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_verified_googlebot_is_remembered_in_the_django_cache():
    # given
    resolver = CountingResolver()
    verifier = CrawlerVerifier(cache=cache, resolver=resolver)
    # when
    first = verifier.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP)
    second = verifier.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP)
    # then
    assert first is second is True
    assert resolver.calls == 2  # one reverse and one forward lookup, for both requests
    assert cache.get(CrawlerVerifier.cache_key("google", GOOGLE_IP)) is True


def test_a_rejected_claim_is_remembered_too_and_shared_between_verifiers():
    # given two verifiers over one cache, as two app workers would share Redis
    resolver = CountingResolver()
    first = CrawlerVerifier(cache=cache, resolver=resolver)
    second = CrawlerVerifier(cache=cache, resolver=resolver)
    # when
    assert first.is_verified(user_agent=GOOGLEBOT_UA, ip=SPOOFER_IP) is False
    assert second.is_verified(user_agent=GOOGLEBOT_UA, ip=SPOOFER_IP) is False
    # then
    assert resolver.calls == 1
    assert cache.get(CrawlerVerifier.cache_key("google", SPOOFER_IP)) is False


def test_cached_results_expire_with_their_lifetime():
    # given a verified crawler whose entry has lapsed (a zero timeout expires at once)
    resolver = CountingResolver()
    verifier = CrawlerVerifier(cache=cache, resolver=resolver, ttl_verified=0)
    assert verifier.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP) is True
    # when / then: it is checked again
    assert verifier.is_verified(user_agent=GOOGLEBOT_UA, ip=GOOGLE_IP) is True
    assert resolver.calls == 4


def test_default_verifier_uses_the_site_cache_and_timeout_setting(settings):
    settings.MASTHEAD_CRAWLER_DNS_TIMEOUT = 0.25
    verifier = default_verifier()
    assert verifier.timeout == 0.25
    assert isinstance(verifier.resolver, SocketResolver)
    verifier.cache.set("masthead:crawler:probe", True, 60)
    assert cache.get("masthead:crawler:probe") is True


def test_default_verifier_falls_back_to_a_one_second_timeout(settings):
    if hasattr(settings, "MASTHEAD_CRAWLER_DNS_TIMEOUT"):
        del settings.MASTHEAD_CRAWLER_DNS_TIMEOUT
    assert default_verifier().timeout == 1.0
