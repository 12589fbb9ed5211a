"""The purchase path in a browser, from a paywalled story back to the same story in full:
offer → create an account → confirm by the e-mailed link → pay → thank-you → the story.
And a plan at its full price from the offers page, reached from the paywall or by the site
header's or the meter notice's plain Subscribe link, back to the story too. No page on the
way may be a dead end or a page that only repeats one button: each offers a real choice (two
or more links or buttons in its content, the site's header and footer aside), or is the
story itself."""

# The journeys' fixtures, imported by name, are parameters here (pytest's way): not F811.
# ruff: noqa: F811

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from masthead.subscriptions.models import Checkout, Plan, Subscription

from .test_subscription_journeys import (  # noqa: F401 - fixtures used by name
    DOLLAR,
    EXCLUSIVE,
    PAID,
    PASSWORD,
    PAYS,
    SUBSCRIBERS_ONLY,
    choose_offer,
    expect_full_text,
    expect_paywall,
    expect_withheld,
    link_in_mail,
    newsroom,
    open_article,
    pay,
    reader_account,
    sign_in,
    travel,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

ACTIONS = "main a[href]:visible, main button:visible"


def expect_a_real_choice(page, where: str) -> None:
    """The page's own content offers two or more ways on (the chrome aside)."""
    expect(page.locator(ACTIONS).first).to_be_visible()
    found = page.locator(ACTIONS).all_inner_texts()
    assert len(found) >= 2, f"{where} ({page.url}) offers only {found}"


def test_from_the_paywall_through_sign_up_and_payment_back_to_the_same_story(
    new_page, live_server, newsroom, travel, mailoutbox
):
    story = newsroom.exclusive
    page = new_page()
    # given an anonymous reader stopped by the paywall of a subscribers-only story
    open_article(page, live_server, story)
    panel = expect_paywall(
        page, SUBSCRIBERS_ONLY, ["Try 14 days free", DOLLAR, "Try 3 months for $9"]
    )
    expect_withheld(page, EXCLUSIVE)
    expect_a_real_choice(page, "the paywall")

    # when they choose "1 month for $0.99", they are asked to create an account (sign-in
    # offered beside it for readers who have one)
    choose_offer(page, panel, DOLLAR)
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a free account")
    expect(page.get_by_role("link", name="Already have an account? Sign in")).to_be_visible()
    expect_a_real_choice(page, "sign-up")
    page.get_by_label("E-mail address").fill("new.reader@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    expect_a_real_choice(page, "check your inbox")

    # and confirm their address by the e-mailed link, in the text part as in the HTML part
    link = link_in_mail(mailoutbox, "new.reader@example.com", "/account/verify/")
    (message,) = [m for m in mailoutbox if m.to == ["new.reader@example.com"]]
    html = message.alternatives[0][0] if message.alternatives else ""
    assert link.replace("&", "&amp;") in html or link in html
    page.goto(link)
    expect_a_real_choice(page, "confirm")
    page.get_by_role("button", name="Confirm my address").click()

    # then they are on the card page at once (no page that repeats "Subscribe") and pay
    expect(page.get_by_text("Test payments: no real card is charged.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(DOLLAR)
    expect_a_real_choice(page, "the card page")
    pay(page, PAYS)

    # and the thank-you page leads back to the story first, and to the account
    expect(page.locator(".checkout__status")).to_have_text(PAID)
    expect_a_real_choice(page, "thank you")
    back = page.get_by_role("link", name=f"Continue reading: {story.title}")
    expect(back).to_have_class("button")
    expect(page.locator("main").get_by_role("link", name="Your account")).to_be_visible()
    back.click()

    # where the same story reads in full, the paywalled paragraphs included
    expect(page).to_have_url(live_server.url + story.url)
    expect(page.get_by_role("heading", level=1)).to_have_text(story.title)
    expect_full_text(page, EXCLUSIVE)
    assert Checkout.objects.get().next_path == story.url


def test_a_yearly_plan_is_bought_at_full_price_from_the_offers_page(
    new_page, live_server, newsroom, travel, reader_account
):
    yearly = Plan.objects.create(
        name="Digital yearly",
        slug="digital-yearly",
        price=Decimal("170.00"),
        currency="USD",
        interval="year",
    )
    story = newsroom.exclusive
    page = new_page()
    sign_in(page, live_server, reader_account)
    # given a signed-in reader on the offers page, come from the story
    open_article(page, live_server, story)
    page.get_by_role("link", name="See all offers and subscribe").first.click()
    expect_a_real_choice(page, "the offers page")
    # when they buy the yearly plan
    plan = page.locator("li.choice--plan").filter(
        has=page.get_by_role("heading", name=yearly.name, exact=True)
    )
    plan.get_by_role("link").click()
    # then they pay its full price straight away
    expect(page.get_by_role("heading", level=1)).to_have_text(yearly.name)
    pay(page, PAYS, amount="$170")
    expect(page.locator(".checkout__status")).to_contain_text("$170")
    page.get_by_role("link", name=f"Continue reading: {story.title}").click()
    expect_full_text(page, EXCLUSIVE)
    subscription = Subscription.objects.get(user=reader_account)
    assert (subscription.plan, subscription.offer, subscription.status) == (yearly, None, "active")


@pytest.mark.parametrize(
    "subscribe",
    [".site-header .reader-menu__subscribe", ".meter-notice a"],
    ids=["header", "meter"],
)
def test_a_new_reader_follows_a_plain_subscribe_link_from_a_story_and_comes_back_to_it(
    new_page, live_server, newsroom, travel, mailoutbox, subscribe
):
    story = newsroom.metered[0]
    page = new_page()
    # given a new reader on a metered story, who follows a Subscribe link that carries no
    # story of its own (the header's and the meter notice's are shared by every page)
    open_article(page, live_server, story)
    page.locator(subscribe).click()
    expect(page).to_have_url(live_server.url + "/subscribe/")
    # when they buy the monthly plan at its regular price, creating an account on the way
    plan = page.locator("li.choice--plan").filter(
        has=page.get_by_role("heading", name=newsroom.plan.name, exact=True)
    )
    plan.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a free account")
    page.get_by_label("E-mail address").fill("header.reader@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.goto(link_in_mail(mailoutbox, "header.reader@example.com", "/account/verify/"))
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(newsroom.plan.name)
    pay(page, PAYS, amount="$17")
    # then the thank-you page leads back to the story they were reading
    expect(page.locator(".checkout__status")).to_contain_text("$17")
    page.get_by_role("link", name=f"Continue reading: {story.title}").click()
    expect(page).to_have_url(live_server.url + story.url)
    expect(page.get_by_role("heading", level=1)).to_have_text(story.title)
    assert Checkout.objects.get().next_path == story.url
