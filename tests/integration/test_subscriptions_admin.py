"""The catalogue in the Wagtail admin; subscriptions there are read-only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from masthead.subscriptions import actions
from masthead.subscriptions.models import Offer
from tests.integration.subscription_factories import make_intro, make_plan, make_reader

pytestmark = pytest.mark.django_db


def test_plans_and_offers_are_managed_as_snippets(admin_client):
    plan = make_plan()
    offer = make_intro(plan, timezone.now())
    for url in [
        "/admin/snippets/subscriptions/plan/",
        "/admin/snippets/subscriptions/offer/",
        f"/admin/snippets/subscriptions/plan/edit/{plan.pk}/",
        f"/admin/snippets/subscriptions/offer/edit/{offer.pk}/",
        "/admin/snippets/subscriptions/offer/add/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_the_admin_refuses_an_offer_with_both_an_intro_price_and_trial_days(admin_client):
    plan = make_plan()
    now = timezone.localtime()
    response = admin_client.post(
        "/admin/snippets/subscriptions/offer/add/",
        {
            "plan": plan.pk,
            "name": "Both",
            "intro_price": "0.99",
            "intro_periods": "1",
            "trial_days": "14",
            "starts_at": now.strftime("%Y-%m-%d %H:%M"),
            "ends_at": (now + timedelta(days=5)).strftime("%Y-%m-%d %H:%M"),
            "eligibility": "everyone",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "not both" in response.content.decode()
    assert not Offer.objects.exists()


def test_subscriptions_are_listed_but_cannot_be_changed_in_the_admin(admin_client):
    now = timezone.now()
    subscription = actions.start(
        user=make_reader(), plan=make_plan(), period_end=now + timedelta(days=30), now=now
    )
    base = "/admin/snippets/subscriptions/subscription/"
    assert admin_client.get(base).status_code == 200
    assert admin_client.get(f"{base}inspect/{subscription.pk}/").status_code == 200
    for url in [
        f"{base}add/",
        f"{base}edit/{subscription.pk}/",
        f"{base}delete/{subscription.pk}/",
    ]:
        assert admin_client.get(url).status_code in (302, 403), url
