"""news.reserved_slugs: the names a parent's own addresses take from its children."""

import pytest

from masthead.news.reserved_slugs import first_segment, refusal, reserved


@pytest.mark.parametrize(
    ("route", "segment"),
    [
        ("feed/", "feed"),
        ("feed/atom/", "feed"),
        ("feed/private/<str:secret>/", "feed"),
        ("authors/<slug:slug>/feed/", "authors"),
        ("rss/", "rss"),
        ("healthz", "healthz"),
        ("^media/(?P<path>.*)$", "media"),
        ("", None),
        ("<slug:slug>/", None),
        ("robots.txt", None),
        ("sitemap-<slug:section>.xml", None),
        ("^(?P<path>.*)$", None),
    ],
)
def test_the_first_segment_of_a_route_is_its_literal_name(route, segment):
    assert first_segment(route) == segment


def test_the_reserved_names_are_the_routes_first_segments_once_each():
    # given a section's routes and the home page's
    section = ["", "feed/", "feed/atom/"]
    home = ["", "feed/", "feed/atom/", "rss/", "authors/", "authors/<slug:slug>/", "topics/"]
    # then
    assert reserved(section) == {"feed"}
    assert reserved(home) == {"feed", "rss", "authors", "topics"}
    assert reserved([]) == frozenset()


def test_a_reserved_slug_is_refused_with_the_address_it_would_have():
    message = refusal("feed", "/world/", frozenset({"feed"}))
    assert message is not None
    assert "“feed” cannot be used here" in message and "/world/feed/" in message
    assert "choose another slug" in message


@pytest.mark.parametrize("slug", ["feeds", "feed-reader-review", "Feed", "world", ""])
def test_any_other_slug_is_free(slug):
    assert refusal(slug, "/world/", frozenset({"feed", "rss"})) is None
