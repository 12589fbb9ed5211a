"""A publish, an unpublish or an access change reaches readers even when the cache fails to
take the writes that announce it: the save succeeds, and no reader is served the old page
beyond a short bound (MASTHEAD_GENERATION_MAX_AGE; docs/production.md, "Cache invalidation
when Redis fails").

Behaviour tests: an article is cached by a reader, the cache starts refusing writes, the
article changes, and an anonymous reader asks again (after the bound, where the bound is
what the test is about)."""

import time
import types
import uuid

import pytest
import redis
from django.core.cache import cache
from django.core.cache.backends import base as cache_base
from django.core.cache.backends import locmem
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client, override_settings
from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted
from wagtail.models import Site

from masthead.access.models import MeterSettings
from masthead.core import generations
from masthead.news import rendering
from masthead.news.models import ArticlePage
from masthead.settings.caching import redis_caches
from tests.factories import make_article

pytestmark = pytest.mark.django_db

FULL_TEXT = "Paragraph 9 text."  # beyond any teaser
MAX_AGE = 300
WRITES = ("set", "add", "touch", "delete", "set_many", "delete_many", "incr")


class Refusals:
    """Which cache writes fail: all of `methods` while `on`, or only the next `once`."""

    def __init__(self):
        self.on = False
        self.once = 0
        self.methods = set(WRITES)

    def check(self, method: str, error=ConnectionError) -> None:
        if method not in self.methods:
            return
        if self.once:
            self.once -= 1
            raise error(f"{method} refused")
        if self.on:
            raise error(f"{method} refused")


refusals = Refusals()


class WriteRefusingCache(LocMemCache):
    """Local memory whose writes raise while `refusals` says so; reads always work."""


def _refusing(method):
    def write(self, *args, **kwargs):
        refusals.check(method)
        return getattr(LocMemCache, method)(self, *args, **kwargs)

    return write


for _method in WRITES:
    setattr(WriteRefusingCache, _method, _refusing(_method))


@pytest.fixture(autouse=True)
def _refusals():
    refusals.__init__()
    yield refusals
    refusals.__init__()


@pytest.fixture
def refusing_cache():
    location = f"lost-invalidation-{uuid.uuid4().hex}"
    backend = f"{__name__}.WriteRefusingCache"
    with override_settings(
        CACHES={name: {"BACKEND": backend, "LOCATION": location} for name in ("default", "strict")},
        MASTHEAD_GENERATION_MAX_AGE=MAX_AGE,
    ):
        generations.forget_local()
        yield cache
    generations.forget_local()


@pytest.fixture
def clock(monkeypatch):
    """The local-memory cache's clock, to move past the bound."""
    now = [time.time()]
    fake = types.SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr(locmem, "time", fake)
    monkeypatch.setattr(cache_base, "time", fake)
    return now


@pytest.fixture
def article(site):
    MeterSettings.for_site(Site.objects.get(is_default_site=True))  # before any reader comes
    return make_article(site["world"], "A free story", access="free")


def anonymous_read(article):
    return Client().get(article.url)


def cached_by_a_reader(article):
    response = anonymous_read(article)
    assert response.status_code == 200 and FULL_TEXT in response.content.decode()
    assert rendering.generation() is not None  # the page is in the cache


def unpublish(article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ArticlePage.objects.get(pk=article.pk).unpublish()
    assert not ArticlePage.objects.get(pk=article.pk).live  # the unpublish itself succeeded


def make_subscribers_only(article, django_capture_on_commit_callbacks):
    page = ArticlePage.objects.get(pk=article.pk)
    page.access = "subscribers"
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    assert ArticlePage.objects.get(pk=article.pk).access == "subscribers"


def test_an_unpublished_article_is_gone_within_the_bound_when_every_cache_write_fails(
    refusing_cache, clock, article, django_capture_on_commit_callbacks
):
    # given an article in the cache, and a cache that from now on refuses every write
    cached_by_a_reader(article)
    refusals.on = True
    # when the article is unpublished
    unpublish(article, django_capture_on_commit_callbacks)
    # then after the bound an anonymous reader no longer gets it (writes still refused)
    clock[0] += MAX_AGE + 1
    assert anonymous_read(article).status_code == 404
    # and once the cache takes writes again, it stays gone
    refusals.on = False
    assert anonymous_read(article).status_code == 404
    assert anonymous_read(article).status_code == 404


def test_an_article_made_subscribers_only_is_paywalled_within_the_bound_when_every_cache_write_fails(  # noqa: E501
    refusing_cache, clock, article, django_capture_on_commit_callbacks
):
    # given a free article in the cache, and a cache that refuses every write
    cached_by_a_reader(article)
    refusals.on = True
    # when the article is made subscribers-only
    make_subscribers_only(article, django_capture_on_commit_callbacks)
    # then after the bound an anonymous reader gets the teaser, not the full text
    clock[0] += MAX_AGE + 1
    page = anonymous_read(article)
    assert page.status_code == 200 and FULL_TEXT not in page.content.decode()
    refusals.on = False
    page = anonymous_read(article)
    assert page.status_code == 200 and FULL_TEXT not in page.content.decode()


def test_a_write_refused_once_is_retried_and_the_unpublish_is_seen_at_once(
    refusing_cache, article, django_capture_on_commit_callbacks
):
    # given an article in the cache, and a cache that refuses the next two writes (the
    # token written inside the transaction, and the first try after the commit)
    cached_by_a_reader(article)
    refusals.once = 2
    # when the article is unpublished
    unpublish(article, django_capture_on_commit_callbacks)
    # then the next anonymous reader already gets a 404, no waiting for the bound
    assert anonymous_read(article).status_code == 404


def test_a_cache_that_refuses_writes_but_deletes_shows_the_change_at_once(
    refusing_cache, article, django_capture_on_commit_callbacks
):
    # given an article in the cache, and a cache that refuses writes but still deletes keys
    # (Redis out of memory)
    cached_by_a_reader(article)
    refusals.on = True
    refusals.methods = {"set", "add", "touch", "set_many", "incr"}
    # when the article is made subscribers-only
    make_subscribers_only(article, django_capture_on_commit_callbacks)
    # then the next anonymous reader gets no full text
    page = anonymous_read(article)
    assert page.status_code == 200 and FULL_TEXT not in page.content.decode()


# --- the production cache: django-redis, failing soft (masthead.settings.caching) ----------


@pytest.fixture
def refusing_redis(redis_service, monkeypatch):
    """The production caches on a real Redis whose client refuses writes while `refusals`
    says so (``default`` swallows those errors, as in production; ``strict`` raises)."""
    for method in WRITES:
        real = getattr(DefaultClient, method)

        def write(self, *args, _method=method, _real=real, **kwargs):
            try:
                refusals.check(_method, redis.ConnectionError)
            except redis.ConnectionError as error:
                raise ConnectionInterrupted(connection=None) from error
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(DefaultClient, method, write)
    prefix = f"masthead-test-lost-{uuid.uuid4().hex}"
    with override_settings(
        CACHES=redis_caches(redis_service, prefix),
        MASTHEAD_GENERATION_MAX_AGE=1,  # Redis keeps its own time: a bound of a second
    ):
        generations.forget_local()
        yield cache
        refusals.__init__()
        cache.clear()
    generations.forget_local()


def test_the_production_cache_heals_within_the_bound_when_redis_refuses_writes(
    refusing_redis, article, django_capture_on_commit_callbacks
):
    # given an article in Redis, and a Redis that refuses every write (failing soft)
    cached_by_a_reader(article)
    refusals.on = True
    # when the article is unpublished
    unpublish(article, django_capture_on_commit_callbacks)
    # then after the bound an anonymous reader no longer gets it
    time.sleep(1.2)
    assert anonymous_read(article).status_code == 404


def test_the_production_cache_retries_a_write_redis_refused(
    refusing_redis, article, django_capture_on_commit_callbacks
):
    # given an article in Redis, and a Redis that drops the next two writes (failing soft)
    cached_by_a_reader(article)
    refusals.once = 2
    # when the article is made subscribers-only
    make_subscribers_only(article, django_capture_on_commit_callbacks)
    # then the next anonymous reader gets no full text
    page = anonymous_read(article)
    assert page.status_code == 200 and FULL_TEXT not in page.content.decode()
