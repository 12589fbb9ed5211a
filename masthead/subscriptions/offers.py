"""Pricing and offer rules as pure functions over small dataclasses.

No Django, no database, no clock: the catalogue arrives as `PlanTerms` and `OfferTerms`
(built from the models by `Plan.terms()` and `Offer.terms()`), so the paywall panel, the
offers page and, later, checkout all compute the same prices and the same marketing text.

Two decisions worth knowing:

* An intro price is the price of the whole intro span: "Try 3 months for $9" charges $9 once
  for three periods, then the plan's regular price every period after. That is what the
  headline says, so it is what the schedule bills.
* `best_offers` orders by the effective first-period price (a free trial counts as 0), then
  by the soonest end (an offer about to close is the one to show before it goes), then by key
  for a stable order. Amounts are compared as numbers, which is meaningful because a
  publication sells in one currency; offers in other currencies sort after it by code.
* The paywall panel is the editors' shop window, not the cheapest shelf: it shows only the
  offers they gave a paywall position, in that order (`paywall_offers`). Eligibility is the
  same everywhere, so a position never shows a reader an offer they could not take.
"""

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NamedTuple

# ISO 4217 minor units for the currencies we know; anything else is treated as 2.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "KRW": "₩", "INR": "₹"}


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        if not isinstance(self.amount, Decimal):
            # Floats cannot hold 0.99; an int is exact, so accept it and convert.
            if isinstance(self.amount, int) and not isinstance(self.amount, bool):
                object.__setattr__(self, "amount", Decimal(self.amount))
            else:
                raise TypeError(f"Money needs a Decimal amount, not {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValueError("Money must be a finite amount")
        if not (len(self.currency) == 3 and self.currency.isalpha() and self.currency.isascii()):
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")
        object.__setattr__(self, "currency", self.currency.upper())

    @property
    def minor_units(self) -> int:
        return MINOR_UNITS.get(self.currency, 2)

    def rounded(self) -> Decimal:
        return self.amount.quantize(Decimal(1).scaleb(-self.minor_units), ROUND_HALF_UP)

    def format(self) -> str:
        """ "$0.99", "$9", "¥1,200", "€5.50": whole amounts drop their zero cents, as
        marketing copy does; anything else shows all the currency's minor units."""
        value = self.rounded()
        digits = 0 if value == value.to_integral_value() else self.minor_units
        text = f"{abs(value):,.{digits}f}"
        symbol = SYMBOLS.get(self.currency)
        text = f"{symbol}{text}" if symbol else f"{self.currency} {text}"
        return f"-{text}" if value < 0 else text

    __str__ = format


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class OfferKind(StrEnum):
    INTRO_PRICE = "intro_price"
    FREE_TRIAL = "free_trial"


class Eligibility(StrEnum):
    NEW = "new"  # never had a subscription, trial included
    LAPSED = "lapsed"  # had one, and it no longer gives access
    EVERYONE = "everyone"


@dataclass(frozen=True)
class PlanTerms:
    price: Money
    interval: Interval
    name: str = ""
    web: bool = True
    apps: bool = False


@dataclass(frozen=True)
class OfferTerms:
    key: str  # stable identity (the Offer's primary key), for ordering and links
    starts_at: datetime
    ends_at: datetime
    eligibility: Eligibility = Eligibility.EVERYONE
    intro_price: Money | None = None
    intro_periods: int | None = None
    trial_days: int | None = None
    paywall_position: int | None = None  # None: not shown in the paywall panel

    def __post_init__(self):
        intro = self.intro_price is not None or self.intro_periods is not None
        trial = self.trial_days is not None
        if self.paywall_position is not None and self.paywall_position < 1:
            raise ValueError("a paywall position counts from 1")
        if intro == trial:
            raise ValueError("an offer has either an intro price for N periods or trial days")
        if intro and (self.intro_price is None or self.intro_periods is None):
            raise ValueError("an intro price needs both a price and a number of periods")
        if intro and (self.intro_periods < 1 or self.intro_price.amount < 0):
            raise ValueError("intro periods must be at least 1 and the price not negative")
        if trial and self.trial_days < 1:
            raise ValueError("a trial lasts at least one day")
        if self.ends_at <= self.starts_at:
            raise ValueError("an offer must end after it starts")

    @property
    def kind(self) -> OfferKind:
        return OfferKind.FREE_TRIAL if self.trial_days is not None else OfferKind.INTRO_PRICE


@dataclass(frozen=True)
class ReaderHistory:
    """What offer eligibility needs to know of a reader; an anonymous reader is new."""

    ever_subscribed: bool = False  # any subscription, a trial included
    ever_trialled: bool = False
    entitled: bool = False  # has access through a subscription right now


def is_current(offer: OfferTerms, now: datetime) -> bool:
    return offer.starts_at <= now < offer.ends_at


def eligible(offer: OfferTerms, history: ReaderHistory, now: datetime) -> bool:
    """A current subscriber is offered nothing (they already have access), and a free
    trial is offered only to readers who never had one: one trial per reader."""
    if not is_current(offer, now) or history.entitled:
        return False
    if offer.kind == OfferKind.FREE_TRIAL and history.ever_trialled:
        return False
    if offer.eligibility == Eligibility.NEW:
        return not history.ever_subscribed
    if offer.eligibility == Eligibility.LAPSED:
        return history.ever_subscribed
    return True


def first_period_price(offer: OfferTerms, currency: str) -> Money:
    if offer.kind == OfferKind.FREE_TRIAL:
        return Money(Decimal(0), currency)
    return offer.intro_price


def best_offers(
    offers: Iterable[tuple[OfferTerms, PlanTerms]],
    history: ReaderHistory,
    now: datetime,
    limit: int | None = 2,
) -> list[tuple[OfferTerms, PlanTerms]]:
    """The offers this reader may take, best first (see the module docstring for the order)."""
    found = [(offer, plan) for offer, plan in offers if eligible(offer, history, now)]
    currencies = sorted({plan.price.currency for _, plan in found})
    main = currencies[0] if len(currencies) == 1 else None

    def key(pair):
        offer, plan = pair
        price = first_period_price(offer, plan.price.currency)
        return (price.currency != main, price.currency, price.amount, offer.ends_at, offer.key)

    found.sort(key=key)
    return found if limit is None else found[:limit]


# The paywall panel sits inside the story's column: three choices fit beside each other there.
PAYWALL_LIMIT = 3


def paywall_offers(
    offers: Iterable[tuple[OfferTerms, PlanTerms]],
    history: ReaderHistory,
    now: datetime,
    limit: int = PAYWALL_LIMIT,
) -> list[tuple[OfferTerms, PlanTerms]]:
    """The offers the paywall panel shows this reader: of those they may take, the ones the
    editors placed in the panel, by position. Two offers at one position keep the
    `best_offers` order, so an editor's tie is settled the way the offers page would."""
    ranked = best_offers(offers, history, now, limit=None)
    placed = [pair for pair in ranked if pair[0].paywall_position is not None]
    placed.sort(key=lambda pair: pair[0].paywall_position)  # stable: ties stay best first
    return placed[:limit]


@dataclass(frozen=True)
class YearlySaving:
    """What a yearly plan saves against paying a monthly plan for twelve months."""

    monthly: PlanTerms  # the plan it is compared with
    twelve_months: Money  # twelve months of that plan
    amount: Money  # saved in a year
    percent: int  # of twelve months' price, rounded to a whole number


def yearly_saving(yearly: PlanTerms, plans: Iterable[PlanTerms]) -> YearlySaving | None:
    """The saving of `yearly` against the monthly plan that gives the same (web, apps) in
    the same currency. With several such monthly plans, against the cheapest, so the claim
    holds whichever a reader would pay instead. None when there is nothing to compare it
    with, or it saves less than a rounded 1 % (a "save 0 %" badge says nothing)."""
    if yearly.interval != Interval.YEAR:
        return None
    candidates = [
        plan
        for plan in plans
        if plan.interval == Interval.MONTH
        and plan.price.currency == yearly.price.currency
        and (plan.web, plan.apps) == (yearly.web, yearly.apps)
    ]
    if not candidates:
        return None
    monthly = min(candidates, key=lambda plan: plan.price.amount)
    twelve = monthly.price.amount * 12
    saved = twelve - yearly.price.amount
    if twelve <= 0 or saved <= 0:
        return None
    percent = int((saved * 100 / twelve).quantize(Decimal(1), ROUND_HALF_UP))
    if percent < 1:
        return None
    currency = yearly.price.currency
    return YearlySaving(
        monthly=monthly,
        twelve_months=Money(twelve, currency),
        amount=Money(saved, currency),
        percent=percent,
    )


def _english_ngettext(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


Ngettext = Callable[[str, str, int], str]


def span(count: int, interval: Interval, ngettext: Ngettext = _english_ngettext) -> str:
    """ "1 month", "3 months", "1 year"."""
    if interval == Interval.YEAR:
        return ngettext("%(count)d year", "%(count)d years", count) % {"count": count}
    return ngettext("%(count)d month", "%(count)d months", count) % {"count": count}


def headline(offer: OfferTerms, plan: PlanTerms, ngettext: Ngettext = _english_ngettext) -> str:
    """The marketing line: "Try 1 month for $0.99", "Try 14 days free". Pass Django's
    ngettext to translate; the strings are written so makemessages finds them."""
    if offer.kind == OfferKind.FREE_TRIAL:
        days = offer.trial_days
        return ngettext("Try %(count)d day free", "Try %(count)d days free", days) % {"count": days}
    return f"Try {span(offer.intro_periods, plan.interval, ngettext)} for {offer.intro_price}"


class PriceStep(NamedTuple):
    periods: int | None  # None: every period after the ones before
    price: Money  # for the whole step when `periods` is set; per period when it is None


def price_schedule(plan: PlanTerms, offer: OfferTerms | None) -> list[PriceStep]:
    """What the reader pays, in order. A free trial is days, not billing periods, so it adds
    no step: billing starts at the regular price when the trial ends."""
    regular = PriceStep(None, plan.price)
    if offer is None or offer.kind == OfferKind.FREE_TRIAL:
        return [regular]
    return [PriceStep(offer.intro_periods, offer.intro_price), regular]


def regular_price_text(plan: PlanTerms, ngettext: Ngettext = _english_ngettext) -> str:
    if plan.interval == Interval.YEAR:
        return f"{plan.price} a year"
    return f"{plan.price} a month"


def schedule_text(
    plan: PlanTerms, offer: OfferTerms | None, ngettext: Ngettext = _english_ngettext
) -> str:
    """ "$9 for the first 3 months, then $12 a month"; "14 days free, then $12 a month"."""
    regular = regular_price_text(plan, ngettext)
    if offer is None:
        return regular
    if offer.kind == OfferKind.FREE_TRIAL:
        days = offer.trial_days
        first = ngettext("%(count)d day free", "%(count)d days free", days) % {"count": days}
    else:
        periods = offer.intro_periods
        length = span(periods, plan.interval, ngettext) if periods > 1 else plan.interval.value
        first = f"{offer.intro_price} for the first {length}"
    return f"{first}, then {regular}"


def add_periods(start: datetime, interval: Interval, count: int = 1) -> datetime:
    """The end of `count` billing periods from `start`. A month from January 31st ends on
    the last day of February (as card billing does), never in March."""
    months = count * (12 if interval == Interval.YEAR else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
