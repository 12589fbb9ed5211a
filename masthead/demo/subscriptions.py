"""The demo's catalogue and readers: plans and time-limited offers so the paywall has
something to sell, a subscriber and a reader with no subscription to try it with. Offers are
dated from the first load (they end with the month after next), so a fresh demo always shows
live offers; a later run finds them by name and leaves them as they are."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from masthead.core import clock
from masthead.subscriptions import actions
from masthead.subscriptions.models import Offer, Plan, Subscription
from masthead.subscriptions.offers import add_periods

from .accounts import READERS

PLANS = [
    {"slug": "digital", "name": "Digital", "price": "17.00", "interval": "month"},
    {"slug": "digital-yearly", "name": "Digital, yearly", "price": "170.00", "interval": "year"},
]
OFFERS = [
    # (name, plan slug, fields). The paywall shows each reader the first three they may
    # take by paywall position: a new reader the dollar, the nine and the trial; a lapsed
    # one the comeback price first.
    (
        "A dollar for the first month",
        "digital",
        {"intro_price": "0.99", "intro_periods": 1, "paywall_position": 2},
    ),
    (
        "Three months for nine",
        "digital",
        {"intro_price": "9.00", "intro_periods": 3, "paywall_position": 3},
    ),
    (
        "Fourteen days free",
        "digital",
        {"trial_days": 14, "eligibility": "new", "paywall_position": 4},
    ),
    (
        "Welcome back: three months for six",
        "digital",
        {"intro_price": "6.00", "intro_periods": 3, "eligibility": "lapsed", "paywall_position": 1},
    ),
]


def offer_window(now: datetime) -> tuple[datetime, datetime]:
    """From a month ago to the end of the month after next, in the site's time zone."""
    local = timezone.localtime(now, ZoneInfo(settings.TIME_ZONE))
    year, month = local.year, local.month + 2
    if month > 12:
        year, month = year + 1, month - 12
    end = local.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    return now - timedelta(days=30), end


def load(*, password: str, report, now: datetime | None = None) -> None:
    now = now or clock.now()
    plans = {}
    for data in PLANS:
        plans[data["slug"]], created = Plan.objects.get_or_create(
            slug=data["slug"],
            defaults={
                "name": data["name"],
                "price": Decimal(data["price"]),
                "interval": data["interval"],
            },
        )
        if created:
            report.add(f"plan {data['slug']}")
    starts_at, ends_at = offer_window(now)
    for name, plan, fields in OFFERS:
        values = {k: Decimal(v) if k == "intro_price" else v for k, v in fields.items()}
        _, created = Offer.objects.get_or_create(
            name=name,
            defaults={"plan": plans[plan], "starts_at": starts_at, "ends_at": ends_at, **values},
        )
        if created:
            report.add(f"offer {name}")
    for username, email, subscribed in READERS:
        _reader(username, email, subscribed, plans["digital"], password, report, now)


def _reader(username, email, subscribed, plan, password, report, now) -> None:
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        return
    user = users.objects.create_user(
        username=username, email=email, password=password, email_verified=True
    )
    report.add(f"reader {username}")
    if subscribed and not Subscription.objects.filter(user=user).exists():
        period_end = add_periods(now, plan.terms().interval)
        actions.start(user=user, plan=plan, period_end=period_end, now=now)
