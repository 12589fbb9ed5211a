"""Crawlers, free-access days and every page of the demo in every reader state."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from masthead.access import context
from masthead.access.crawlers import CrawlerVerifier
from masthead.campaigns.models import FreeAccessWindow
from masthead.news.models import ArticlePage

pytestmark = pytest.mark.django_db

GOOGLEBOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLE_IP = "66.249.66.1"


class FakeResolver:
    def __init__(self, reverse, forward):
        self._reverse, self._forward = reverse, forward
        self.calls = 0

    def reverse(self, ip):
        self.calls += 1
        return self._reverse[ip]

    def forward(self, host):
        self.calls += 1
        return self._forward[host]


@pytest.fixture
def resolver(monkeypatch):
    cache.clear()
    fake = FakeResolver(
        reverse={GOOGLE_IP: "crawl-66-249-66-1.googlebot.com", "203.0.113.9": "evil.example"},
        forward={"crawl-66-249-66-1.googlebot.com": [GOOGLE_IP], "evil.example": ["203.0.113.9"]},
    )
    monkeypatch.setattr(
        context, "crawler_verifier", lambda: CrawlerVerifier(cache=cache, resolver=fake)
    )
    return fake


def body_of(client, page, **headers):
    response = client.get(page.url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_verified_googlebot_reads_everything(exclusive, client, resolver):
    body = body_of(client, exclusive, HTTP_USER_AGENT=GOOGLEBOT_UA, REMOTE_ADDR=GOOGLE_IP)
    assert "Paragraph 9 text." in body and 'class="paywalled-content"' in body
    body_of(client, exclusive, HTTP_USER_AGENT=GOOGLEBOT_UA, REMOTE_ADDR=GOOGLE_IP)
    assert resolver.calls == 2  # the second request was answered from the cache


def test_a_claim_alone_gets_what_an_anonymous_reader_gets(exclusive, client, resolver):
    body = body_of(client, exclusive, HTTP_USER_AGENT=GOOGLEBOT_UA, REMOTE_ADDR="203.0.113.9")
    assert "Paragraph 9 text." not in body
    assert "This article is for subscribers" in body


def test_a_spoofed_forwarded_for_is_ignored_without_trusted_proxies(exclusive, client, resolver):
    body = body_of(
        client,
        exclusive,
        HTTP_USER_AGENT=GOOGLEBOT_UA,
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR=GOOGLE_IP,
    )
    assert "Paragraph 9 text." not in body


@override_settings(MASTHEAD_TRUSTED_PROXY_HOPS=1)
def test_behind_one_proxy_only_the_address_it_appended_counts(exclusive, client, resolver):
    spoofed = body_of(
        client,
        exclusive,
        HTTP_USER_AGENT=GOOGLEBOT_UA,
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=f"{GOOGLE_IP}, 203.0.113.9",
    )
    assert "Paragraph 9 text." not in spoofed
    genuine = body_of(
        client,
        exclusive,
        HTTP_USER_AGENT=GOOGLEBOT_UA,
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=f"203.0.113.9, {GOOGLE_IP}",
    )
    assert "Paragraph 9 text." in genuine


def test_a_failed_lookup_means_no_crawler_access(exclusive, client, monkeypatch):
    cache.clear()

    class Broken:
        def reverse(self, ip):
            raise OSError("no answer")

        def forward(self, host):
            raise OSError("no answer")

    monkeypatch.setattr(
        context, "crawler_verifier", lambda: CrawlerVerifier(cache=cache, resolver=Broken())
    )
    body = body_of(client, exclusive, HTTP_USER_AGENT=GOOGLEBOT_UA, REMOTE_ADDR=GOOGLE_IP)
    assert "Paragraph 9 text." not in body


def test_free_access_window_switches_the_meter_off_and_shows_its_banner(site, client):
    from masthead.access.models import MeterSettings

    config = MeterSettings.for_site(site["home"].get_site())
    config.anonymous_allowance = 0
    config.save()
    blocked = body_of(client, site["lead"])
    assert "You have read all your free articles" in blocked
    now = timezone.now()
    FreeAccessWindow.objects.create(
        title="Press freedom day",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    )
    opened = body_of(client, site["lead"])
    assert "Paragraph 9 text." in opened
    assert "Free access for everyone" in opened
    assert "meter-notice" not in opened


PLACEHOLDERS = re.compile(r"\{\{|\{%|%\(|\{\w+\}")


def crawl(client, start="/", limit=400):
    seen, queue, pages = set(), [start], {}
    while queue and len(seen) < limit:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code in (200, 301, 302), (path, response.status_code)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        pages[path] = html
        for link in BeautifulSoup(html, "html.parser").select("a[href]"):
            target = urlsplit(link["href"])
            if target.netloc or target.scheme or not target.path.startswith("/"):
                continue
            if target.path.startswith(("/admin", "/media", "/static", "/documents")):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return pages


def test_no_raw_placeholder_reaches_any_demo_page_in_any_reader_state(demo, admin_user):
    fresh = Client()
    exhausted = Client()
    metered = list(ArticlePage.objects.filter(access="metered").order_by("pk")[:12])
    for article in metered:
        exhausted.get(article.url)
    staff = Client()
    staff.force_login(admin_user)
    for name, client in [("fresh", fresh), ("exhausted", exhausted), ("staff", staff)]:
        pages = crawl(client)
        assert len(pages) > 40, name
        articles = [p for p in pages if p.count("/") == 3 and not p.startswith("/series/")]
        assert len(articles) >= 24, (name, len(articles))
        for path, html in pages.items():
            visible = html.split("application/ld+json")[0] + html.split("</script>")[-1]
            match = PLACEHOLDERS.search(visible)
            assert match is None, (name, path, visible[match.start() - 80 : match.end() + 80])
    # the anonymous allowance (5) was spent on the first reads; the last one stays closed
    assert "You have read all your free articles" in exhausted.get(metered[-1].url).content.decode()
