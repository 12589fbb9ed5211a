"""The pure pricing and offer rules: money, eligibility, ordering, marketing text."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from masthead.subscriptions.offers import (
    Eligibility,
    Interval,
    Money,
    OfferTerms,
    PlanTerms,
    PriceStep,
    ReaderHistory,
    best_offers,
    eligible,
    first_period_price,
    headline,
    paywall_offers,
    price_schedule,
    schedule_text,
    yearly_saving,
)

NOW = datetime(2026, 10, 15, 12, tzinfo=UTC)
MONTHLY = PlanTerms(price=Money(Decimal("12.00"), "USD"), interval=Interval.MONTH, name="Digital")
YEARLY = PlanTerms(price=Money(Decimal("120"), "USD"), interval=Interval.YEAR, name="Annual")

NEW = ReaderHistory()
TRIALLED = ReaderHistory(ever_subscribed=True, ever_trialled=True)
LAPSED = ReaderHistory(ever_subscribed=True)
SUBSCRIBED = ReaderHistory(ever_subscribed=True, entitled=True)


def intro(
    price,
    periods,
    *,
    key="1",
    eligibility=Eligibility.EVERYONE,
    days_left=16,
    currency="USD",
    position=None,
):
    return OfferTerms(
        key=key,
        starts_at=NOW - timedelta(days=15),
        ends_at=NOW + timedelta(days=days_left),
        eligibility=eligibility,
        intro_price=Money(Decimal(price), currency),
        intro_periods=periods,
        paywall_position=position,
    )


def trial(days, *, key="t", eligibility=Eligibility.NEW, days_left=16, position=None):
    return OfferTerms(
        key=key,
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW + timedelta(days=days_left),
        eligibility=eligibility,
        trial_days=days,
        paywall_position=position,
    )


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("0.99", "USD", "$0.99"),
        ("9", "USD", "$9"),
        ("9.00", "USD", "$9"),
        ("1234.5", "USD", "$1,234.50"),
        ("1200", "JPY", "¥1,200"),
        ("1200.4", "JPY", "¥1,200"),
        ("5.5", "EUR", "€5.50"),
        ("5", "EUR", "€5"),
        ("10.25", "GBP", "£10.25"),
        ("3.5", "CHF", "CHF 3.50"),
        ("0", "USD", "$0"),
        ("0.005", "USD", "$0.01"),
    ],
)
def test_money_formats_by_the_currencys_minor_units(amount, currency, text):
    assert str(Money(Decimal(amount), currency)) == text


@pytest.mark.parametrize("bad", [0.99, "0.99", None, True])
def test_money_refuses_anything_but_decimal_or_int(bad):
    with pytest.raises(TypeError):
        Money(bad, "USD")


@pytest.mark.parametrize("code", ["US", "USDX", "U$D", "", "12A"])
def test_money_needs_an_iso_currency_code(code):
    with pytest.raises(ValueError):
        Money(Decimal(1), code)


def test_money_normalises_lowercase_codes_and_ints():
    assert Money(9, "usd") == Money(Decimal(9), "USD")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"trial_days": 14, "intro_periods": 1, "intro_price": Money(Decimal(1), "USD")}, "either"),
        ({}, "either"),
        ({"intro_periods": 1}, "both"),
        ({"intro_price": Money(Decimal(1), "USD")}, "both"),
        ({"intro_price": Money(Decimal(1), "USD"), "intro_periods": 0}, "at least 1"),
        ({"trial_days": 0}, "one day"),
    ],
)
def test_offer_terms_are_an_intro_price_or_trial_days(fields, message):
    with pytest.raises(ValueError, match=message):
        OfferTerms(key="x", starts_at=NOW, ends_at=NOW + timedelta(days=1), **fields)


def test_an_offer_ends_after_it_starts():
    with pytest.raises(ValueError, match="end after"):
        OfferTerms(key="x", starts_at=NOW, ends_at=NOW, trial_days=3)


@pytest.mark.parametrize(
    ("offer", "plan", "text"),
    [
        (intro("0.99", 1), MONTHLY, "Try 1 month for $0.99"),
        (intro("9", 3), MONTHLY, "Try 3 months for $9"),
        (intro("9.00", 3), MONTHLY, "Try 3 months for $9"),
        (intro("49", 1), YEARLY, "Try 1 year for $49"),
        (intro("80", 2), YEARLY, "Try 2 years for $80"),
        (trial(14), MONTHLY, "Try 14 days free"),
        (trial(1), MONTHLY, "Try 1 day free"),
    ],
)
def test_headline_has_real_plurals(offer, plan, text):
    assert headline(offer, plan) == text


@pytest.mark.parametrize(
    ("offer", "plan", "text"),
    [
        (intro("0.99", 1), MONTHLY, "$0.99 for the first month, then $12 a month"),
        (intro("9", 3), MONTHLY, "$9 for the first 3 months, then $12 a month"),
        (intro("49", 1), YEARLY, "$49 for the first year, then $120 a year"),
        (trial(14), MONTHLY, "14 days free, then $12 a month"),
        (None, MONTHLY, "$12 a month"),
    ],
)
def test_schedule_text(offer, plan, text):
    assert schedule_text(plan, offer) == text


def test_headline_uses_the_ngettext_it_is_given():
    calls = []

    def shouting(singular, plural, n):
        calls.append((singular, plural, n))
        return "!" + (singular if n == 1 else plural)

    assert headline(trial(14), MONTHLY, shouting) == "!Try 14 days free"
    assert calls == [("Try %(count)d day free", "Try %(count)d days free", 14)]


def test_intro_price_applies_to_the_intro_span_then_the_regular_price():
    assert price_schedule(MONTHLY, intro("9", 3)) == [
        PriceStep(3, Money(Decimal(9), "USD")),
        PriceStep(None, Money(Decimal(12), "USD")),
    ]
    assert price_schedule(MONTHLY, trial(14)) == [(None, Money(Decimal(12), "USD"))]
    assert price_schedule(MONTHLY, None) == [(None, Money(Decimal(12), "USD"))]


@pytest.mark.parametrize(
    ("eligibility", "history", "expected"),
    [
        (Eligibility.NEW, NEW, True),
        (Eligibility.NEW, LAPSED, False),
        (Eligibility.NEW, TRIALLED, False),
        (Eligibility.LAPSED, NEW, False),
        (Eligibility.LAPSED, LAPSED, True),
        (Eligibility.LAPSED, TRIALLED, True),
        (Eligibility.EVERYONE, NEW, True),
        (Eligibility.EVERYONE, LAPSED, True),
        (Eligibility.EVERYONE, SUBSCRIBED, False),
        (Eligibility.LAPSED, SUBSCRIBED, False),
    ],
)
def test_eligibility_by_reader_history(eligibility, history, expected):
    assert eligible(intro("0.99", 1, eligibility=eligibility), history, NOW) is expected


def test_a_free_trial_is_offered_once_per_reader():
    everyone = trial(14, eligibility=Eligibility.EVERYONE)
    assert eligible(everyone, NEW, NOW)
    assert eligible(everyone, LAPSED, NOW)
    assert not eligible(everyone, TRIALLED, NOW)


def test_an_offer_is_available_from_its_start_until_just_before_its_end():
    offer = intro("0.99", 1)
    assert eligible(offer, NEW, offer.starts_at)
    assert eligible(offer, NEW, offer.ends_at - timedelta(microseconds=1))
    assert not eligible(offer, NEW, offer.ends_at)
    assert not eligible(offer, NEW, offer.starts_at - timedelta(microseconds=1))


def test_best_offers_cheapest_first_period_then_soonest_end():
    dollar = intro("0.99", 1, key="dollar")
    nine = intro("9", 3, key="nine")
    free = trial(14, key="free")
    closing = intro("9", 3, key="closing", days_left=2)
    pairs = [(o, MONTHLY) for o in (nine, dollar, free, closing)]
    assert [o.key for o, _ in best_offers(pairs, NEW, NOW)] == ["free", "dollar"]
    assert [o.key for o, _ in best_offers(pairs, TRIALLED, NOW)] == ["dollar", "closing"]
    assert [o.key for o, _ in best_offers(pairs, TRIALLED, NOW, limit=None)] == [
        "dollar",
        "closing",
        "nine",
    ]
    assert best_offers(pairs, SUBSCRIBED, NOW) == []


histories = st.builds(ReaderHistory, st.booleans(), st.booleans(), st.booleans())
prices = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)
offer_specs = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(1, 60)),
        prices,
        st.integers(1, 24),
        st.integers(-5, 40),
        st.sampled_from(list(Eligibility)),
    ),
    max_size=8,
)


def build(specs):
    offers = []
    for n, (trial_days, price, periods, days_left, who) in enumerate(specs):
        common = {
            "key": f"{n:02}",
            "starts_at": NOW - timedelta(days=50),
            "ends_at": NOW + timedelta(days=days_left, hours=1),
            "eligibility": who,
        }
        if trial_days:
            offers.append(OfferTerms(trial_days=trial_days, **common))
        else:
            offers.append(
                OfferTerms(intro_price=Money(price, "USD"), intro_periods=periods, **common)
            )
    return [(o, MONTHLY) for o in offers]


@given(offer_specs, histories, st.integers(1, 5))
def test_best_offers_are_eligible_ordered_and_limited(specs, history, limit):
    pairs = build(specs)
    chosen = best_offers(pairs, history, NOW, limit=limit)
    assert len(chosen) <= limit
    assert all(eligible(o, history, NOW) for o, _ in chosen)
    keys = [(first_period_price(o, "USD").amount, o.ends_at) for o, _ in chosen]
    assert keys == sorted(keys)
    everything = best_offers(pairs, history, NOW, limit=None)
    assert chosen == everything[:limit]
    # nothing better was left out
    if len(chosen) == limit and everything[limit:]:
        worst = first_period_price(chosen[-1][0], "USD").amount
        assert all(first_period_price(o, "USD").amount >= worst for o, _ in everything[limit:])


@given(st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False))
def test_formatted_dollars_read_back_as_the_amount(amount):
    text = str(Money(amount, "USD"))
    assert text.startswith("$")
    assert Decimal(text[1:].replace(",", "")) == amount


@given(st.integers(1, 500), st.sampled_from(list(Interval)))
def test_headline_plural_agrees_with_the_count(periods, interval):
    plan = PlanTerms(price=Money(Decimal(10), "USD"), interval=interval)
    offer = intro("1", periods)
    text = headline(offer, plan)
    unit = interval.value if periods == 1 else f"{interval.value}s"
    assert text == f"Try {periods} {unit} for $1"
    schedule = price_schedule(plan, offer)
    assert schedule[0] == (periods, offer.intro_price) and schedule[-1] == (None, plan.price)


# --- the paywall's order, set by editors -------------------------------------------------


def keys(pairs):
    return [offer.key for offer, _ in pairs]


def test_the_paywall_follows_the_editors_positions_not_the_price():
    dollar = intro("0.99", 1, key="dollar", position=3)
    nine = intro("9", 3, key="nine", position=1)
    free = trial(14, key="free", position=2)
    pairs = [(o, MONTHLY) for o in (dollar, nine, free)]
    assert keys(paywall_offers(pairs, NEW, NOW)) == ["nine", "free", "dollar"]


def test_an_offer_without_a_position_stays_out_of_the_paywall():
    placed = intro("9", 3, key="placed", position=2)
    unplaced = intro("0.99", 1, key="unplaced")  # cheaper, and still left out
    pairs = [(placed, MONTHLY), (unplaced, MONTHLY)]
    assert keys(paywall_offers(pairs, NEW, NOW)) == ["placed"]
    assert keys(best_offers(pairs, NEW, NOW, limit=None)) == ["unplaced", "placed"]


def test_a_position_does_not_make_an_offer_eligible():
    comeback = intro("5", 2, key="comeback", eligibility=Eligibility.LAPSED, position=1)
    free = trial(14, key="free", position=2)
    ended = intro("1", 1, key="ended", days_left=-1, position=1)
    dollar = intro("0.99", 1, key="dollar", position=3)
    pairs = [(o, MONTHLY) for o in (comeback, free, ended, dollar)]
    assert keys(paywall_offers(pairs, NEW, NOW)) == ["free", "dollar"]
    assert keys(paywall_offers(pairs, LAPSED, NOW)) == ["comeback", "dollar"]
    assert keys(paywall_offers(pairs, TRIALLED, NOW)) == ["comeback", "dollar"]
    assert paywall_offers(pairs, SUBSCRIBED, NOW) == []


def test_the_paywall_shows_three_offers_unless_told_otherwise():
    pairs = [(intro("1", 1, key=f"o{n}", position=n), MONTHLY) for n in range(1, 6)]
    assert keys(paywall_offers(pairs, NEW, NOW)) == ["o1", "o2", "o3"]
    assert keys(paywall_offers(pairs, NEW, NOW, limit=2)) == ["o1", "o2"]


def test_offers_at_one_position_keep_the_best_offer_order():
    nine = intro("9", 3, key="nine", position=1)
    dollar = intro("0.99", 1, key="dollar", position=1)
    last = intro("0.5", 1, key="last", position=2)
    pairs = [(o, MONTHLY) for o in (nine, dollar, last)]
    assert keys(paywall_offers(pairs, NEW, NOW)) == ["dollar", "nine", "last"]


def test_a_paywall_position_counts_from_one():
    with pytest.raises(ValueError, match="counts from 1"):
        intro("1", 1, position=0)


placements = st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=8, max_size=8)


@given(offer_specs, histories, placements, st.integers(1, 4))
def test_the_paywall_is_the_first_placed_offers_the_reader_may_take(
    specs, history, positions, limit
):
    pairs = [
        (OfferTerms(**{**vars(offer), "paywall_position": position}), plan)
        for (offer, plan), position in zip(build(specs), positions, strict=False)
    ]
    chosen = paywall_offers(pairs, history, NOW, limit=limit)
    assert len(chosen) <= limit
    assert all(eligible(o, history, NOW) and o.paywall_position for o, _ in chosen)
    shown = [o.paywall_position for o, _ in chosen]
    assert shown == sorted(shown)
    left = [o for o, _ in pairs if o.paywall_position and eligible(o, history, NOW)]
    left = [o for o in left if o not in {c for c, _ in chosen}]
    if left:  # anything left out comes after (or level with) the last one shown
        assert len(chosen) == limit
        assert all(o.paywall_position >= shown[-1] for o in left)


# --- yearly against monthly --------------------------------------------------------------


def plan(price, interval, *, currency="USD", web=True, apps=False, name=""):
    return PlanTerms(
        price=Money(Decimal(price), currency), interval=interval, name=name, web=web, apps=apps
    )


def test_the_demo_yearly_plan_saves_17_percent_against_monthly():
    monthly = plan("17.00", Interval.MONTH, name="Digital")
    yearly = plan("170.00", Interval.YEAR, name="Digital, yearly")
    saving = yearly_saving(yearly, [monthly, yearly])
    assert saving.monthly == monthly
    assert str(saving.twelve_months) == "$204"
    assert str(saving.amount) == "$34"
    assert saving.percent == 17  # 16.67 % rounded


@pytest.mark.parametrize(
    ("monthly", "yearly", "percent"),
    [
        ("10", "90", 25),
        ("12", "120", 17),  # 16.67
        ("10", "119.40", 1),  # 0.5 rounds up
        ("10", "100", 17),
        ("10", "0", 100),
    ],
)
def test_the_saving_is_a_rounded_share_of_twelve_months(monthly, yearly, percent):
    found = yearly_saving(plan(yearly, Interval.YEAR), [plan(monthly, Interval.MONTH)])
    assert found.percent == percent
    assert found.amount.amount == Decimal(monthly) * 12 - Decimal(yearly)


@pytest.mark.parametrize(
    ("yearly", "plans"),
    [
        # nothing saved, or less than a rounded 1 %
        (plan("120", Interval.YEAR), [plan("10", Interval.MONTH)]),
        (plan("130", Interval.YEAR), [plan("10", Interval.MONTH)]),
        (plan("119.50", Interval.YEAR), [plan("10", Interval.MONTH)]),
        # no monthly plan to compare with
        (plan("100", Interval.YEAR), []),
        (plan("100", Interval.YEAR), [plan("90", Interval.YEAR)]),
        # a monthly plan that gives something else, or charges in another currency
        (plan("100", Interval.YEAR), [plan("10", Interval.MONTH, apps=True)]),
        (plan("100", Interval.YEAR, apps=True), [plan("10", Interval.MONTH)]),
        (plan("100", Interval.YEAR), [plan("10", Interval.MONTH, currency="EUR")]),
        # a monthly plan is not compared with itself
        (plan("1", Interval.MONTH), [plan("10", Interval.MONTH)]),
    ],
)
def test_no_saving_is_claimed_without_a_like_monthly_plan_that_costs_more(yearly, plans):
    assert yearly_saving(yearly, plans) is None


def test_the_saving_is_against_the_cheapest_like_monthly_plan():
    dearer = plan("15", Interval.MONTH, name="Dearer")
    cheaper = plan("12", Interval.MONTH, name="Cheaper")
    other = plan("5", Interval.MONTH, name="Web and apps", apps=True)
    saving = yearly_saving(plan("120", Interval.YEAR), [dearer, other, cheaper])
    assert saving.monthly == cheaper
    assert saving.percent == 17


@given(
    st.decimals(min_value="0.01", max_value=1000, places=2),
    st.decimals(min_value=0, max_value=20_000, places=2),
)
def test_a_claimed_saving_is_real(monthly, yearly):
    found = yearly_saving(plan(yearly, Interval.YEAR), [plan(monthly, Interval.MONTH)])
    if found is None:
        return
    assert yearly < monthly * 12
    assert found.amount.amount + yearly == found.twelve_months.amount == monthly * 12
    assert 1 <= found.percent <= 100
    assert abs(found.percent - found.amount.amount * 100 / (monthly * 12)) <= Decimal("0.5")
