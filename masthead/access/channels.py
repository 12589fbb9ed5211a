"""The one question every channel asks: what may be seen of this article here?

Every way an article leaves the building is a channel. A *personal* channel answers one
reader it knows (the page, its print view, the app API, a subscriber's private feed, an
e-mail to one reader): it sees what that reader's access decision (policy.decide, through
gate.article_decision) allows. A *public* channel gives one answer to everybody and may be
kept by shared caches (the public feeds, on-site search results and snippets): it never
shows more than every reader may see, which is the whole of a free article and the teaser
of any other. A sitemap names articles and carries nothing of their bodies.

Pure: no ORM, no request, so the rule can be tested exhaustively. The edge that makes the
decision for a personal channel is gate.channel_decision.
"""

from enum import StrEnum

from .policy import ArticleAccess, Decision
from .teaser import teaser_length


class Channel(StrEnum):
    HTML = "html"
    PRINT = "print"
    API = "api"
    FEED = "feed"
    PRIVATE_FEED = "private_feed"
    SEARCH = "search"
    SITEMAP = "sitemap"
    EMAIL = "email"


class Visibility(StrEnum):
    FULL = "full"  # every piece of the body
    TEASER = "teaser"  # the teaser (access.teaser), never the paywalled part
    NOTHING = "nothing"  # nothing of the body: headline, deck and link only


PERSONAL = frozenset(
    {Channel.HTML, Channel.PRINT, Channel.API, Channel.PRIVATE_FEED, Channel.EMAIL}
)
PUBLIC = frozenset({Channel.FEED, Channel.SEARCH})
BODILESS = frozenset({Channel.SITEMAP})


def what_may_be_seen(channel: Channel, access: str, decision: Decision | None = None) -> Visibility:
    """How much of the body of an article with this `access` (free | metered |
    subscribers) `channel` may show. A personal channel passes the reader's decision and
    gets FULL or TEASER from it; a public channel passes none (a decision, if given, is
    ignored: a public answer cannot depend on who asked); a sitemap gets NOTHING."""
    channel = Channel(channel)
    access = ArticleAccess(access)
    if channel in BODILESS:
        return Visibility.NOTHING
    if channel in PUBLIC:
        return Visibility.FULL if access == ArticleAccess.FREE else Visibility.TEASER
    if decision is None:
        raise ValueError(f"the {channel} channel answers one reader: pass their decision")
    return Visibility.FULL if decision.full else Visibility.TEASER


def pieces_seen(visibility: Visibility, kinds: list[str], teaser_paragraphs: int) -> int:
    """How many leading body pieces (their kinds, as access.teaser counts them) a channel
    shows for `visibility`: all, the teaser, or none. The paywalled part is never in the
    first n pieces of a teaser, so a channel shows body[:n] and nothing after it."""
    if visibility == Visibility.FULL:
        return len(kinds)
    if visibility == Visibility.TEASER:
        return teaser_length(list(kinds), teaser_paragraphs)
    return 0
