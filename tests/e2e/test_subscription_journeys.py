"""Subscriptions as a reader's browser meets them, with the offline `test` payment provider:
taking "Try 1 month for $0.99" from the paywall to the full text, a declined card, a
cancellation that runs to the end of the period, and a free trial that ends unpaid.

The catalogue, the readers who already have an account, and the clock are set up in Python;
everything a reader does is clicks and form fills (e-mailed links come from the outbox).
Time travel moves the whole clock with time-machine (the live server runs in this
process): the access decision, the offers, checkout, payments, the account page, sessions
and sign-in links all read masthead.core.clock or the standard library under it. It stands
still between moves, so what a page says at a moment is exact."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import dateformat, timezone
from playwright.sync_api import expect
from wagtail.models import Site
from wagtail.rich_text import RichText

from masthead.access.models import MeterSettings
from masthead.news.models import SectionPage
from masthead.subscriptions.models import Offer, Plan
from masthead.subscriptions.offers import Interval, add_periods

from .conftest import _article, _home, _publish
from .conftest import sign_in as signing_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # where every journey starts
ALLOWANCE = 2  # free metered articles a month, anonymous or not yet confirmed
TEASER_PARAGRAPHS = 1
PARAGRAPHS = 4
EXCLUSIVE = "X"  # the story "number" of the subscribers-only article

DOLLAR = "Try 1 month for $0.99"
NINE = "Try 3 months for $9"
TRIAL = "Try 14 days free"
TRIAL_DAYS = 14

PAYS = "4242 4242 4242 4242"
DECLINES = "4000 0000 0000 0002"
DECLINED_MESSAGE = "Your card was declined. No payment was taken and no subscription started."
PAID = re.compile(
    r"Thank you: your payment of \$0\.99 has been received and your subscription has started\."
)
PASSWORD = "harbour lights at dawn"

EXHAUSTED = "You have read all your free articles this month"
SUBSCRIBERS_ONLY = "This article is for subscribers"
TRIAL_EXPIRED = "Your trial period has expired"


def access_expired() -> str:
    return f"Your full access to {settings.MASTHEAD_SITE_NAME} has expired"


def paragraph(story, n):
    return f"Bulletin {story}, paragraph {n}: the tide tables for quay {story}-{n} were reprinted."


def story_body(story):
    texts = (paragraph(story, n) for n in range(1, PARAGRAPHS + 1))
    return [("paragraph", RichText(f"<p>{text}</p>")) for text in texts]


def long_date(moment) -> str:
    """A date as the account page writes it, in the site's time zone."""
    return dateformat.format(timezone.localtime(moment), "j F Y")


@dataclass
class Newsroom:
    metered: list
    exclusive: object
    plan: Plan
    dollar: Offer
    nine: Offer
    trial: Offer


@pytest.fixture
def newsroom(transactional_db):
    """Three metered stories (two free a month), one for subscribers, and a $17 plan with
    three offers: 1 month for $0.99 and 3 months for $9 for everyone, 14 days free for new
    readers. The offers run well past every journey's time travel."""
    cache.clear()  # Wagtail caches the site's root paths; the tables were just flushed
    home = _home("The Test Gazette")
    world = _publish(home, SectionPage(title="World", slug="world", show_in_menus=True))
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = ALLOWANCE
    config.registered_allowance = ALLOWANCE + 1
    config.teaser_paragraphs = TEASER_PARAGRAPHS
    config.save()
    published = timezone.now().replace(microsecond=0)
    metered = [
        _article(
            world,
            f"Quay bulletin {n}",
            slug=f"quay-bulletin-{n}",
            when=published - timedelta(hours=n),
            authors=[],
            body=story_body(n),
        )
        for n in range(1, 4)
    ]
    exclusive = _article(
        world,
        "What the port board decided",
        slug="what-the-port-board-decided",
        when=published - timedelta(hours=5),
        authors=[],
        body=story_body(EXCLUSIVE),
        access="subscribers",
    )
    plan = Plan.objects.create(
        name="Digital", slug="digital", price=Decimal("17.00"), currency="USD", interval="month"
    )
    window = {"starts_at": NOW - timedelta(days=30), "ends_at": NOW + timedelta(days=90)}

    def offer(name, position, **terms):
        return Offer.objects.create(
            plan=plan, name=name, paywall_position=position, **window, **terms
        )

    return Newsroom(
        metered=metered,
        exclusive=exclusive,
        plan=plan,
        dollar=offer("Dollar month", 2, intro_price=Decimal("0.99"), intro_periods=1),
        nine=offer("Three for nine", 3, intro_price=Decimal("9.00"), intro_periods=3),
        trial=offer("Fortnight", 1, trial_days=TRIAL_DAYS, eligibility="new"),
    )


@pytest.fixture
def travel(time_machine):
    """Sets the clock; every journey starts at NOW."""

    def to(moment):
        time_machine.move_to(moment, tick=False)

    to(NOW)
    return to


@pytest.fixture
def reader_account(transactional_db):
    """A reader who already has an account (and a confirmed address), but no subscription."""
    return get_user_model().objects.create_user(
        username="reader", email="reader@example.com", password=PASSWORD, email_verified=True
    )


# --- What a reader does ----------------------------------------------------------------------


def open_article(page, live_server, article):
    response = page.goto(live_server.url + article.url)
    assert response is not None and response.status == 200, response
    expect(page.get_by_role("heading", level=1)).to_have_text(article.title)


def link_in_mail(outbox, address, path):
    """The link to `path` in the one e-mail sent to `address`."""
    sent = [message for message in outbox if message.to == [address]]
    assert len(sent) == 1, [(message.to, message.subject) for message in outbox]
    found = re.search(rf"https?://\S+{re.escape(path)}\S+", sent[0].body)
    assert found, sent[0].body
    return found.group(0)


def sign_in(page, live_server, account):
    signing_in(page, live_server, account.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")


def offer_card(page, where, headline):
    """The priced choice (paywall or offers page) whose headline is `headline`."""
    return where.locator("li.choice--offer").filter(
        has=page.get_by_role("heading", name=headline, exact=True)
    )


def choose_offer(page, where, headline):
    """The paywall shows the offers editors placed in it, each with its buy link."""
    offer_card(page, where, headline).get_by_role("link").click()


def choose_from_all_offers(page, where, headline):
    """The paywall's link to every offer, and one picked there."""
    where.get_by_role("link", name="See all offers and subscribe").click()
    offer_card(page, page, headline).get_by_role("link").click()


def start_checkout(page, headline):
    """An offer's buy link leads straight to the provider's card page, no page between."""
    expect(page.get_by_text("Test payments: no real card is charged.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(headline)


def pay(page, card, amount="$0.99"):
    expect(page.get_by_text(f"Pay {amount} today")).to_be_visible()
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name=f"Pay {amount}").click()


def subscribe_to_dollar_offer(page, live_server, newsroom):
    """A signed-in reader takes 1 month for $0.99 and pays with the card that works."""
    open_article(page, live_server, newsroom.exclusive)
    choose_offer(page, page.get_by_role("region", name=SUBSCRIBERS_ONLY), DOLLAR)
    start_checkout(page, DOLLAR)
    pay(page, PAYS)
    expect(page.locator(".checkout__status")).to_have_text(PAID)


# --- What the reader sees --------------------------------------------------------------------


def expect_full_text(page, story):
    body = page.locator(".article__body")
    for n in range(1, PARAGRAPHS + 1):
        expect(body.get_by_text(paragraph(story, n), exact=True)).to_be_visible()
    expect(page.locator("section.paywall")).to_have_count(0)


def expect_paywall(page, heading, offers):
    """The panel with `heading`, naming exactly `offers` (in the editors' order), after the
    teaser."""
    panel = page.get_by_role("region", name=heading)
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).to_have_text(heading)
    expect(panel.locator(".choice__headline")).to_have_text(offers)
    expect(page.locator(".article__body p")).to_have_count(TEASER_PARAGRAPHS)
    assert 'class="paywalled-content"' not in page.content()
    return panel


def expect_withheld(page, story):
    """What the teaser leaves out is not in the page at all, not merely hidden."""
    html = page.content()
    for n in range(TEASER_PARAGRAPHS + 1, PARAGRAPHS + 1):
        assert paragraph(story, n) not in html, f"paragraph {n} leaked"


def expect_subscription_status(page, live_server, words):
    page.goto(live_server.url + "/account/")
    status = page.locator(".account-subscription__status")
    expect(status).to_have_count(1)
    expect(status).to_have_text(words)


# --- Journeys ------------------------------------------------------------------------------


def test_anonymous_reader_takes_the_dollar_offer_from_the_paywall_and_reads_everything(
    new_page, live_server, newsroom, travel, mailoutbox
):
    # given an anonymous reader who has read the month's free articles
    page = new_page()
    for story, article in enumerate(newsroom.metered[:ALLOWANCE], start=1):
        open_article(page, live_server, article)
        expect_full_text(page, story)
    blocked = newsroom.metered[ALLOWANCE]
    open_article(page, live_server, blocked)
    panel = expect_paywall(page, EXHAUSTED, [TRIAL, DOLLAR, NINE])
    expect_withheld(page, ALLOWANCE + 1)

    # when they pick "Try 1 month for $0.99", sign up on the way, and pay with 4242
    choose_offer(page, panel, DOLLAR)
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a free account")
    page.get_by_label("E-mail address").fill("new.reader@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    page.goto(link_in_mail(mailoutbox, "new.reader@example.com", "/account/verify/"))
    page.get_by_role("button", name="Confirm my address").click()
    start_checkout(page, DOLLAR)
    expect(page.get_by_text("$0.99 for the first month, then $17 a month")).to_be_visible()
    pay(page, PAYS)

    # then the payment is acknowledged and every paywalled story reads in full
    expect(page.locator(".checkout__status")).to_have_text(PAID)
    for story, article in enumerate(newsroom.metered, start=1):
        open_article(page, live_server, article)
        expect_full_text(page, story)
        expect(page.locator(".meter-notice")).to_have_count(0)
    open_article(page, live_server, newsroom.exclusive)
    expect_full_text(page, EXCLUSIVE)
    expect_subscription_status(
        page, live_server, f"Active, renews on {long_date(add_periods(NOW, Interval.MONTH))}"
    )


def test_a_declined_card_grants_nothing_and_says_so_then_a_good_card_pays(
    new_page, live_server, newsroom, travel, reader_account
):
    # given a signed-in reader at the card page for 1 month for $0.99
    page = new_page()
    sign_in(page, live_server, reader_account)
    open_article(page, live_server, newsroom.exclusive)
    panel = expect_paywall(page, SUBSCRIBERS_ONLY, [TRIAL, DOLLAR, NINE])
    choose_offer(page, panel, DOLLAR)
    start_checkout(page, DOLLAR)
    card_page = page.url

    # when they pay with the card that is declined
    pay(page, DECLINES)

    # then the card page says so, and nothing was granted
    expect(page.get_by_role("alert")).to_have_text(DECLINED_MESSAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text(DOLLAR)
    expect(page.get_by_label("Card number")).to_be_visible()
    assert page.url == card_page
    open_article(page, live_server, newsroom.exclusive)
    expect_paywall(page, SUBSCRIBERS_ONLY, [TRIAL, DOLLAR, NINE])
    expect_withheld(page, EXCLUSIVE)
    page.goto(live_server.url + "/account/")
    expect(page.get_by_text("You have no subscription.")).to_be_visible()

    # when they come back to the same offer and pay with the card that works
    choose_from_all_offers(page, page.locator(".account-subscriptions"), DOLLAR)
    start_checkout(page, DOLLAR)
    assert page.url == card_page  # the same checkout, not a second one
    pay(page, PAYS)

    # then they are subscribed and read the story
    expect(page.locator(".checkout__status")).to_have_text(PAID)
    open_article(page, live_server, newsroom.exclusive)
    expect_full_text(page, EXCLUSIVE)


def test_a_cancelled_subscription_reads_to_the_period_end_then_shows_access_expired(
    new_page, live_server, newsroom, travel, reader_account
):
    # given a reader who subscribed to 1 month for $0.99 today
    page = new_page()
    sign_in(page, live_server, reader_account)
    subscribe_to_dollar_offer(page, live_server, newsroom)
    period_end = add_periods(NOW, Interval.MONTH)
    expect_subscription_status(page, live_server, f"Active, renews on {long_date(period_end)}")

    # when they cancel on the account page
    page.get_by_role("button", name="Cancel subscription").click()

    # then the account page says access lasts to the period end, and it does
    expect(page.get_by_role("status")).to_have_text(
        "Your subscription is cancelled. You keep access until the end of the period."
    )
    access_until = f"Cancelled, access until {long_date(period_end)}"
    expect(page.locator(".account-subscription__status")).to_have_text(access_until)
    expect(page.get_by_role("button", name="Resume subscription")).to_be_visible()
    travel(period_end - timedelta(minutes=1))
    sign_in(page, live_server, reader_account)  # again: sessions last two weeks
    open_article(page, live_server, newsroom.exclusive)
    expect_full_text(page, EXCLUSIVE)
    expect_subscription_status(page, live_server, access_until)

    # when the period is over
    travel(period_end + timedelta(minutes=1))

    # then the story shows that their full access has expired, with offers for them
    open_article(page, live_server, newsroom.exclusive)
    expect_paywall(page, access_expired(), [DOLLAR, NINE])
    expect_withheld(page, EXCLUSIVE)
    expect_subscription_status(page, live_server, f"Ended on {long_date(period_end)}")
    expect(page.get_by_role("button", name="Resume subscription")).to_have_count(0)


def test_a_free_trial_that_ends_unpaid_shows_trial_expired_and_no_second_trial(
    new_page, live_server, newsroom, travel, reader_account, mailoutbox
):
    # given a reader who signs in from the paywall with an e-mail link...
    page = new_page()
    open_article(page, live_server, newsroom.exclusive)
    panel = expect_paywall(page, SUBSCRIBERS_ONLY, [TRIAL, DOLLAR, NINE])
    panel.get_by_role("link", name="Already a subscriber? Sign in").click()
    page.get_by_role("link", name="E-mail me a sign-in link instead").click()
    page.get_by_label("E-mail address").fill(reader_account.email)
    page.get_by_role("button", name="Send me a link").click()
    page.goto(link_in_mail(mailoutbox, reader_account.email, "/account/sign-in/link/"))
    page.get_by_role("button", name="Sign me in").click()

    # ...and starts the 14-day free trial there
    expect(page.get_by_role("heading", level=1)).to_have_text(newsroom.exclusive.title)
    panel = expect_paywall(page, SUBSCRIBERS_ONLY, [TRIAL, DOLLAR, NINE])
    expect(panel.get_by_role("link", name="Already a subscriber? Sign in")).to_have_count(0)
    choose_offer(page, panel, TRIAL)
    expect(page.get_by_role("heading", level=1)).to_have_text(TRIAL)
    expect(page.get_by_text("14 days free, then $17 a month")).to_be_visible()
    page.get_by_role("button", name="Start my free trial").click()
    # back on the story, in full
    expect(page.get_by_role("heading", level=1)).to_have_text(newsroom.exclusive.title)
    expect_full_text(page, EXCLUSIVE)
    trial_end = NOW + timedelta(days=TRIAL_DAYS)
    expect_subscription_status(page, live_server, f"Free trial, ends on {long_date(trial_end)}")

    # when the trial ends without a payment
    travel(trial_end + timedelta(minutes=1))
    sign_in(page, live_server, reader_account)  # again: the session ended with the trial

    # then the story says the trial has expired and offers only paid offers
    open_article(page, live_server, newsroom.exclusive)
    expect_paywall(page, TRIAL_EXPIRED, [DOLLAR, NINE])
    expect_withheld(page, EXCLUSIVE)
    page.get_by_role("link", name="See all offers and subscribe").click()
    expect(page.locator(".choice--offer .choice__headline")).to_have_text([DOLLAR, NINE])

    # and the trial cannot be taken a second time, even by its address
    page.goto(f"{live_server.url}/subscribe/{newsroom.trial.pk}/")
    expect(page.get_by_text("This offer is not available for your account.")).to_be_visible()
    expect(page.get_by_role("button", name="Subscribe")).to_have_count(0)
