"""The paywall panel's offers: the ones editors placed in it, in their order, at most
three, as priced choices with buy links back to the story; for an anonymous reader
*Create an account* first and sign-in second, in a panel that holds nothing of a reader."""

from datetime import datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from masthead.subscriptions import actions
from masthead.subscriptions.models import Offer
from tests.integration.subscription_factories import (
    DAY,
    NOW,
    TOKYO,
    make_intro,
    make_plan,
    make_reader,
    make_trial,
)

pytestmark = pytest.mark.django_db

OCTOBER_END = datetime(2026, 11, 1, tzinfo=TOKYO)  # last day October 31st


@pytest.fixture
def catalogue(db, at):
    plan = make_plan(name="Digital", price="12.00")

    def offer(make, *args, position, **fields):
        return make(plan, NOW, *args, paywall_position=position, ends_at=OCTOBER_END, **fields)

    return {
        "plan": plan,
        # placed against the price order: the dearest first
        "nine": offer(make_intro, "9", 3, name="Nine", position=1),
        "dollar": offer(make_intro, "0.99", 1, name="Dollar", position=2),
        "comeback": offer(make_intro, "5", 2, name="Comeback", eligibility="lapsed", position=3),
        "trial": offer(make_trial, 14, name="Trial", position=4),
        "unplaced": offer(make_intro, "0.5", 1, name="Unplaced", position=None),
    }


def panel(client, article):
    response = client.get(article.url)
    assert response.status_code == 200
    found = BeautifulSoup(response.content, "html.parser").select_one("section.paywall")
    assert found is not None
    return found


def words(node) -> str:
    return " ".join(node.get_text().split())


def headlines(found):
    return [words(h) for h in found.select(".choice__headline")]


def test_the_panel_shows_the_placed_offers_in_the_editors_order(exclusive, catalogue, client):
    # a new reader: the lapsed readers' offer is not theirs; the cheapest is not placed
    assert headlines(panel(client, exclusive)) == [
        "Try 3 months for $9",
        "Try 1 month for $0.99",
        "Try 14 days free",
    ]


def test_moving_an_offer_in_the_admin_order_moves_it_in_the_panel(exclusive, catalogue, client):
    Offer.objects.filter(pk=catalogue["trial"].pk).update(paywall_position=1)
    Offer.objects.filter(pk=catalogue["nine"].pk).update(paywall_position=None)
    # a changed offer is a new catalogue: the cached panel must not be served
    catalogue["trial"].refresh_from_db()
    catalogue["trial"].save()
    assert headlines(panel(client, exclusive)) == ["Try 14 days free", "Try 1 month for $0.99"]


def test_the_panel_shows_at_most_three(exclusive, catalogue, client):
    make_intro(catalogue["plan"], NOW, "1", 1, name="Fifth", paywall_position=5)
    make_intro(catalogue["plan"], NOW, "2", 1, name="Early", paywall_position=1)
    assert headlines(panel(client, exclusive)) == [
        "Try 1 month for $2",  # two at position 1: the cheaper first period first
        "Try 3 months for $9",
        "Try 1 month for $0.99",
    ]


def test_a_lapsed_reader_sees_the_placed_offers_they_may_take(exclusive, catalogue, client):
    reader = make_reader()
    subscription = actions.start(
        user=reader, plan=catalogue["plan"], period_end=NOW - DAY, now=NOW - 30 * DAY
    )
    actions.expire(subscription=subscription, now=NOW - DAY)
    client.force_login(reader)
    assert headlines(panel(client, exclusive)) == [
        "Try 3 months for $9",
        "Try 1 month for $0.99",
        "Try 2 months for $5",
    ]


def test_each_choice_is_priced_and_links_to_its_checkout_with_the_story(
    exclusive, catalogue, client
):
    found = panel(client, exclusive)
    choices = found.select("li.choice")
    assert [words(c.select_one(".choice__schedule")) for c in choices[:2]] == [
        "$9 for the first 3 months, then $12 a month",
        "$0.99 for the first month, then $12 a month",
    ]
    links = [c.select_one("a.button")["href"] for c in choices]
    assert links == [
        f"{reverse('subscribe-offer', args=[catalogue[name].pk])}?next={exclusive.url}"
        for name in ("nine", "dollar", "trial")
    ]


def test_the_deadline_is_said_once(exclusive, catalogue, client):
    text = words(panel(client, exclusive))
    assert text.count("31 October") == 1
    assert "These offers end 31 October." in text
    assert "Offer ends" not in text


def test_an_anonymous_reader_is_asked_to_create_an_account_first(exclusive, catalogue, client):
    actions_row = panel(client, exclusive).select_one(".paywall__actions")
    first = actions_row.find("a")
    assert words(first) == "Create an account"
    assert "button" in first["class"]
    assert first["href"] == f"{reverse('readers:sign-up')}?next={exclusive.url}"
    sign_in = actions_row.find("a", string="Already a subscriber? Sign in")
    assert sign_in["href"] == f"{reverse('readers:sign-in')}?next={exclusive.url}"
    assert "button" not in sign_in.get("class", [])
    more = actions_row.find("a", string="See all offers and subscribe")
    assert more["href"] == f"/subscribe/?next={exclusive.url}"


def test_a_signed_in_reader_is_not_asked_to_create_an_account(exclusive, catalogue, client):
    client.force_login(make_reader())
    found = panel(client, exclusive)
    assert "Create an account" not in words(found)
    assert "Already a subscriber? Sign in" not in words(found)
    assert found.find("a", string="See all offers and subscribe") is not None


def test_without_placed_offers_the_panel_leads_to_the_offers_page(exclusive, catalogue, client):
    Offer.objects.update(paywall_position=None)
    catalogue["plan"].save()  # a changed catalogue: the cached panel goes
    client.force_login(make_reader())
    found = panel(client, exclusive)
    assert found.select("li.choice") == []
    more = found.find("a", string="See all offers and subscribe")
    assert "button" in more["class"]


def test_the_anonymous_panel_holds_nothing_of_a_reader(exclusive, catalogue, client):
    first = str(panel(client, exclusive))
    again = str(panel(Client(), exclusive))
    assert first == again
    assert "csrfmiddlewaretoken" not in first
    assert "<form" not in first
    assert "@" not in first


def test_the_fade_over_the_cut_is_decoration_drawn_by_the_stylesheet():
    css = Path(finders.find("masthead/css/site.css")).read_text(encoding="utf-8")
    fade = css.split(".paywall::before {", 1)[1].split("}", 1)[0]
    assert 'content: ""' in fade  # nothing for a screen reader to read
    assert "linear-gradient(" in fade and "pointer-events: none" in fade


def test_editors_set_the_paywall_position_in_the_offer_admin(admin_client, catalogue):
    form = admin_client.get("/admin/snippets/subscriptions/offer/add/").content.decode()
    assert 'name="paywall_position"' in form
    assert "Leave empty to keep the offer out of the paywall" in form
    start = timezone.localtime(NOW)
    fields = {
        "plan": catalogue["plan"].pk,
        "name": "Placed",
        "intro_price": "3",
        "intro_periods": "1",
        "starts_at": start.strftime("%Y-%m-%d %H:%M"),
        "ends_at": (start + 5 * DAY).strftime("%Y-%m-%d %H:%M"),
        "eligibility": "everyone",
        "active": "on",
    }
    add = "/admin/snippets/subscriptions/offer/add/"
    refused = admin_client.post(add, {**fields, "paywall_position": "0"})
    assert refused.status_code == 200 and not Offer.objects.filter(name="Placed").exists()
    admin_client.post(add, {**fields, "paywall_position": "1"})
    assert Offer.objects.get(name="Placed").paywall_position == 1
    listing = admin_client.get("/admin/snippets/subscriptions/offer/").content.decode()
    assert "Position in the paywall" in listing
