"""How much of a body a reader without access receives.

The body arrives as a list of piece kinds in which every paragraph of rich text is a piece of
its own (``news.paragraphs`` splits the rich-text blocks): a story pasted as one block is the
normal case, so counting blocks would give it away whole.
"""

from datetime import datetime

from .policy import ArticleAccess, Decision, MeterResult, Reader, decide

PARAGRAPH = "paragraph"
# Fewer paragraphs than this leave a paywalled article without a teaser (the half rule
# gives it none): the admin warns the editor.
MIN_PARAGRAPHS = 2


def teaser_paragraphs(configured: int, paragraphs: int) -> int:
    """How many paragraphs make the teaser: the configured number, but never more than half
    of the body's paragraphs (rounded down), so every paywalled article keeps a paywalled
    part however short it is."""
    return max(0, min(configured, paragraphs // 2))


def teaser_length(kinds: list[str], paragraphs: int) -> int:
    """The number of leading body pieces that make the teaser: everything up to and
    including its last paragraph (a subheading or quote before it comes along). A body
    without paragraphs (only images or embeds) has an empty teaser."""
    wanted = teaser_paragraphs(paragraphs, kinds.count(PARAGRAPH))
    if wanted == 0:
        return 0
    seen = 0
    for index, kind in enumerate(kinds):
        if kind == PARAGRAPH:
            seen += 1
            if seen == wanted:
                return index + 1
    raise AssertionError("unreachable: wanted is at most the number of paragraphs")


def too_short(paragraphs: int) -> bool:
    """Whether a paywalled article this long shows readers without access no text at all."""
    return paragraphs < MIN_PARAGRAPHS


def exhausted_reader_decision(access: str, now: datetime) -> Decision:
    """What an anonymous reader whose allowance is used up gets (the editors' preview):
    the access rules asked, not imitated."""
    return decide(
        access=ArticleAccess(access),
        reader=Reader(key="a:preview"),
        subscription=None,
        free_access_window=False,
        now=now,
        meter=MeterResult(allowance=0, used=0),
    )
