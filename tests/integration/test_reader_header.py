"""The site header knows the reader: Subscribe and Sign in for anonymous readers, an account
menu for signed-in ones, a Subscriber state for entitled ones. Article pages come from a
cached frame shared by every reader, so the menu is a slot filled per request
(masthead.news.rendering); every other page renders it per request."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone
from wagtail.models import Site

from masthead.access.models import MeterSettings
from masthead.subscriptions.models import Subscription
from masthead.urls import urlpatterns as site_urlpatterns
from tests.integration.subscription_factories import make_plan, make_reader

pytestmark = pytest.mark.django_db

# The site's routes without site search, for the header of a site that has none
# (pytest.mark.urls names this module).
urlpatterns = [route for route in site_urlpatterns if getattr(route, "name", None) != "search"]


@pytest.fixture
def subscriber():
    found = make_reader()
    found.display_name = "Sam Subscriber"
    found.save()
    Subscription.objects.create(
        user=found,
        plan=make_plan(),
        status="active",
        current_period_end=timezone.now() + timedelta(days=30),
    )
    return found


@pytest.fixture
def other_reader():
    found = make_reader()
    found.display_name = "Olga Other"
    found.save()
    return found


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def header_of(response):
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").select_one("header.site-header")


def private(response) -> bool:
    return "private" in response.get("Cache-Control", "")


def assert_shows_subscriber(header, subscriber):
    assert (
        header.select_one(".account-menu summary")
        .get_text(" ", strip=True)
        .endswith("Sam Subscriber")
    )
    assert header.select_one(".reader-menu__subscriber").get_text(strip=True) == "Subscriber"
    assert header.select_one(".reader-menu__subscribe") is None
    assert header.select_one(".reader-menu__sign-in") is None
    sign_out = header.select_one(".account-menu a.account-menu__sign-out")
    assert sign_out["href"] == "/account/sign-out/"
    assert header.select_one(".account-menu form") is None
    assert header.select_one('input[name="csrfmiddlewaretoken"]') is None


def assert_shows_anonymous(header, path, *strangers):
    assert header.select_one(".reader-menu__subscribe")["href"] == "/subscribe/"
    sign_in = urlsplit(header.select_one(".reader-menu__sign-in")["href"])
    assert sign_in.path == "/account/sign-in/"
    assert parse_qs(sign_in.query) == {"next": [path]}
    assert header.select_one(".account-menu") is None
    assert header.select_one(".reader-menu__subscriber") is None
    assert header.select_one('input[name="csrfmiddlewaretoken"]') is None
    assert_shows_none_of(header, *strangers)


def assert_shows_other(header, *strangers):
    assert (
        header.select_one(".account-menu summary").get_text(" ", strip=True).endswith("Olga Other")
    )
    assert header.select_one(".reader-menu__subscribe")["href"] == "/subscribe/"
    assert header.select_one(".reader-menu__subscriber") is None
    assert_shows_none_of(header, *strangers)


def assert_shows_none_of(header, *strangers):
    text = str(header)
    for stranger in strangers:
        assert stranger.email not in text
        assert stranger.display_name not in text


def test_readers_alternating_through_a_cached_article_each_see_only_their_own_header(
    site, subscriber, other_reader, rendered_templates
):
    article = site["lead"].url
    # The site's meter settings exist before any reader comes (creating them changes pages).
    MeterSettings.for_site(Site.objects.get(is_default_site=True))
    # given a subscriber who opens the article first (it renders the shared frame)
    seen = signed_in(subscriber).get(article)
    assert "news/article_page.html" in rendered_templates
    assert_shows_subscriber(header_of(seen), subscriber)
    assert private(seen)
    # when an anonymous reader, then another signed-in reader, open the same article
    rendered_templates.clear()
    anonymous = Client().get(article)
    after_anonymous = list(rendered_templates)
    rendered_templates.clear()
    other = signed_in(other_reader).get(article)
    # then both came from the cached frame (nothing of the page rendered again; the anonymous
    # reader's menu came with the frame, the other reader's is made for their name and state)
    assert "news/article_page.html" not in after_anonymous
    assert "includes/reader_menu.html" not in after_anonymous
    assert "news/article_page.html" not in rendered_templates
    # and each saw only their own state
    assert_shows_anonymous(header_of(anonymous), article, subscriber, other_reader)
    assert_shows_other(header_of(other), subscriber)
    assert private(other)
    # and the subscriber, once more from the cache, still sees theirs, not the others'
    again = signed_in(subscriber).get(article)
    assert_shows_subscriber(header_of(again), subscriber)
    assert_shows_none_of(header_of(again), other_reader)


def test_a_free_article_is_private_for_a_signed_in_reader_and_shared_for_anonymous_ones(
    site, other_reader
):
    free = site["sponsored"].url
    mine = signed_in(other_reader).get(free)
    assert_shows_other(header_of(mine))
    assert private(mine)
    theirs = Client().get(free)
    assert_shows_anonymous(header_of(theirs), free, other_reader)
    assert not private(theirs)
    assert "Cookie" in theirs["Vary"]  # a shared cache keeps it apart from signed-in readers'


@pytest.mark.parametrize("page", ["home", "world"])
def test_home_and_section_pages_show_each_reader_their_own_header(
    site, subscriber, other_reader, page
):
    url = site[page].url
    seen = signed_in(subscriber).get(url)
    assert_shows_subscriber(header_of(seen), subscriber)
    assert private(seen)
    anonymous = Client().get(url)
    assert_shows_anonymous(header_of(anonymous), url, subscriber)
    other = signed_in(other_reader).get(url)
    assert_shows_other(header_of(other), subscriber)
    assert private(other)


def test_the_account_menu_shows_the_display_name_a_reader_sets_or_else_their_address(site):
    # given a signed-in reader without a display name: the header shows their address
    reader = make_reader()
    client = signed_in(reader)
    summary = header_of(client.get("/")).select_one(".account-menu summary")
    assert reader.email in summary.get_text()
    # when they set one on the account page
    form = BeautifulSoup(client.get("/account/").content, "html.parser").select_one(
        'form[action="/account/name/"]'
    )
    assert form.select_one('input[name="display_name"]') is not None
    saved = client.post("/account/name/", {"display_name": "  Ada L.  "})
    # then the header names them so, on article pages too
    assert saved.status_code == 302 and saved["Location"] == "/account/"
    for url in ("/", site["lead"].url):
        summary = header_of(client.get(url)).select_one(".account-menu summary")
        assert summary.get_text(" ", strip=True).endswith("Ada L.")
        assert reader.email not in summary.get_text()
    # and emptying it brings the address back
    client.post("/account/name/", {"display_name": ""})
    assert reader.email in header_of(client.get("/")).select_one(".account-menu").get_text()


def test_a_display_name_that_is_too_long_is_refused_with_the_error_beside_the_field(site):
    reader = make_reader()
    client = signed_in(reader)
    response = client.post("/account/name/", {"display_name": "x" * 61})
    assert response.status_code == 400
    field = BeautifulSoup(response.content, "html.parser").select_one("#id_display_name")
    assert field["aria-invalid"] == "true"
    reader.refresh_from_db()
    assert reader.display_name == ""


def sign_out_form(client, url: str):
    page = client.get(url)
    assert page.status_code == 200
    return BeautifulSoup(page.content, "html.parser").select_one(f'form[action="{url}"]')


def test_signing_out_from_the_header_takes_the_sign_out_pages_button(site, other_reader):
    # given a signed-in reader on an article
    client = Client(enforce_csrf_checks=True)
    client.force_login(other_reader)
    header = header_of(client.get(site["world"].url))
    # when they follow the menu's Sign out link
    url = header.select_one(".account-menu__sign-out")["href"]
    form = sign_out_form(client, url)
    # then opening the page alone has not signed them out
    assert header_of(client.get("/")).select_one(".account-menu") is not None
    # and its button does, with the token the page carries
    assert form["method"] == "post"
    token = form.select_one('input[name="csrfmiddlewaretoken"]')["value"]
    assert form.select_one("button").get_text(strip=True) == "Sign out"
    response = client.post(form["action"], {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/"
    assert header_of(client.get("/")).select_one(".reader-menu__sign-in") is not None
    # and the page now says they are signed out, with no button
    assert sign_out_form(client, url) is None
    assert "You are signed out." in client.get(url).content.decode()


def test_signing_out_takes_the_readers_own_token(site):
    # given two signed-in readers who share a display name and state, so their article
    # menus are one render (news.rendering keeps it per state and language)
    first, second = make_reader(), make_reader()
    clients = []
    for reader in (first, second):
        reader.display_name = "Pat Same"
        reader.save()
        client = Client(enforce_csrf_checks=True)
        client.force_login(reader)
        clients.append(client)
    menus = [str(header_of(c.get(site["lead"].url)).select_one(".account-menu")) for c in clients]
    assert menus[0] == menus[1] and "csrfmiddlewaretoken" not in menus[0]
    # then each sign-out page carries a token of its own reader
    forms = [sign_out_form(c, "/account/sign-out/") for c in clients]
    tokens = [form.select_one('input[name="csrfmiddlewaretoken"]')["value"] for form in forms]
    # and the other's token does not sign the second reader out
    refused = clients[1].post("/account/sign-out/", {"csrfmiddlewaretoken": tokens[0]})
    assert refused.status_code == 403
    for client, token in zip(clients, tokens, strict=True):
        response = client.post("/account/sign-out/", {"csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert header_of(client.get("/")).select_one(".reader-menu__sign-in") is not None


@pytest.mark.urls(__name__)
def test_no_search_form_while_site_search_has_no_route(site):
    assert header_of(Client().get("/")).select_one('form[role="search"]') is None


def test_the_search_form_appears_once_a_route_named_search_exists(site):
    for url in ("/", site["lead"].url):
        form = header_of(Client().get(url)).select_one('form[role="search"]')
        assert form["action"] == "/search/" and form["method"] == "get"
        field = form.select_one('input[type="search"]')
        assert field["name"] == "q"
        assert form.select_one(f'label[for="{field["id"]}"]').get_text(strip=True)


def test_the_masthead_dates_the_paper_in_the_newsrooms_time_zone(site, settings, time_machine):
    # given a moment when the newsroom's day is ahead of UTC's (Tokyo: 9 hours)
    settings.TIME_ZONE = "Asia/Tokyo"
    time_machine.move_to(datetime(2026, 10, 15, 20, 30, tzinfo=UTC), tick=False)
    article = site["lead"].url
    # then home and the article show the newsroom's date
    for url in ("/", article):
        date = header_of(Client().get(url)).select_one(".site-header__date time")
        assert date["datetime"] == "2026-10-16"
        assert date.get_text() == "Friday 16 October 2026"
    # and when the newsroom's day turns, the cached article frame shows the new one
    time_machine.move_to(datetime(2026, 10, 16, 15, 5, tzinfo=UTC), tick=False)
    date = header_of(Client().get(article)).select_one(".site-header__date time")
    assert date["datetime"] == "2026-10-17"
