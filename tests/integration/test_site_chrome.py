"""The site chrome every page shares: the footer (sections, subscribe, account, the
publication's own pages chosen in Settings > Footer) and the document title, which ends with
the publication's name once on every reader-facing page, Django's auth views included."""

import re

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import get_resolver
from django.utils import timezone
from wagtail.models import Site

from masthead.news.models import FooterSettings, InfoPage
from tests.factories import publish
from tests.integration.subscription_factories import make_intro, make_plan

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
HOST = "127.0.0.1:8000"  # what Django's auth views would call the site


def info_pages(home):
    pages = {}
    for slug, title in [("about", "About us"), ("privacy", "Privacy"), ("terms", "Terms")]:
        pages[slug] = publish(home, InfoPage(title=title, slug=slug, body="<p>Words.</p>"))
    footer = FooterSettings.for_site(Site.objects.get(is_default_site=True))
    footer.about_page, footer.privacy_page = pages["about"], pages["privacy"]
    footer.save()
    return pages


def footer_of(response):
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    [footer] = soup.select("footer.site-footer")
    return footer


def links(footer):
    return {a.get_text(strip=True): a["href"] for a in footer.find_all("a")}


def title_of(response) -> str:
    found = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    assert found, response.content[:500]
    return found.group(1).strip()


# The footer


def test_the_footer_links_sections_series_subscribe_account_and_the_chosen_pages(site, client):
    # given an About and a Privacy page in the footer's settings (Terms exists, not chosen)
    info_pages(site["home"])
    # when
    footer = footer_of(client.get("/"))
    # then
    found = links(footer)
    assert found["World"] == "/world/" and found["Business"] == "/business/"
    assert found["All series"] == "/series/"
    assert found["Subscribe"] == settings.MASTHEAD_SUBSCRIBE_URL
    assert found["Your account"] == "/account/"
    assert found["About us"] == "/about/" and found["Privacy"] == "/privacy/"
    assert "Terms" not in found
    year = timezone.localdate().year
    assert f"© {year} {settings.MASTHEAD_SITE_NAME}" in footer.get_text(" ", strip=True)


def test_the_footer_leaves_out_a_chosen_page_once_it_is_unpublished(site, client):
    pages = info_pages(site["home"])
    pages["privacy"].unpublish()
    assert "Privacy" not in links(footer_of(client.get("/world/")))


def test_an_info_page_shows_its_text_under_its_title(site, client):
    pages = info_pages(site["home"])
    response = client.get(pages["about"].url)
    assert response.status_code == 200
    assert title_of(response) == f"About us | {settings.MASTHEAD_SITE_NAME}"
    assert "<p>Words.</p>" in response.content.decode()


def test_an_article_footer_is_the_same_for_a_subscriber_and_an_anonymous_reader(site, client):
    # given the article's frame cached by a signed-in reader first
    info_pages(site["home"])
    reader = get_user_model().objects.create_user(
        username="ada", email="ada@example.com", password=PASSWORD, email_verified=True
    )
    client.force_login(reader)
    signed_in = footer_of(client.get(site["lead"].url))
    # when an anonymous reader opens it
    anonymous = footer_of(type(client)().get(site["lead"].url))
    # then the footers are the same and name no one
    assert str(signed_in) == str(anonymous)
    assert "ada@example.com" not in str(anonymous) and "Sign out" not in str(anonymous)


def test_saving_the_footer_settings_reaches_the_cached_article_pages(site, client):
    # given an article page cached with an About link only
    pages = info_pages(site["home"])
    footer = FooterSettings.for_site(Site.objects.get(is_default_site=True))
    footer.privacy_page = None
    footer.save()
    assert "Terms" not in links(footer_of(client.get(site["lead"].url)))
    # when an editor adds the Terms page to the footer
    footer.terms_page = pages["terms"]
    footer.save()
    # then the cached article shows it at once
    assert links(footer_of(client.get(site["lead"].url)))["Terms"] == "/terms/"


def test_an_edited_info_page_title_reaches_the_cached_article_footers(site, client):
    pages = info_pages(site["home"])
    assert "About us" in links(footer_of(client.get(site["lead"].url)))
    pages["about"].title = "Who we are"
    pages["about"].save_revision().publish()
    assert "Who we are" in links(footer_of(client.get(site["lead"].url)))


# Titles


def title_is_right(path, response):
    title = title_of(response)
    name = settings.MASTHEAD_SITE_NAME
    assert title.endswith(name), (path, title)
    assert title.count(name) == 1, (path, title)
    assert HOST not in title and "testserver" not in title, (path, title)
    # nor in the site's header or footer (links and the print view's source may name it)
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    for chrome in soup.select("body > header, body > footer"):
        assert HOST not in chrome.get_text(" "), path


def link_in(message, kind):
    found = re.search(rf"http://[^/\s]+(/account/{kind}/[^\s\"]+/)", message.body)
    assert found, message.body
    return found.group(1)


# Reader pages a GET cannot show, and why: each is checked elsewhere through the page that
# answers it, or answers with a redirect.
NOT_PAGES = {
    "sign-out-everywhere": "POST, redirects",
    "verify-email-resend": "POST, redirects to the account page",
    "change-display-name": "POST, redirects to the account page",
    "sign-in-link-code": "POST from the sign-in-link-sent page, answered by it",
}


def test_every_reader_facing_page_is_titled_with_the_publication_once(site, client):
    # given a publication with an offer and an information page
    info_pages(site["home"])
    offer = make_intro(make_plan(), timezone.now())
    seen = {}

    def check(path, response, name=None):
        assert response.status_code in (200, 400, 404), (path, response.status_code)
        title_is_right(path, response)
        if name:
            seen[name] = path

    def get(path, name=None, **extra):
        response = client.get(path, HTTP_HOST=HOST, **extra)
        check(path, response, name)
        return response

    def post(path, data, name=None):
        response = client.post(path, data, HTTP_HOST=HOST)
        check(path, response, name)
        return response

    # when every public page is opened
    for path in [
        "/",
        "/world/",
        "/series/",
        site["series"].url,
        site["lead"].url,
        site["lead"].url + "print/",
        "/authors/ada-reporter/",
        "/topics/korea/",
        "/about/",
        "/subscribe/",
        "/no-such-page/",
    ]:
        get(path)
    # and every page of an account's life, from sign-up on
    get("/account/sign-up/", "sign-up")
    post("/account/sign-up/", {"email": "new@example.com", "password": PASSWORD})
    verify = link_in(mail.outbox[-1], "verify")
    get(verify, "verify-email")
    post(verify, {})  # the "verified" page (with a next page it would go there)
    get("/account/verify/not-a-token/")
    client.logout()
    get("/account/sign-in/", "sign-in")
    get("/account/sign-in/link/", "sign-in-link")
    post("/account/sign-in/link/", {"email": "new@example.com"})
    get(link_in(mail.outbox[-1], "sign-in/link"), "sign-in-link-confirm")
    get("/account/sign-in/link/not-a-token/")
    get("/account/password/reset/", "password-reset")
    client.post("/account/password/reset/", {"email": "new@example.com"}, HTTP_HOST=HOST)
    get("/account/password/reset/sent/", "password-reset-sent")
    reset = re.search(r"http://[^/\s]+(/account/password/reset/\S+/\S+/)", mail.outbox[-1].body)
    form = client.get(reset.group(1), follow=True, HTTP_HOST=HOST)
    check(reset.group(1), form, "password-reset-confirm")
    get("/account/password/reset/MQ/not-a-token/")
    get("/account/password/reset/done/", "password-reset-complete")
    client.post("/account/sign-in/", {"username": "new@example.com", "password": PASSWORD})
    get("/account/", "account")
    post("/account/feed/", {"action": "make"}, "private-feed")  # shows the address once
    get("/account/email/", "change-email")
    post("/account/email/", {"email": "newer@example.com", "password": PASSWORD})
    get(f"/subscribe/{offer.pk}/", follow=True)  # on to the test provider's checkout page
    get("/account/sign-out/", "sign-out")  # the header's link: one button that signs out

    # then each answered with the right title, and no reader page went unvisited
    names = {
        pattern.name
        for pattern in get_resolver("masthead.readers.urls").url_patterns
        if pattern.name
    }
    missing = names - set(seen) - set(NOT_PAGES)
    assert not missing, f"reader pages without a title check: {sorted(missing)}"


def test_pages_load_one_stylesheet_and_the_banners_are_styled_by_it(site, client):
    # the campaign banners' few rules live in site.css: no stylesheet of their own to fetch
    soup = BeautifulSoup(client.get("/").content.decode(), "html.parser")
    sheets = [link["href"] for link in soup.select('link[rel="stylesheet"]')]
    screen = [
        link["href"] for link in soup.select('link[rel="stylesheet"]') if not link.get("media")
    ]
    assert len(screen) == 1 and screen[0].endswith("masthead/css/site.css"), sheets
    assert not any("banners" in href for href in sheets)
    css = (settings.BASE_DIR / "masthead/static/masthead/css/site.css").read_text()
    for rule in (".campaign-banner--free-access", ".campaign-banner--announcement"):
        assert rule in css


def test_the_footer_links_are_chosen_in_the_admin(site, client):
    editor = get_user_model().objects.create_superuser(
        username="chief", email="chief@example.com", password=PASSWORD
    )
    client.force_login(editor)
    response = client.get("/admin/settings/news/footersettings/", follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("About page", "Contact page", "Privacy page", "Terms page"):
        assert label in html, label


def test_the_audited_pages_describe_themselves_once(site, client):
    # home, an article, the offers and the account page: what docs/review.md audits
    reader = get_user_model().objects.create_user(
        username="described@example.com", email="described@example.com", password=PASSWORD
    )
    client.force_login(reader)
    for path in ["/", site["lead"].url, "/subscribe/", "/account/"]:
        soup = BeautifulSoup(client.get(path).content.decode(), "html.parser")
        descriptions = soup.select('head meta[name="description"]')
        assert len(descriptions) == 1, path
        assert descriptions[0]["content"].strip(), path
