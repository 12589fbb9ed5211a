"""Which slugs a page's children may not take.

A child page lives at its parent's address plus its slug, but Wagtail answers a parent's
own routes first (RoutablePageMixin: a section's ``feed/``, the home page's ``rss/``,
``authors/`` and ``topics/``), and under a site's root page the project's own URLs
(``masthead/urls.py``, ahead of Wagtail's catch-all: ``account/``, ``search/``...) come
before any page. A child at one of those slugs could be published and never be seen, so
the editor refuses it. The reserved names are not listed by hand: they are read off the
routes themselves (``first_segment``), so a new route reserves its name the day it is added.

Pure: routes in, names out; the edge that finds a parent's routes is news.forms.
"""

import re
from collections.abc import Iterable

# A literal path segment as a route spells it: what a slug can be, and nothing that a
# converter (<slug:slug>), a regex group or a file name (robots.txt) would contain.
_LITERAL = re.compile(r"[\w-]+")


def first_segment(route: str) -> str | None:
    """The literal first segment of a URL route or regex ("feed/atom/" -> "feed",
    "^media/(?P<path>.*)$" -> "media"); None when the route starts with a parameter or is
    empty (the page itself)."""
    head = route.removeprefix("^").split("/", 1)[0]
    return head if _LITERAL.fullmatch(head) else None


def reserved(routes: Iterable[str]) -> frozenset[str]:
    """Every slug that one of these routes, under the same address, would hide."""
    return frozenset(name for name in map(first_segment, routes) if name)


def refusal(slug: str, address: str, taken: frozenset[str]) -> str | None:
    """The editor's message when `slug`, under the parent at `address`, is one of the
    `taken` names; None when the slug is free."""
    if slug not in taken:
        return None
    return (
        f"“{slug}” cannot be used here: {address}{slug}/ is already an address of the site "
        f"itself (a feed, an index or another built-in page), so a page there would never "
        f"be shown. Please choose another slug, e.g. “{slug}-page”."
    )
