"""The offers page in a real browser, on a desktop and on a phone: every offer and every plan
is a card whose buy button is visible and reached with the Tab key, side by side on a wide
screen and stacked on a narrow one, with nothing scrolling sideways."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from masthead.subscriptions.models import Offer, Plan

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
STORY = "/world/a-story/"


@pytest.fixture(params=list(WIDTHS))
def screen(request, new_page):
    width, height = WIDTHS[request.param]
    page = new_page(viewport={"width": width, "height": height})
    page.wide = request.param == "desktop"
    return page


@pytest.fixture
def catalogue(publication):
    monthly = Plan.objects.create(
        name="Digital", slug="digital", price=Decimal("17.00"), interval="month"
    )
    yearly = Plan.objects.create(
        name="Digital, yearly", slug="digital-yearly", price=Decimal("170.00"), interval="year"
    )
    window = {"starts_at": timezone.now() - timedelta(days=1), "plan": monthly}
    ends = timezone.now() + timedelta(days=40)
    offers = [
        Offer.objects.create(
            name="Dollar", intro_price=Decimal("0.99"), intro_periods=1, ends_at=ends, **window
        ),
        Offer.objects.create(
            name="Nine", intro_price=Decimal("9"), intro_periods=3, ends_at=ends, **window
        ),
        Offer.objects.create(
            name="Trial", trial_days=14, eligibility="new", ends_at=ends, **window
        ),
    ]
    buy = {f"{reverse('subscribe-offer', args=[o.pk])}?next={STORY}" for o in offers}
    buy |= {f"{reverse('subscribe-plan', args=[p.slug])}?next={STORY}" for p in (monthly, yearly)}
    return buy


def focused_href(page):
    return page.evaluate("document.activeElement && document.activeElement.getAttribute('href')")


def test_every_card_has_a_visible_buy_button_reached_by_keyboard(screen, live_server, catalogue):
    page = screen
    page.goto(f"{live_server.url}/subscribe/?next={STORY}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Subscribe to")
    cards = page.locator("li.choice")
    expect(cards).to_have_count(5)
    for n in range(5):
        card = cards.nth(n)
        button = card.get_by_role("link")
        expect(button).to_have_count(1)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 24, box  # a target a finger can hit
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    # every buy button takes the focus, in the order of the cards, from the top of the page
    wanted = [cards.nth(n).get_by_role("link").get_attribute("href") for n in range(5)]
    assert set(wanted) == catalogue
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        href = focused_href(page)
        if href in catalogue and href not in reached:
            reached.append(href)
        if len(reached) == len(wanted):
            break
    assert reached == wanted
    # and Enter on the focused one follows it (an anonymous reader is asked to sign up)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{reverse('readers:sign-up')}**")


def test_cards_sit_side_by_side_on_a_desktop_and_stack_on_a_phone(screen, live_server, catalogue):
    page = screen
    page.goto(f"{live_server.url}/subscribe/")
    offers = page.locator("li.choice--offer")
    expect(offers).to_have_count(3)
    first, second = offers.nth(0).bounding_box(), offers.nth(1).bounding_box()
    if page.wide:
        assert abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"] + first["width"]
    else:
        assert second["y"] >= first["y"] + first["height"] and abs(first["x"] - second["x"]) < 1
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    yearly = page.locator("li.choice--plan").filter(has_text="Digital, yearly")
    expect(yearly).to_contain_text("Save 17% against monthly")
    # the questions open without JavaScript's help: <details>
    question = page.get_by_text("Can I cancel at any time?")
    question.click()
    expect(page.get_by_text("Cancel on your account page whenever you like")).to_be_visible()
