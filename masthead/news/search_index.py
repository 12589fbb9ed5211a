"""What site search indexes of an article, and the text its snippets come from: only what
every reader may see (docs/search.md).

Search is a public channel (access.channels, Channel.SEARCH): the whole body of a free
article, the teaser of any other. The index holds the headline, the decks, that part of the
body, and the names of the authors and topics; the paywalled part of a story is never
indexed, so no search, and no list of results, can tell a reader whether a sentence is in
it. The teaser's length is the site's (Settings > Meter) when the article is indexed: an
article is indexed again each time it is published; after the teaser length changes,
`manage.py update_index` brings the older ones in line (docs/search.md)."""

import html

from django.utils.html import strip_tags

from masthead.access.channels import Channel, pieces_seen, what_may_be_seen
from masthead.access.models import MeterSettings


def teaser_paragraphs_for(article) -> int:
    site = article.get_site()
    if site is None:
        return 0
    return MeterSettings.for_site(site).teaser_paragraphs


def plain(fragment: str) -> str:
    return " ".join(html.unescape(strip_tags(fragment)).split())


def public_body_text(article, teaser_paragraphs: int | None = None) -> str:
    """The text of the body that the search channel may show, as plain text: the pieces
    channels.pieces_seen allows, never one after them."""
    if teaser_paragraphs is None:
        teaser_paragraphs = teaser_paragraphs_for(article)
    pieces = article.body_pieces()
    visibility = what_may_be_seen(Channel.SEARCH, article.access)
    shown = pieces_seen(visibility, [p.kind for p in pieces], teaser_paragraphs)
    return " ".join(text for text in (plain(str(p.html)) for p in pieces[:shown]) if text)


def names(article) -> str:
    """The authors and topics of the article, as readers see them on it."""
    authors = [item.author.name for item in article.article_authors.all()]
    topics = [tag.name for tag in article.topics.all()]
    return ", ".join(authors + topics)
