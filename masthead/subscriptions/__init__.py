"""Subscriptions: plans, offers, subscriptions and their append-only ledger.

Only the pure pricing rules are re-exported here (models cannot be imported while apps
load). The rest of the public surface: ``actions`` (every change to a subscription),
``fetch.entitlement_for(user, now)`` and ``fetch.reader_history(user)``, and the
``subscriptions_tags`` template library.
"""

from .offers import (
    Eligibility,
    Interval,
    Money,
    OfferTerms,
    PlanTerms,
    PriceStep,
    ReaderHistory,
    best_offers,
    eligible,
    headline,
    price_schedule,
    schedule_text,
)

__all__ = [
    "Eligibility",
    "Interval",
    "Money",
    "OfferTerms",
    "PlanTerms",
    "PriceStep",
    "ReaderHistory",
    "best_offers",
    "eligible",
    "headline",
    "price_schedule",
    "schedule_text",
]
