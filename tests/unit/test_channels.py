"""The one question every channel asks (access.channels): every channel, every kind of
article and every decision the policy can give, as one table; and the body cut it implies."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from masthead.access.channels import (
    BODILESS,
    PERSONAL,
    PUBLIC,
    Channel,
    Visibility,
    pieces_seen,
    what_may_be_seen,
)
from masthead.access.policy import (
    ArticleAccess,
    MeterResult,
    Reader,
    Status,
    Subscription,
    decide,
    meter_unavailable,
)

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
ANONYMOUS = Reader(key="a:x")
CRAWLER = Reader(key="a:x", verified_crawler=True)
STAFF = Reader(key="u:1", registered=True, staff=True)
SUBSCRIBED = Subscription(status=Status.ACTIVE, period_end=NOW + timedelta(days=3))
LAPSED = Subscription(status=Status.ACTIVE, period_end=NOW - timedelta(days=3))
ADMITTED = MeterResult(allowance=5, used=1, admitted=True)
COUNTED = MeterResult(allowance=5, used=5, already_counted=True)
EXHAUSTED = MeterResult(allowance=5, used=5)

# (name, reader, subscription, free-access window, meter) -> whether a metered and a
# subscribers-only article are read in full (a free one always is).
READERS = [
    ("anonymous, allowance left", ANONYMOUS, None, False, ADMITTED, True, False),
    ("anonymous, counted before", ANONYMOUS, None, False, COUNTED, True, False),
    ("anonymous, exhausted", ANONYMOUS, None, False, EXHAUSTED, False, False),
    ("lapsed subscriber, exhausted", Reader("u:2", True), LAPSED, False, EXHAUSTED, False, False),
    ("subscriber", Reader("u:3", True), SUBSCRIBED, False, None, True, True),
    ("staff", STAFF, None, False, None, True, True),
    ("verified crawler", CRAWLER, None, False, None, True, True),
    ("free-access day", ANONYMOUS, None, True, None, True, True),
]


def rows():
    for name, reader, subscription, window, meter, metered, subscribers in READERS:
        for access in ArticleAccess:
            full = {"free": True, "metered": metered, "subscribers": subscribers}[access]
            decision = decide(
                access=access,
                reader=reader,
                subscription=subscription,
                free_access_window=window,
                now=NOW,
                meter=meter,
            )
            assert decision.full == full, (name, access)  # the table agrees with the policy
            for channel in Channel:
                yield name, access, decision, channel


def expected(channel, access, decision) -> Visibility:
    if channel == Channel.SITEMAP:
        return Visibility.NOTHING
    if channel in (Channel.FEED, Channel.SEARCH):
        return Visibility.FULL if access == "free" else Visibility.TEASER
    return Visibility.FULL if decision.full else Visibility.TEASER


@pytest.mark.parametrize(("name", "access", "decision", "channel"), list(rows()))
def test_every_channel_for_every_reader_and_article(name, access, decision, channel):
    assert what_may_be_seen(channel, access, decision) == expected(channel, access, decision)


@pytest.mark.parametrize("channel", sorted(PUBLIC | BODILESS))
@pytest.mark.parametrize("access", ["metered", "subscribers"])
def test_public_channels_never_show_a_paywalled_part_even_to_a_subscriber(channel, access):
    subscriber = decide(
        access=ArticleAccess(access),
        reader=Reader("u:3", True),
        subscription=SUBSCRIBED,
        free_access_window=False,
        now=NOW,
    )
    assert subscriber.full
    assert what_may_be_seen(channel, access, subscriber) != Visibility.FULL
    assert what_may_be_seen(channel, access) == what_may_be_seen(channel, access, subscriber)


def test_sitemaps_carry_nothing_of_a_body_even_a_free_one():
    assert what_may_be_seen(Channel.SITEMAP, "free") == Visibility.NOTHING


@pytest.mark.parametrize("channel", sorted(PERSONAL))
def test_a_personal_channel_cannot_answer_without_the_readers_decision(channel):
    with pytest.raises(ValueError, match="pass their decision"):
        what_may_be_seen(channel, "metered")


@pytest.mark.parametrize("channel", sorted(PERSONAL))
def test_a_meter_that_cannot_answer_gives_every_personal_channel_the_teaser(channel):
    assert what_may_be_seen(channel, "metered", meter_unavailable()) == Visibility.TEASER


def test_every_channel_is_in_exactly_one_group():
    assert set(Channel) == PERSONAL | PUBLIC | BODILESS
    assert not (PERSONAL & PUBLIC) and not (PERSONAL & BODILESS) and not (PUBLIC & BODILESS)


def test_unknown_channels_and_access_levels_are_refused():
    with pytest.raises(ValueError):
        what_may_be_seen("carrier-pigeon", "free")
    with pytest.raises(ValueError):
        what_may_be_seen(Channel.FEED, "premium")


KINDS = ["heading", "paragraph", "image", "paragraph", "paragraph", "quote", "paragraph"]


@pytest.mark.parametrize(
    ("visibility", "teaser", "seen"),
    [
        (Visibility.FULL, 2, 7),
        (Visibility.TEASER, 2, 4),  # up to and including the second paragraph
        (Visibility.TEASER, 1, 2),
        (Visibility.TEASER, 9, 4),  # never more than half the paragraphs
        (Visibility.TEASER, 0, 0),
        (Visibility.NOTHING, 2, 0),
    ],
)
def test_pieces_seen(visibility, teaser, seen):
    assert pieces_seen(visibility, KINDS, teaser) == seen


@given(
    kinds=st.lists(st.sampled_from(["paragraph", "image", "heading"]), max_size=30),
    teaser=st.integers(min_value=0, max_value=10),
)
def test_a_teaser_always_leaves_a_paywalled_paragraph_out(kinds, teaser):
    seen = pieces_seen(Visibility.TEASER, kinds, teaser)
    assert pieces_seen(Visibility.NOTHING, kinds, teaser) == 0
    assert pieces_seen(Visibility.FULL, kinds, teaser) == len(kinds)
    assert 0 <= seen <= len(kinds)
    if "paragraph" in kinds:
        assert "paragraph" in kinds[seen:]
