"""Which page of a listing a request asks for, from the raw query string values.

Pure Python (no Django): every paginated listing (sections, series, authors, topics, the
indexes, and site search) reads `?page=` through `parse_page`, so bad input is answered the
same way everywhere: never an error page from a parse.

- no `page`, or `page=1`: the first page;
- a positive whole number in ASCII digits, at most MAX_PAGE: that page (a number past the
  last page is the caller's 404);
- anything else — zero, negative, a sign, spaces, decimals, `abc`, `10^20`, a huge number,
  fullwidth or other non-ASCII digits (`２`), or the parameter given more than once
  (`?page=2&page=3`) — is INVALID: the listing shows its first page (whose canonical
  link names the listing's own address, so the malformed one is not indexed as a copy).

Non-ASCII digits are refused rather than normalised: `int("２")` would accept them, but no
link the site writes contains one, so such an address was typed or mangled, and one
canonical spelling per page keeps caches and crawlers from seeing duplicates."""

from collections.abc import Sequence

FIRST = 1
INVALID = None
# Far beyond any real archive (20 a page: 20 million articles), and small enough that
# Paginator's offset arithmetic never meets a number the database rejects.
MAX_PAGE = 1_000_000
_ASCII_DIGITS = frozenset("0123456789")


def parse_page(values: Sequence[str]) -> int | None:
    """The page number that `values` (every value of `page` in the query string, e.g.
    `request.GET.getlist("page")`) ask for: an int >= 1, or INVALID (None)."""
    if not values:
        return FIRST
    if len(values) > 1:
        return INVALID
    (value,) = values
    if not value or len(value) > len(str(MAX_PAGE)) or not set(value) <= _ASCII_DIGITS:
        return INVALID
    number = int(value)
    if not FIRST <= number <= MAX_PAGE:
        return INVALID
    return number
