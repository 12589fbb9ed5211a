"""The offers page (/subscribe/): a priced card with a buy link for every offer the reader
may take and every plan on sale, the yearly saving, the benefits and each deadline said
once, a short FAQ, and a subscriber sent to their account instead of buy buttons."""

from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from masthead.subscriptions import actions
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
STORY = "/world/exclusive-story/"


@pytest.fixture
def catalogue(db, at):
    monthly = make_plan(name="Digital", slug="digital", price="17.00")
    yearly = make_plan(name="Digital, yearly", slug="digital-yearly", price="170", interval="year")
    make_plan(name="Retired", slug="retired", price="5", active=False)
    return {
        "monthly": monthly,
        "yearly": yearly,
        "dollar": make_intro(monthly, NOW, "0.99", 1, name="Dollar", ends_at=OCTOBER_END),
        "nine": make_intro(monthly, NOW, "9", 3, name="Nine", ends_at=OCTOBER_END),
        "trial": make_trial(monthly, NOW, 14, name="Trial", ends_at=OCTOBER_END),
        "comeback": make_intro(
            monthly, NOW, "6", 3, name="Comeback", eligibility="lapsed", ends_at=OCTOBER_END
        ),
    }


def offers_page(client, query=""):
    response = client.get(f"/subscribe/{query}")
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def words(node) -> str:
    return " ".join(node.get_text().split())


def cards(soup, kind):
    return soup.select(f"li.choice--{kind}")


def buy_links(soup):
    return [a["href"] for a in soup.select("li.choice a.button")]


def test_every_offer_and_plan_on_sale_has_a_buy_link_to_its_own_checkout(catalogue, client):
    soup = offers_page(client)
    offers = {words(card.h3): card.select_one("a.button")["href"] for card in cards(soup, "offer")}
    assert offers == {
        "Try 14 days free": reverse("subscribe-offer", args=[catalogue["trial"].pk]),
        "Try 1 month for $0.99": reverse("subscribe-offer", args=[catalogue["dollar"].pk]),
        "Try 3 months for $9": reverse("subscribe-offer", args=[catalogue["nine"].pk]),
    }  # the lapsed readers' offer is not a new reader's
    plans = {words(card.h3): card.select_one("a.button")["href"] for card in cards(soup, "plan")}
    assert plans == {
        "Digital": reverse("subscribe-plan", args=["digital"]),
        "Digital, yearly": reverse("subscribe-plan", args=["digital-yearly"]),
    }  # the inactive plan is not on sale


def test_each_buy_link_names_what_it_buys(catalogue, client):
    soup = offers_page(client)
    names = [words(a) for a in soup.select("li.choice a.button")]
    assert "Start free trial: Try 14 days free" in names
    assert "Subscribe: Try 1 month for $0.99" in names
    assert "Subscribe: Digital, yearly" in names
    assert len(set(names)) == len(names)


def test_a_lapsed_reader_is_offered_the_comeback_price_and_no_trial(catalogue, client):
    reader = make_reader()
    subscription = actions.start(
        user=reader, plan=catalogue["monthly"], period_end=NOW - DAY, now=NOW - 30 * DAY
    )
    actions.expire(subscription=subscription, now=NOW - DAY)
    client.force_login(reader)
    headlines = [words(card.h3) for card in cards(offers_page(client), "offer")]
    assert "Try 3 months for $6" in headlines
    assert "Try 14 days free" not in headlines


def test_prices_and_the_yearly_saving_against_monthly(catalogue, client):
    monthly, yearly = cards(offers_page(client), "plan")
    assert "$17 a month" in words(monthly)
    assert "Save" not in words(monthly)
    assert "$170 a year" in words(yearly)
    assert "Save 17% against monthly: $34 less than twelve months at $17 ($204)." in words(yearly)


def test_no_saving_is_claimed_without_a_monthly_plan_to_compare(catalogue, client):
    catalogue["monthly"].active = False
    catalogue["monthly"].save()
    soup = offers_page(client)
    assert [words(card.h3) for card in cards(soup, "plan")] == ["Digital, yearly"]
    assert "Save" not in words(soup)


def test_the_story_to_come_back_to_is_carried_on_every_buy_link(catalogue, client):
    links = buy_links(offers_page(client, f"?next={STORY}"))
    assert len(links) == 5
    assert all(link.endswith(f"?next={STORY}") for link in links)
    soup = offers_page(client, f"?next={STORY}")
    sign_in = soup.find("a", string="Already a subscriber? Sign in")
    assert sign_in["href"] == f"{reverse('readers:sign-in')}?next={STORY}"


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_a_next_off_the_site_is_dropped(catalogue, client, elsewhere):
    links = buy_links(offers_page(client, f"?next={elsewhere}"))
    assert links and not [link for link in links if "next=" in link or "evil" in link]


def test_without_a_story_the_links_carry_no_next(catalogue, client):
    assert not [link for link in buy_links(offers_page(client)) if "next" in link]


def test_a_plain_subscribe_link_followed_from_a_story_carries_that_story(catalogue, client, site):
    # The site header's, the meter notice's and the footer's Subscribe links carry no next
    # (they are shared by every page): the story comes from the Referer.
    story = site["lead"].url
    response = client.get("/subscribe/", HTTP_REFERER=f"http://testserver{story}?utm=x")
    assert "Referer" in response["Vary"]
    soup = BeautifulSoup(response.content, "html.parser")
    links = buy_links(soup)
    assert len(links) == 5
    assert all(link.endswith(f"?next={story}") for link in links)
    sign_in = soup.find("a", string="Already a subscriber? Sign in")
    assert sign_in["href"] == f"{reverse('readers:sign-in')}?next={story}"


def test_a_next_in_the_link_wins_over_the_referer(catalogue, client, site):
    response = client.get(
        f"/subscribe/?next={STORY}", HTTP_REFERER=f"http://testserver{site['lead'].url}"
    )
    links = buy_links(BeautifulSoup(response.content, "html.parser"))
    assert links and all(link.endswith(f"?next={STORY}") for link in links)


@pytest.mark.parametrize(
    "referer",
    [
        "http://testserver/world/",  # a section: no story to come back to
        "http://testserver/subscribe/",
        "http://testserver/world/no-such-story/",
        "https://evil.example/world/seoul-and-jakarta-sign-pact/",  # another site
        "not a url",
    ],
)
def test_a_referer_that_is_not_a_story_of_this_site_gives_no_next(catalogue, client, site, referer):
    response = client.get("/subscribe/", HTTP_REFERER=referer)
    links = buy_links(BeautifulSoup(response.content, "html.parser"))
    assert links and not [link for link in links if "next" in link]


def test_an_unpublished_story_in_the_referer_gives_no_next(catalogue, client, site):
    story = site["earlier"]
    url = story.url
    story.unpublish()
    response = client.get("/subscribe/", HTTP_REFERER=f"http://testserver{url}")
    assert not [
        link for link in buy_links(BeautifulSoup(response.content, "html.parser")) if "next" in link
    ]


def test_the_benefits_are_said_once(catalogue, client):
    text = words(offers_page(client))
    assert text.count("Read all stories with unlimited access") == 1
    assert text.count("Use our mobile and tablet apps") == 1


def test_plans_that_give_different_things_say_so_on_their_cards(catalogue, client):
    make_plan(name="Web only", slug="web-only", price="9", apps=False)
    soup = offers_page(client)
    plans = cards(soup, "plan")
    reach = {words(card.h3): words(card.select_one(".choice__reach")) for card in plans}
    assert reach["Web only"] == "On the web"
    assert reach["Digital"] == "On the web and in the apps"
    assert words(soup).count("Use our mobile and tablet apps") == 1


def test_a_deadline_shared_by_every_offer_is_said_once(catalogue, client):
    text = words(offers_page(client))
    assert text.count("31 October") == 1
    assert "These offers end 31 October." in text
    assert "Offer ends" not in text


def test_different_deadlines_are_said_once_each_on_their_cards(catalogue, client):
    catalogue["nine"].ends_at = OCTOBER_END + 10 * DAY
    catalogue["nine"].save()
    soup = offers_page(client)
    offers = cards(soup, "offer")
    ends = {words(card.h3): words(card.select_one(".choice__ends")) for card in offers}
    assert ends["Try 3 months for $9"] == "Offer ends 10 November"
    assert ends["Try 1 month for $0.99"] == "Offer ends 31 October"
    text = words(soup)
    assert text.count("31 October") == 2  # two offers end then, each says it once
    assert text.count("10 November") == 1
    assert "These offers end" not in text


def test_the_faq_answers_cancelling_trials_and_billing(catalogue, client, settings):
    settings.MASTHEAD_PAST_DUE_GRACE_DAYS = 3
    soup = offers_page(client)
    faq = soup.select_one("section.faq")
    questions = [words(summary) for summary in faq.select("details > summary")]
    assert questions == [
        "Can I cancel at any time?",
        "What happens when a free trial ends?",
        "When am I charged, and how does billing work?",
        "What if a payment fails?",
    ]
    text = words(faq)
    assert "keep reading until the end of the period you have paid for" in text
    assert "needs no card" in text and "nothing is charged" in text
    assert "at the start of each month or year until you cancel" in text
    assert "keep reading for 3 more days" in text


def test_a_subscriber_is_sent_to_their_account_instead_of_buy_buttons(catalogue, client):
    reader = make_reader()
    actions.start(user=reader, plan=catalogue["monthly"], period_end=NOW + 30 * DAY, now=NOW)
    client.force_login(reader)
    soup = offers_page(client)
    state = soup.select_one(".offers-page__state")
    assert "You are a subscriber." in words(state)
    manage = state.find("a", string="Manage your subscription")
    assert manage["href"] == reverse("readers:account")
    assert buy_links(soup) == []
    assert cards(soup, "offer") == []
    assert "$170 a year" in words(soup)  # the plans are still described
    assert "Already a subscriber? Sign in" not in words(soup)


def test_a_reader_without_a_subscription_is_not_told_they_have_one(catalogue, client):
    client.force_login(make_reader())
    soup = offers_page(client)
    assert soup.select_one(".offers-page__state") is None
    assert len(buy_links(soup)) == 5
    assert "Already a subscriber? Sign in" not in words(soup)  # signed in already


def test_with_nothing_on_sale_the_page_says_so(db, client, at):
    soup = offers_page(client)
    assert "Online subscriptions are not open yet." in words(soup)
    assert buy_links(soup) == []


def test_the_page_describes_itself_to_search_engines_once(catalogue, client):
    soup = offers_page(client)
    descriptions = soup.select('head meta[name="description"]')
    assert len(descriptions) == 1
    assert "every plan and offer" in descriptions[0]["content"]
