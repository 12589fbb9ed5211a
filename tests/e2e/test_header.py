"""The site header in a real browser, as each kind of reader meets it, on a desktop and on a
phone: anonymous readers find Subscribe and Sign in with the keyboard, signed-in readers open
their account menu with the keyboard and sign out from it, subscribers see that they are."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect
from wagtail.models import Site

from masthead.news.models import SectionPage
from masthead.subscriptions.models import Plan, Subscription

from .conftest import _publish
from .conftest import sign_in as signing_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "a long browser-test password"
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture(params=list(WIDTHS))
def screen(request, new_page):
    width, height = WIDTHS[request.param]
    return new_page(viewport={"width": width, "height": height})


def make_account(name, display_name=""):
    return get_user_model().objects.create_user(
        username=name,
        email=f"{name}@example.com",
        password=PASSWORD,
        email_verified=True,
        display_name=display_name,
    )


def subscribe(user):
    plan = Plan.objects.create(
        name="Digital",
        slug="digital",
        price="12.00",
        currency="USD",
        interval="month",
        web=True,
        apps=True,
    )
    Subscription.objects.create(
        user=user,
        plan=plan,
        status="active",
        current_period_end=timezone.now() + timedelta(days=30),
    )


def sign_in(page, live_server, account):
    signing_in(page, live_server, account.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")


def header(page):
    return page.locator("header.site-header")


def tab_to(page, locator, limit=25):
    """Presses Tab until `locator` has the focus: it is reachable by keyboard."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{locator} never took the focus in {limit} presses of Tab")


def assert_nothing_overflows(page):
    wider = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert wider <= 0, f"the page scrolls sideways by {wider}px"


def test_an_anonymous_reader_reaches_subscribe_and_sign_in_by_keyboard(
    screen, live_server, publication
):
    page = screen
    for path in ("/", publication.lead.url):
        # given an anonymous reader on the home page, then on an article
        page.goto(live_server.url + path)
        subscribe_link = header(page).get_by_role("link", name="Subscribe")
        sign_in_link = header(page).get_by_role("link", name="Sign in")
        # then Subscribe and Sign in are there and take the focus from the keyboard
        expect(subscribe_link).to_be_visible()
        expect(sign_in_link).to_be_visible()
        expect(subscribe_link).to_have_attribute("href", "/subscribe/")
        expect(sign_in_link).to_have_attribute(
            "href", "/account/sign-in/?next=" + path.replace("/", "%2F")
        )
        tab_to(page, subscribe_link)
        tab_to(page, sign_in_link)
        expect(header(page).locator("time")).to_be_visible()
        assert_nothing_overflows(page)
    # and Sign in brings the reader back to the article they were on
    page.keyboard.press("Enter")
    page.get_by_label("E-mail address").fill(make_account("returning").email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + publication.lead.url)
    expect(header(page).locator(".account-menu summary")).to_contain_text("returning@example.com")


def test_a_signed_in_reader_opens_the_account_menu_by_keyboard_and_signs_out(
    screen, live_server, publication
):
    page = screen
    account = make_account("ada", display_name="Ada Lovelace")
    sign_in(page, live_server, account)
    for path in (publication.lead.url, "/"):
        page.goto(live_server.url + path)
        menu = header(page).locator("details.account-menu")
        summary = menu.locator("summary")
        # the menu names the reader; closed, its links are hidden
        expect(summary).to_contain_text("Ada Lovelace")
        expect(header(page).get_by_role("link", name="Subscribe")).to_be_visible()
        expect(header(page).get_by_role("link", name="Sign in")).to_have_count(0)
        expect(menu.get_by_role("link", name="Your account")).to_be_hidden()
        # when the reader opens it with the keyboard
        tab_to(page, summary)
        page.keyboard.press("Enter")
        # then its links show and stay on screen
        account_link = menu.get_by_role("link", name="Your account")
        expect(account_link).to_be_visible()
        box = menu.locator(".account-menu__items").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
        assert_nothing_overflows(page)
        page.keyboard.press("Enter")  # closed again
        expect(account_link).to_be_hidden()
    # when the reader signs out from the menu, with the keyboard
    summary = header(page).locator(".account-menu summary")
    tab_to(page, summary)
    page.keyboard.press("Enter")
    sign_out = header(page).get_by_role("link", name="Sign out")
    tab_to(page, sign_out)
    page.keyboard.press("Enter")
    # then the sign-out page asks them to confirm, and its button signs them out
    page.wait_for_url(live_server.url + "/account/sign-out/")
    expect(page.locator("main").get_by_text(account.email)).to_be_visible()
    button = page.get_by_role("button", name="Sign out")
    tab_to(page, button)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    expect(header(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(header(page).locator(".account-menu")).to_have_count(0)
    page.goto(live_server.url + "/account/")
    assert "/account/sign-in/" in page.url


def test_a_subscriber_sees_the_subscriber_state_instead_of_subscribe(
    screen, live_server, publication
):
    page = screen
    account = make_account("sam")
    subscribe(account)
    sign_in(page, live_server, account)
    for path in ("/", publication.lead.url, publication.world.url):
        page.goto(live_server.url + path)
        expect(header(page).get_by_text("Subscriber", exact=True)).to_be_visible()
        expect(header(page).get_by_role("link", name="Subscribe")).to_have_count(0)
        expect(header(page).locator(".account-menu summary")).to_contain_text(account.email)
        assert_nothing_overflows(page)


def test_the_menu_works_without_javascript(new_page, live_server, publication):
    page = new_page(java_script_enabled=False, viewport={"width": 390, "height": 844})
    account = make_account("nojs", display_name="No Script")
    sign_in(page, live_server, account)
    page.goto(live_server.url + publication.lead.url)
    header(page).locator(".account-menu summary").click()
    header(page).get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live_server.url + "/")
    expect(header(page).get_by_role("link", name="Sign in")).to_be_visible()


def test_on_a_phone_the_headline_is_on_the_first_screen(new_page, live_server, publication):
    # given an anonymous reader on a phone, with the meter notice shown
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto(live_server.url + publication.lead.url)
    expect(page.locator(".meter-notice")).to_be_visible()
    # then the headline and the share-and-print row are on the first screen
    headline = page.get_by_role("heading", level=1).bounding_box()
    assert headline["y"] + headline["height"] <= 844
    share = page.get_by_role("navigation", name="Share this article")
    expect(share.get_by_role("link", name="Print")).to_be_in_viewport()
    assert_nothing_overflows(page)


def test_on_a_phone_four_sections_fit_the_strip_and_a_fifth_scrolls_it(
    new_page, live_server, publication
):
    home = Site.objects.get(is_default_site=True).root_page
    for title in ("Technology", "Markets"):
        _publish(home, SectionPage(title=title, slug=title.lower(), show_in_menus=True))
    page = new_page(viewport={"width": 390, "height": 844})
    strip = page.get_by_role("navigation", name="Sections")

    def overflow():
        return strip.evaluate("strip => strip.scrollWidth - strip.clientWidth")

    # given the demo's four sections, on a 390 px phone every one is in view, none cut off
    page.goto(live_server.url + "/world/")
    for title in ("World", "Business", "Technology", "Markets"):
        expect(strip.get_by_role("link", name=title)).to_be_in_viewport(ratio=1)
    assert overflow() <= 0
    # when there is a fifth, the strip scrolls sideways and the page itself does not
    _publish(home, SectionPage(title="Opinion", slug="opinion", show_in_menus=True))
    page.goto(live_server.url + "/world/")
    expect(strip.get_by_role("link", name="Opinion")).to_have_count(1)
    assert overflow() > 0
    assert_nothing_overflows(page)
