"""Rich text cut into its paragraphs, so that the paywall can cut inside a rich-text block.

A story pasted from a word processor arrives as one rich-text block holding every paragraph;
the teaser (``access.teaser``) counts these pieces, never blocks. The HTML is parsed with
BeautifulSoup (a Wagtail dependency; Wagtail's own rich-text converters use it) and each
piece is serialised from the parse tree, so every piece is well-formed on its own.
"""

from typing import NamedTuple

from bs4 import BeautifulSoup, Tag
from bs4.element import PreformattedString

PARAGRAPH = "paragraph"
MEDIA = "media"

# Elements that may hold blocks rather than being one: when they do, their children are the
# paragraphs (each wrapped in a copy of the element, so that a quote stays a quote). A
# paragraph inside a paragraph is malformed HTML; its parts are paragraphs of their own.
_WRAPPERS = frozenset({"div", "section", "article", "main", "blockquote", "p"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dl", "div", "figure", "footer", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "ol", "p", "pre", "section",
        "table", "ul", "iframe", "video", "audio", "picture",
    }
)  # fmt: skip
_MEDIA = ("img", "iframe", "video", "audio", "picture", "svg", "object", "embed")


class Piece(NamedTuple):
    kind: str  # PARAGRAPH (it holds text) or MEDIA (only an image or embed)
    html: str


def split_paragraphs(html: str) -> list[Piece]:
    """The top-level paragraphs of rich-text HTML, in order. Text outside any block (a bare
    line, inline tags) becomes a paragraph of its own; empty paragraphs are dropped, so that
    blank lines can neither pad the count nor make a teaser of nothing."""
    soup = BeautifulSoup(html, "html.parser")
    pieces: list[Piece] = []
    _collect(soup.contents, pieces)
    return pieces


def _collect(nodes, pieces: list[Piece]) -> None:
    run: list = []  # consecutive inline nodes, one paragraph together
    for node in list(nodes):
        if isinstance(node, PreformattedString):
            continue  # comments, doctypes, processing instructions
        if not (isinstance(node, Tag) and node.name in _BLOCKS):
            run.append(node)
            continue
        _flush(run, pieces)
        run = []
        if node.name in _WRAPPERS and node.find(_BLOCKS) is not None:
            inner: list[Piece] = []
            _collect(node.contents, inner)
            if node.name != "p":
                inner = [_wrapped(piece, node) for piece in inner]
            pieces.extend(inner)
        else:
            _add(pieces, node, node.decode())
    _flush(run, pieces)


def _wrapped(piece: Piece, wrapper: Tag) -> Piece:
    copy = BeautifulSoup("", "html.parser").new_tag(wrapper.name, attrs=dict(wrapper.attrs))
    copy.append(BeautifulSoup(piece.html, "html.parser"))
    return Piece(piece.kind, copy.decode())


def _flush(run: list, pieces: list[Piece]) -> None:
    if not run:
        return
    paragraph = BeautifulSoup("<p></p>", "html.parser").p
    for node in run:
        paragraph.append(node.extract())
    _add(pieces, paragraph, paragraph.decode())


def _add(pieces: list[Piece], node, html: str) -> None:
    if node.get_text().strip():
        pieces.append(Piece(PARAGRAPH, html))
    elif node.name in _MEDIA or node.find(_MEDIA) is not None:
        pieces.append(Piece(MEDIA, html))
