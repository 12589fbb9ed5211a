"""Small catalogues and readers for the subscriptions tests."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from masthead.subscriptions.models import Offer, Plan

TOKYO = ZoneInfo("Asia/Tokyo")
# The moment the subscription tests happen; the `at` fixture (conftest) starts the clock here.
NOW = datetime(2026, 10, 15, 12, tzinfo=TOKYO)
DAY = timedelta(days=1)
FULL_TEXT = "Paragraph 9 text."  # beyond every teaser in these tests

_numbers = count(1)


def make_reader(name=None):
    name = name or f"reader{next(_numbers)}"
    return get_user_model().objects.create_user(
        username=name, email=f"{name}@example.com", password="a long test password"
    )


def make_plan(**fields):
    defaults = {
        "name": "Digital",
        "slug": f"digital-{next(_numbers)}",
        "price": Decimal("12.00"),
        "currency": "USD",
        "interval": "month",
        "web": True,
        "apps": True,
    }
    defaults.update(fields)
    return Plan.objects.create(**defaults)


def make_offer(plan, now, *, days_left=16, **fields):
    defaults = {
        "name": "An offer",
        "starts_at": now - timedelta(days=15),
        "ends_at": now + timedelta(days=days_left),
        "eligibility": "everyone",
    }
    defaults.update(fields)
    return Offer.objects.create(plan=plan, **defaults)


def make_intro(plan, now, price="0.99", periods=1, **fields):
    return make_offer(plan, now, intro_price=Decimal(price), intro_periods=periods, **fields)


def make_trial(plan, now, days=14, **fields):
    fields.setdefault("eligibility", "new")
    return make_offer(plan, now, trial_days=days, **fields)


def reads_in_full(client, article) -> bool:
    response = client.get(article.url)
    assert response.status_code == 200
    return FULL_TEXT in response.content.decode()
