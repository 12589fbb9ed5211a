"""The teaser: how many paragraphs a reader without access receives, and rich text cut into
paragraphs so that the count is of paragraphs, never of blocks."""

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

from masthead.access.policy import Message, Reason
from masthead.access.teaser import (
    exhausted_reader_decision,
    teaser_length,
    teaser_paragraphs,
    too_short,
)
from masthead.news.paragraphs import MEDIA, PARAGRAPH, split_paragraphs

NOW = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
KINDS = ["paragraph", "subheading", "pull_quote", "image", "embed", "media"]

# --- how many paragraphs ---------------------------------------------------------------------

# (configured, paragraphs in the body) -> paragraphs in the teaser, for every body of 0 to 9
# paragraphs and every configured length the admin allows (1 to 10) and 0.
TABLE = {
    0: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    1: [0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
    2: [0, 0, 1, 1, 2, 2, 2, 2, 2, 2],
    3: [0, 0, 1, 1, 2, 2, 3, 3, 3, 3],
    4: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
    5: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
    6: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
    7: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
    8: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
    9: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
    10: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
}


@pytest.mark.parametrize(
    ("configured", "paragraphs", "expected"),
    [(c, p, row[p]) for c, row in TABLE.items() for p in range(len(row))],
)
def test_the_teaser_is_the_configured_length_but_never_more_than_half(
    configured, paragraphs, expected
):
    assert teaser_paragraphs(configured, paragraphs) == expected


@pytest.mark.parametrize(
    ("kinds", "configured", "expected"),
    [
        # a story pasted as one block, split into its 8 paragraphs
        (["paragraph"] * 8, 2, 2),
        (["paragraph"] * 8, 10, 4),
        # one paragraph: nothing of it goes out
        (["paragraph"], 2, 0),
        (["paragraph"] * 2, 2, 1),
        (["paragraph"] * 3, 2, 1),
        # only images or embeds: none of them
        (["image"], 2, 0),
        (["image", "embed", "image", "media"], 2, 0),
        (["image", "paragraph"], 2, 0),
        # what comes before the last paragraph of the teaser comes along, nothing after it
        (["image", "paragraph", "paragraph"], 2, 2),
        (["subheading", "paragraph", "pull_quote", "paragraph", "paragraph"], 2, 2),
        (["paragraph", "image", "paragraph", "subheading", "paragraph", "paragraph"], 2, 3),
        (["paragraph", "paragraph", "image", "paragraph", "paragraph"], 2, 2),
        ([], 2, 0),
    ],
)
def test_the_teaser_ends_after_its_last_paragraph(kinds, configured, expected):
    assert teaser_length(kinds, configured) == expected


@given(st.lists(st.sampled_from(KINDS), max_size=30), st.integers(min_value=0, max_value=12))
def test_every_paywalled_body_keeps_a_paywalled_part(kinds, configured):
    # when
    cut = teaser_length(kinds, configured)
    teaser, rest = kinds[:cut], kinds[cut:]
    # then
    paragraphs = kinds.count(PARAGRAPH)
    assert teaser.count(PARAGRAPH) <= min(configured, paragraphs // 2)
    assert rest.count(PARAGRAPH) >= (paragraphs + 1) // 2
    assert cut == 0 or teaser[-1] == PARAGRAPH
    if PARAGRAPH not in kinds:
        assert cut == 0


@given(st.integers(min_value=0, max_value=12), st.integers(min_value=0, max_value=40))
def test_a_longer_configuration_or_body_never_shortens_the_teaser(configured, paragraphs):
    assert teaser_paragraphs(configured + 1, paragraphs) >= teaser_paragraphs(
        configured, paragraphs
    )
    assert teaser_paragraphs(configured, paragraphs + 1) >= teaser_paragraphs(
        configured, paragraphs
    )


@pytest.mark.parametrize(("paragraphs", "short"), [(0, True), (1, True), (2, False), (9, False)])
def test_an_article_of_fewer_than_two_paragraphs_is_too_short_for_a_teaser(paragraphs, short):
    assert too_short(paragraphs) is short


@pytest.mark.parametrize(
    ("access", "full", "reason", "message"),
    [
        ("metered", False, Reason.EXHAUSTED, Message.PAYWALL_EXHAUSTED),
        ("subscribers", False, Reason.SUBSCRIBERS_ONLY, Message.PAYWALL_SUBSCRIBERS),
        ("free", True, Reason.FREE, Message.NONE),
    ],
)
def test_the_preview_decision_is_the_one_an_exhausted_reader_gets(access, full, reason, message):
    decision = exhausted_reader_decision(access, NOW)
    assert (decision.full, decision.reason, decision.message) == (full, reason, message)


# --- rich text cut into paragraphs ------------------------------------------------------------


class _Balance(HTMLParser):
    """Whether every element opened is closed, in order (void elements aside)."""

    VOID = {"br", "img", "hr", "wbr", "input", "source", "embed"}

    def __init__(self):
        super().__init__()
        self.open, self.ok = [], True

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        self.ok = self.ok and bool(self.open) and self.open.pop() == tag


def well_formed(html: str) -> bool:
    parser = _Balance()
    parser.feed(html)
    parser.close()
    return parser.ok and not parser.open


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>One.</p><p>Two.</p>", ["<p>One.</p>", "<p>Two.</p>"]),
        (
            '<p>A <a href="/x?a=1&amp;b=2">link</a> &amp; <b>bold</b>.</p>\n<p>Two &lt;3.</p>',
            ['<p>A <a href="/x?a=1&amp;b=2">link</a> &amp; <b>bold</b>.</p>', "<p>Two &lt;3.</p>"],
        ),
        # blank lines neither pad the count nor make a paragraph of nothing
        ("<p>One.</p><p></p><p><br/></p><p> </p><p>Two.</p>", ["<p>One.</p>", "<p>Two.</p>"]),
        # text outside any paragraph is a paragraph of its own
        (
            "Bare <i>line</i>.<p>Two.</p>Tail.",
            ["<p>Bare <i>line</i>.</p>", "<p>Two.</p>", "<p>Tail.</p>"],
        ),
        # a wrapper from a word processor: its paragraphs, each still inside a copy of it
        (
            '<div class="doc"><p>One.</p><p>Two.</p></div>',
            ['<div class="doc"><p>One.</p></div>', '<div class="doc"><p>Two.</p></div>'],
        ),
        (
            "<blockquote><p>One.</p><p>Two.</p></blockquote>",
            ["<blockquote><p>One.</p></blockquote>", "<blockquote><p>Two.</p></blockquote>"],
        ),
        # unclosed paragraphs (malformed HTML) still give one piece per paragraph
        ("<p>One.<p>Two.<p>Three.", ["<p>One.</p>", "<p>Two.</p>", "<p>Three.</p>"]),
        (
            "<h2>Heading</h2><ul><li>a</li><li>b</li></ul>",
            ["<h2>Heading</h2>", "<ul><li>a</li><li>b</li></ul>"],
        ),
        ("<!-- pasted --><p>One.</p>", ["<p>One.</p>"]),
        ("", []),
    ],
)
def test_rich_text_is_cut_into_its_paragraphs(html, expected):
    pieces = split_paragraphs(html)
    assert [piece.html for piece in pieces] == expected
    assert all(piece.kind == PARAGRAPH for piece in pieces)


def test_an_image_without_text_is_not_a_paragraph():
    pieces = split_paragraphs('<p><img alt="A view" src="/a.jpg"/></p><p>Caption text.</p>')
    assert [piece.kind for piece in pieces] == [MEDIA, PARAGRAPH]


_FRAGMENTS = st.sampled_from(
    [
        "<p>Text.</p>",
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<b>bold",
        "</b>",
        "<blockquote>",
        "</blockquote>",
        "loose & text",
        "<br>",
        '<img src="/a.jpg">',
        "<h2>Head</h2>",
        "<!-- c -->",
        "</i>",
    ]
)


@given(st.lists(_FRAGMENTS, max_size=20))
def test_every_piece_is_well_formed_and_no_text_is_lost(fragments):
    # given: any soup of tags, closed or not
    html = "".join(fragments)
    # when
    pieces = split_paragraphs(html)
    # then
    assert all(well_formed(piece.html) for piece in pieces)
    assert all(piece.kind in (PARAGRAPH, MEDIA) for piece in pieces)
    assert words("".join(text_of(piece.html) for piece in pieces)) == words(text_of(html))


def text_of(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text()


def words(text: str) -> str:
    return "".join(text.split())
