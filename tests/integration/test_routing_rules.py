"""Routing rules around the page tree: a cached route's key stays within memcached's limits
however long the path (news.routing); a page may not take a slug that an address of its
parent's own would hide (news.reserved_slugs)."""

import warnings

import pytest
from bs4 import BeautifulSoup
from django.core.cache.backends.base import CacheKeyWarning
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.test.utils.form_data import (
    nested_form_data,
    querydict_from_html,
    rich_text,
    streamfield,
)

from masthead.news import routing
from masthead.news.models import ArticlePage, Author, SectionPage
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


def test_a_routed_article_is_the_requests_own_copy(site):
    # given an article as the routes keep it: a few fields loaded, the rest deferred
    kept = ArticlePage.objects.only(*routing.ROUTE_FIELDS).get(pk=site["lead"].pk)
    # when a request gets its copy, loads a deferred field on it and marks it
    own = routing.own_copy(kept)
    assert own.body and own.deck is not None
    own.known_unrestricted = True
    # then the copy has the kept fields, and the kept article is as it was
    assert (own.pk, own.title, own.url_path) == (kept.pk, kept.title, kept.url_path)
    assert own._state is not kept._state and own._state.db == kept._state.db
    assert kept.get_deferred_fields() >= {"body", "deck"}
    assert "known_unrestricted" not in kept.__dict__


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


# --- slugs that a parent's own addresses would hide (news.reserved_slugs) ---------------


def with_body(data):
    """An article form's body as the browser's script would post it."""
    for key in [key for key in data if key.startswith("body-")]:
        del data[key]
    blocks = streamfield([("paragraph", rich_text("<p>One.</p><p>Two.</p>"))])
    data.update(nested_form_data({"body": blocks}))
    return data


def add_form(client, model: str, parent, **changes):
    """Wagtail's add form for a `model` page under `parent`, as rendered, with `changes`."""
    url = f"/admin/pages/add/news/{model}/{parent.pk}/"
    data = querydict_from_html(client.get(url).content.decode(), form_id="page-edit-form")
    if model == "articlepage":
        with_body(data)
        data.update(
            {
                "article_authors-TOTAL_FORMS": "1",
                "article_authors-INITIAL_FORMS": "0",
                "article_authors-0-author": str(Author.objects.first().pk),
                "article_authors-0-ORDER": "1",
                "article_authors-0-id": "",
                "article_authors-0-DELETE": "",
            }
        )
    for name, value in changes.items():
        data[name] = value
    return url, data


def slug_errors(response) -> str:
    soup = BeautifulSoup(response.content, "html.parser")
    field = soup.select_one("[data-field-wrapper] #id_slug, #id_slug")
    wrapper = field.find_parent(attrs={"data-field-wrapper": True}) if field else None
    return (wrapper or soup).get_text(" ", strip=True)


@pytest.mark.parametrize(("slug", "title"), [("feed", "Feed review"), ("", "Feed")])
def test_the_editor_refuses_an_article_slug_that_the_sections_feed_would_hide(
    site, admin_client, slug, title
):
    # given an article filled in under World, its slug "feed" typed or made from the title
    url, data = add_form(admin_client, "articlepage", site["world"], title=title, slug=slug)
    # when it is saved
    response = admin_client.post(url, data)
    # then the form comes back with a message on the slug, and no page is made
    assert response.status_code == 200
    assert "“feed” cannot be used here: /world/feed/ is already an address" in slug_errors(response)
    assert not ArticlePage.objects.filter(title=title).exists()


@pytest.mark.parametrize("slug", ["topics", "rss", "search", "account"])
def test_the_editor_refuses_a_section_slug_that_the_home_page_or_the_site_answers(
    site, admin_client, slug
):
    # given a section under the home page at a route of the home page's or a site URL
    url, data = add_form(admin_client, "sectionpage", site["home"], title="Desk", slug=slug)
    # when
    response = admin_client.post(url, data)
    # then
    assert response.status_code == 200
    assert f"“{slug}” cannot be used here: /{slug}/" in slug_errors(response)
    assert not SectionPage.objects.filter(slug=slug).exists()


def test_renaming_an_articles_slug_to_a_hidden_address_is_refused(site, admin_client):
    # given a published article's edit form
    article = site["lead"]
    url = f"/admin/pages/{article.pk}/edit/"
    data = querydict_from_html(admin_client.get(url).content.decode(), form_id="page-edit-form")
    with_body(data)
    data["slug"] = "feed"
    # when
    response = admin_client.post(url, data)
    # then
    assert response.status_code == 200
    assert slug_errors(response).count("“feed” cannot be used here") == 1
    assert ArticlePage.objects.get(pk=article.pk).slug != "feed"


def test_a_page_saved_outside_the_editor_is_refused_too(site):
    with pytest.raises(ValidationError) as refused:
        make_article(site["world"], "Feed", slug="feed")
    assert "slug" in refused.value.message_dict


def test_a_slug_that_only_starts_like_a_route_is_accepted(site, admin_client):
    # given
    url, data = add_form(
        admin_client, "articlepage", site["world"], title="Feeds", slug="feed-reader-review"
    )
    # when
    response = admin_client.post(url, data)
    # then the article is made, and its address is its own
    assert response.status_code == 302, slug_errors(response)[:2000]
    article = ArticlePage.objects.get(slug="feed-reader-review")
    assert article.url == "/world/feed-reader-review/"
