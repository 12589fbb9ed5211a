"""Routing rules around the page tree: a cached route's key stays within memcached's limits
however long the path (news.routing)."""

import warnings

import pytest
from django.core.cache.backends.base import CacheKeyWarning
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from masthead.news import routing
from tests.factories import make_article

pytestmark = pytest.mark.django_db

LONG_SLUG = "a-" + "very-long-headline-" * 13 + "end"  # 252 characters


@pytest.fixture
def no_cache_key_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        yield


def test_a_short_plain_path_names_its_key_as_it_is():
    assert routing.path_in_key("world/a-story/") == "world/a-story/"


@pytest.mark.parametrize("path", ["w/" + "x" * 300 + "/", "world/a story/", "world/\x7f/"])
def test_a_long_or_unusual_path_is_named_by_its_stable_hash(path):
    # when
    named = routing.path_in_key(path)
    # then
    assert named.startswith("sha256:") and len(named) == len("sha256:") + 64
    assert named == routing.path_in_key(path)  # stable: the same path, the same key
    assert named != routing.path_in_key(path + "x/")


def test_an_article_at_a_long_path_routes_and_is_kept_without_a_key_warning(
    site, no_cache_key_warnings
):
    # given a free story whose address is longer than a memcached key may be
    article = make_article(site["world"], "Long", slug=LONG_SLUG, access="free")
    assert len(article.url) > 250
    client = Client()
    # when it is opened twice
    first = client.get(article.url)
    with CaptureQueriesContext(connection) as second_queries:
        second = client.get(article.url)
    # then both are the story, and the second came by the cached route: no tree walk
    assert first.status_code == 200 and second.status_code == 200
    assert "Paragraph 10 text." in second.content.decode()
    assert not any("wagtailcore_page" in query["sql"] for query in second_queries)
    assert client.get(article.url + "print/").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/world/" + "z" * 400 + "/", "/feed/private/" + "A" * 260 + "/", "/world/a%20story/"],
)
def test_a_long_unknown_path_is_a_404_without_a_key_warning(site, no_cache_key_warnings, path):
    assert Client().get(path).status_code == 404
