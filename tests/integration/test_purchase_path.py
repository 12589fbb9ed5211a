"""The purchase path without dead ends, on the offline test provider: any plan at full price
as well as any offer, straight to the payment page, the story kept from the paywall through
sign-up and checkout to the thank-you page, and a page with other ways on wherever a
reader cannot buy."""

import re
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from masthead.subscriptions.models import Checkout, PaymentEvent, Subscription
from tests.integration.subscription_factories import (
    NOW,
    TOKYO,
    make_intro,
    make_plan,
    make_reader,
    make_trial,
    reads_in_full,
)

pytestmark = pytest.mark.django_db

PAYS = "4242 4242 4242 4242"


@pytest.fixture
def catalogue(db):
    monthly = make_plan(name="Digital", slug="digital", price="17.00")
    yearly = make_plan(
        name="Digital yearly", slug="digital-yearly", price="170.00", interval="year"
    )
    return {
        "monthly": monthly,
        "yearly": yearly,
        "dollar": make_intro(monthly, NOW, "0.99", 1, name="Dollar"),
        "trial": make_trial(monthly, NOW, 14, name="Trial"),
    }


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def main_links(response) -> dict[str, str]:
    return {" ".join(a.get_text().split()): a["href"] for a in soup(response).select("main a")}


def test_a_yearly_plan_is_bought_at_full_price_and_the_thank_you_page_leads_back_to_the_story(
    exclusive, catalogue, client, reader, at
):
    story = exclusive.url
    # when a signed-in reader presses the yearly plan's buy button under a story
    response = client.get(f"/subscribe/plan/digital-yearly/?next={story}")
    # then they are on the payment page at once, for the plan's own price
    assert response.status_code == 302
    assert response.url.startswith("/subscribe/checkout/")
    checkout = Checkout.objects.get(user=reader)
    assert (checkout.offer, checkout.plan, checkout.amount) == (
        None,
        catalogue["yearly"],
        Decimal("170.00"),
    )
    assert checkout.next_path == story
    page = client.get(response.url)
    assert "Pay $170 today" in soup(page).get_text()
    # and a second press finds the same checkout
    assert client.get(f"/subscribe/plan/digital-yearly/?next={story}").url == response.url
    assert Checkout.objects.count() == 1
    # when they pay
    done = client.post(response.url, {"number": PAYS})
    thanks = client.get(done.url)
    # then a year's subscription starts at full price, and they read the story in full
    subscription = Subscription.objects.get(user=reader)
    assert (subscription.status, subscription.offer) == ("active", None)
    assert subscription.current_period_end == datetime(2027, 10, 15, 12, tzinfo=TOKYO)
    assert PaymentEvent.objects.get(user=reader).amount == Decimal("170.00")
    assert reads_in_full(client, exclusive)
    # and the thank-you page's first choice is the story, by its headline; the account second
    links = main_links(thanks)
    assert links[f"Continue reading: {exclusive.title}"] == story
    assert links["Your account"] == "/account/"
    assert soup(thanks).select("main a.button")[0]["href"] == story


def test_a_plan_is_refused_to_a_subscriber_with_the_ways_on(catalogue, client, reader, at):
    client.post(
        client.get("/subscribe/plan/digital/").url,
        {"number": PAYS},
    )
    response = client.get("/subscribe/plan/digital-yearly/?next=/world/")
    assert response.status_code == 200
    links = main_links(response)
    assert "/account/" in links.values()
    assert links["Back to the story"] == "/world/"
    assert Checkout.objects.count() == 1


def test_a_reader_without_an_account_is_sent_to_create_one_and_back(catalogue, client, at):
    response = client.get("/subscribe/plan/digital/?next=/world/a-story/")
    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.path == "/account/sign-up/"
    back = parse_qs(target.query)["next"][0]
    assert back == "/subscribe/plan/digital/?next=%2Fworld%2Fa-story%2F"
    # the sign-up page keeps it, and offers sign-in (with it) to readers who have an account
    page = client.get(response.url)
    assert soup(page).select_one("input[name=next]")["value"] == back
    assert "One step before payment" in soup(page).get_text()
    assert "One step before payment" not in soup(client.get("/account/sign-up/")).get_text()
    sign_in = soup(page).select_one("main a[href^='/account/sign-in/']")["href"]
    assert parse_qs(urlsplit(sign_in).query)["next"][0] == back
    assert not Checkout.objects.exists()


@pytest.mark.parametrize(
    "foreign", ["https://evil.example/", "//evil.example/story/", "javascript:alert(1)"]
)
def test_a_next_to_another_site_is_dropped(catalogue, client, reader, at, foreign):
    response = client.get("/subscribe/plan/digital/", {"next": foreign})
    assert response.status_code == 302
    assert Checkout.objects.get().next_path == ""
    thanks = client.get(client.post(response.url, {"number": PAYS}).url)
    assert all("evil" not in href for href in main_links(thanks).values())


def test_a_paid_offer_goes_straight_to_the_payment_page(catalogue, client, reader, at):
    response = client.get(f"/subscribe/{catalogue['dollar'].pk}/?next=/world/")
    assert response.url.startswith("/subscribe/checkout/")
    assert Checkout.objects.get().next_path == "/world/"
    assert Checkout.objects.get().amount == Decimal("0.99")


def test_a_free_trial_asks_once_then_returns_to_the_story(exclusive, catalogue, client, reader, at):
    url = f"/subscribe/{catalogue['trial'].pk}/?next={exclusive.url}"
    page = client.get(url)
    assert page.status_code == 200
    text = " ".join(soup(page).get_text().split())
    assert "14 days free, then $17 a month" in text
    assert "Start my free trial" in text
    # a real choice: start it, go back to the story, or see the other offers
    assert exclusive.url in main_links(page).values()
    assert not Subscription.objects.exists()
    response = client.post(url)
    assert response.status_code == 302
    assert response.url == exclusive.url
    assert Subscription.objects.get(user=reader).status == "trialing"
    assert reads_in_full(client, exclusive)


def test_a_used_trial_is_refused_with_the_other_offers(catalogue, client, at):
    reader = make_reader()
    client.force_login(reader)
    client.post(f"/subscribe/{catalogue['trial'].pk}/")
    Subscription.objects.filter(user=reader).update(status="expired")
    response = client.get(f"/subscribe/{catalogue['trial'].pk}/")
    assert response.status_code == 200
    assert "not available for your account" in soup(response).get_text()
    assert any(href.startswith("/subscribe/") for href in main_links(response).values())


def test_no_message_is_left_to_pop_up_later_on_the_account_page(exclusive, catalogue, client, at):
    reader = make_reader()
    client.force_login(reader)
    # a trial started from a story lands on the story (a shared frame that shows no messages)
    client.post(f"/subscribe/{catalogue['trial'].pk}/?next={exclusive.url}")
    client.get(exclusive.url)
    # so nothing waits for the next page that shows messages
    assert not soup(client.get("/account/")).select(".form-messages")
    # while a trial started from nowhere says so on the page it lands on, once
    client.force_login(make_reader())
    landed = client.post(f"/subscribe/{catalogue['trial'].pk}/", follow=True)
    assert landed.redirect_chain[-1][0] == "/account/"
    assert "Your free trial has started" in soup(landed).select_one(".form-messages").get_text()
    assert not soup(client.get("/account/")).select(".form-messages")


def test_an_open_checkout_opened_again_from_another_story_leads_back_to_that_one(
    catalogue, client, reader, at
):
    first = client.get("/subscribe/plan/digital/?next=/world/one/").url
    again = client.get("/subscribe/plan/digital/?next=/world/two/").url
    assert first == again
    assert Checkout.objects.get().next_path == "/world/two/"
    # without a story, the one it had is kept
    client.get("/subscribe/plan/digital/")
    assert Checkout.objects.get().next_path == "/world/two/"


def verification_link(outbox) -> str:
    (message,) = [m for m in outbox if "verify" in m.body]
    found = re.search(r"http://testserver(/account/verify/\S+)", message.body)
    return found.group(1)


def test_sign_up_and_confirmation_keep_the_checkout_and_the_story(
    exclusive, catalogue, client, mailoutbox, at
):
    # given an anonymous reader who pressed a buy button under a story
    signup = client.get(f"/subscribe/{catalogue['dollar'].pk}/?next={exclusive.url}").url
    back = parse_qs(urlsplit(signup).query)["next"][0]
    # when they create an account and confirm it from the same browser
    client.post(
        signup, {"email": "new@example.com", "password": "a long test password", "next": back}
    )
    link = verification_link(mailoutbox)
    confirm = client.get(link)
    landed = client.post(link.split("?")[0], {"next": confirm.context["next"]}, follow=True)
    # then they are on the card page of that offer, which will lead back to the story
    assert landed.redirect_chain[-1][0].startswith("/subscribe/checkout/")
    assert "Pay $0.99 today" in soup(landed).get_text()
    assert Checkout.objects.get().next_path == exclusive.url
    # with no message left over for a later page
    assert not soup(client.get("/account/")).select(".form-messages")


def test_confirming_in_another_browser_offers_to_sign_in_and_go_on(
    catalogue, client, mailoutbox, at
):
    back = "/subscribe/plan/digital/?next=%2Fworld%2F"
    client.post(
        "/account/sign-up/",
        {"email": "new@example.com", "password": "a long test password", "next": back},
    )
    other = Client()
    link = verification_link(mailoutbox)
    shown = other.get(link)
    page = other.post(link.split("?")[0], {"next": shown.context["next"]})
    assert page.status_code == 200
    sign_in_link = soup(page).select_one("main a[href^='/account/sign-in/link/']")["href"]
    assert parse_qs(urlsplit(sign_in_link).query)["next"][0] == back
