"""The account page's subscription: what it shows, cancel and resume as CSRF-protected
POSTs, and access ending when it should (the clock is moved, no job runs)."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.test import Client

from masthead.subscriptions import actions
from masthead.subscriptions.models import Subscription
from tests.integration.subscription_factories import (
    DAY,
    FULL_TEXT,
    NOW,
    make_intro,
    make_plan,
    make_reader,
    make_trial,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db):
    plan = make_plan(name="Digital", price="12.00")
    return {
        "plan": plan,
        "dollar": make_intro(plan, NOW, "0.99", 1, name="Dollar"),
        "trial": make_trial(plan, NOW, 14, name="Trial"),
    }


def subscribe_and_pay(client, offer):
    checkout = client.post(f"/subscribe/{offer.pk}/").url
    assert client.post(checkout, {"number": "4242424242424242"}).status_code == 302
    return Subscription.objects.get()


def account(client) -> str:
    response = client.get("/account/")
    assert response.status_code == 200
    found = BeautifulSoup(response.content, "html.parser").select_one(".account-subscriptions")
    return " ".join(found.get_text().split())


def paywall(client, article) -> str | None:
    body = client.get(article.url).content.decode()
    if FULL_TEXT in body:
        return None
    return " ".join(BeautifulSoup(body, "html.parser").select_one(".paywall").get_text().split())


def test_the_account_page_shows_plan_status_renewal_and_payment_history(
    catalogue, client, reader, at, site
):
    assert "You have no subscription." in account(client)
    subscribe_and_pay(client, catalogue["dollar"])
    shown = account(client)
    assert "Digital" in shown
    assert "Active, renews on 15 November 2026" in shown
    assert "Paid: $0.99" in shown
    assert "15 October 2026: Started" in shown  # each history line: its date, then what
    assert "Cancel subscription" in shown
    assert "Resume subscription" not in shown
    # ending the subscription is not dressed as the page's main action
    page = BeautifulSoup(client.get("/account/").content.decode(), "html.parser")
    cancel = page.find("button", string=lambda text: text and "Cancel subscription" in text)
    assert "button--danger" in cancel["class"]


def test_cancel_keeps_access_until_the_period_end_then_access_expired(
    exclusive, catalogue, client, reader, at
):
    # given a paying subscriber who cancels
    subscription = subscribe_and_pay(client, catalogue["dollar"])
    response = client.post(f"/account/subscriptions/{subscription.pk}/cancel/")
    assert response.status_code == 302
    assert response.url == "/account/"
    shown = account(client)
    assert "Cancelled, access until 15 November 2026" in shown
    assert "Resume subscription" in shown
    # then they read until the period ends
    at(subscription.current_period_end - timedelta(seconds=1))
    assert paywall(client, exclusive) is None
    # and then see the lapsed-subscriber panel
    at(subscription.current_period_end)
    assert f"Your full access to {settings.MASTHEAD_SITE_NAME} has expired" in paywall(
        client, exclusive
    )
    shown = account(client)
    assert "Ended on 15 November 2026" in shown
    assert "Cancel subscription" not in shown and "Resume subscription" not in shown


def test_resume_undoes_a_cancellation(catalogue, client, reader, at, site):
    subscription = subscribe_and_pay(client, catalogue["dollar"])
    client.post(f"/account/subscriptions/{subscription.pk}/cancel/")
    client.post(f"/account/subscriptions/{subscription.pk}/resume/")
    subscription.refresh_from_db()
    assert not subscription.cancel_at_period_end
    assert [e.kind for e in subscription.events.all()] == ["started", "canceled", "resumed"]
    assert "Active, renews on" in account(client)


def test_a_refused_change_is_explained(catalogue, client, reader, at, site):
    subscription = subscribe_and_pay(client, catalogue["dollar"])
    response = client.post(f"/account/subscriptions/{subscription.pk}/resume/", follow=True)
    assert "this subscription is not cancelled" in response.content.decode()


def test_a_trial_that_ends_unpaid_shows_the_trial_expired_panel(
    exclusive, catalogue, client, reader, at
):
    client.post(f"/subscribe/{catalogue['trial'].pk}/")
    assert "Free trial, ends on 29 October 2026" in account(client)
    assert paywall(client, exclusive) is None
    at(NOW + 14 * DAY)
    assert "Your trial period has expired" in paywall(client, exclusive)


def test_cancel_and_resume_need_the_csrf_token(catalogue, at, site):
    reader = make_reader()
    subscription = actions.start(
        user=reader, plan=catalogue["plan"], period_end=NOW + 30 * DAY, now=NOW
    )
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader)
    assert strict.post(f"/account/subscriptions/{subscription.pk}/cancel/").status_code == 403
    subscription.refresh_from_db()
    assert not subscription.cancel_at_period_end
    # the account page's own form carries the token, so it works
    soup = BeautifulSoup(strict.get("/account/").content, "html.parser")
    form = soup.select_one(f"form[action='/account/subscriptions/{subscription.pk}/cancel/']")
    token = form.select_one("input[name=csrfmiddlewaretoken]")["value"]
    response = strict.post(form["action"], {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end


def test_cancel_and_resume_are_posts_only(catalogue, client, reader, at, site):
    subscription = actions.start(
        user=reader, plan=catalogue["plan"], period_end=NOW + 30 * DAY, now=NOW
    )
    assert client.get(f"/account/subscriptions/{subscription.pk}/cancel/").status_code == 405
    assert client.get(f"/account/subscriptions/{subscription.pk}/resume/").status_code == 405


def test_a_reader_cannot_reach_another_readers_subscription(catalogue, client, reader, at, site):
    other = make_reader()
    theirs = actions.start(user=other, plan=catalogue["plan"], period_end=NOW + 30 * DAY, now=NOW)
    assert client.post(f"/account/subscriptions/{theirs.pk}/cancel/").status_code == 404
    actions.cancel(subscription=theirs, now=NOW)
    assert client.post(f"/account/subscriptions/{theirs.pk}/resume/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.cancel_at_period_end
    assert "Digital" not in account(client)


def test_signed_out_readers_are_sent_to_sign_in(catalogue, client, at, site):
    response = client.post("/account/subscriptions/1/cancel/")
    assert response.status_code == 302
    assert response.url.startswith("/account/sign-in/?next=")
