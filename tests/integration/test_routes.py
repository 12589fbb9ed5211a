import pytest
from django.test import Client
from django.urls import resolve, reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/world/",
        "/business/",
        "/series/",
        "/series/southern-compass/",
        "/world/seoul-and-jakarta-sign-pact/",
        "/world/seoul-and-jakarta-sign-pact/print/",
        "/authors/ada-reporter/",
        "/topics/korea/",
    ],
)
def test_public_pages_answer_200(site, client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert b"{{" not in response.content and b"{%" not in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/no-such-page/",
        "/world/no-such-story/",
        "/authors/nobody/",
        "/topics/no-such-topic/",
        "/world/seoul-and-jakarta-sign-pact/print/extra/",
    ],
)
def test_unknown_addresses_get_the_branded_404(site, client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"We could not find that page" in response.content


def test_unpublished_article_is_not_served(site, client):
    site["earlier"].unpublish()
    assert client.get("/world/seoul-pledges-aid/").status_code == 404


def test_server_error_page_is_branded_and_standalone(site):
    from django.urls import path as url_path

    from masthead import urls

    def explode(request):
        raise RuntimeError("boom")

    urls.urlpatterns.insert(0, url_path("explode/", explode))
    try:
        response = Client(raise_request_exception=False).get("/explode/")
    finally:
        urls.urlpatterns.pop(0)
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content


def test_bad_page_numbers_fall_back_instead_of_failing(site, client):
    for value in ["abc", "-1", "1' OR 1=1"]:
        response = client.get("/world/", {"page": value})
        assert response.status_code == 200, value
        assert b"Seoul and Jakarta sign pact" in response.content
    # A well-formed number past the last page is a page that does not exist.
    assert client.get("/world/", {"page": "99999"}).status_code == 404


def test_section_listing_paginates(site, client, settings):
    from tests.factories import make_article

    settings.MASTHEAD_LISTING_PAGE_SIZE = 10

    for n in range(11):
        make_article(site["business"], f"Filler story {n}", days_ago=10 + n)
    first = client.get("/business/").content.decode()
    second = client.get("/business/", {"page": 2}).content.decode()
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert "Filler story 10" in second and "Filler story 0" not in second


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/world/seoul-and-jakarta-sign-pact/", "wagtail_serve"),
        ("/", "wagtail_serve"),
        ("/_util/login/", "wagtailcore_login"),
        ("/_util/authenticate_with_password/1/2/", "wagtailcore_authenticate_with_password"),
        ("/subscribe/", "subscribe"),
        ("/search/", "search"),
    ],
)
def test_wagtail_routes_keep_their_names_after_every_route_of_ours(path, name):
    # given the site's URLs, Wagtail's listed after ours
    # when a path is resolved
    match = resolve(path)
    # then it reaches the view named for it, and the name gives the path back
    assert match.url_name == name
    assert reverse(name, args=match.args, kwargs=match.kwargs) == path
