"""What every listing page (home, sections, series, the author and topic pages and their
indexes) shares: one page of its items from `?page=` (paging.parse_page: a malformed number
shows the first page, one past the last page is a 404), and the head of the page — canonical
URL, `rel=prev/next`, OpenGraph and Twitter tags, breadcrumbs and their BreadcrumbList
JSON-LD. `listing_page` does both for a paginated listing.

A listing's picture (og:image) belongs to the listing, not to the page of it shown: every
page of a section shares the section's picture, so a link to page 3 does not show a story
that happened to open page 3 that day (`lead_picture`).

Listings show teasers only (headline, deck, date, picture: includes/article_card.html), so
nothing here depends on who reads: a listing is the same for every reader."""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import EmptyPage, Paginator
from django.http import Http404

from masthead.core import generations

from .breadcrumbs import Crumb, breadcrumb_list
from .images import SHARE_IMAGE
from .paging import FIRST, INVALID, parse_page
from .renditions import rendition_or_none
from .structured_data import to_script_json

HOME = "Home"
INDEX_TIMEOUT = 24 * 3600


def cached_index(request, name: str, build):
    """`build()` (plain values: the authors' or topics' counts of an index), cached under
    the listings generation, which every publish, unpublish, move or delete of an article
    changes, and the pages generation, which edits of authors and topics change. Built
    afresh when the cache cannot answer."""
    pages = generations.current(generations.PAGES, request)
    listings = generations.current(generations.LISTINGS, request)
    if pages is None or listings is None:
        return build()
    key = f"listing-index:{name}:{pages}:{listings}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, INDEX_TIMEOUT)
    return value


def page_size() -> int:
    return settings.MASTHEAD_LISTING_PAGE_SIZE


def page_of(request, items, per_page: int | None = None):
    """The page of `items` that `?page=` asks for (Django's Paginator Page). A malformed
    number shows the first page; a well-formed one past the last page is a 404 (an
    empty listing has one empty page)."""
    number = parse_page(request.GET.getlist("page"))
    if number is INVALID:
        number = FIRST
    try:
        return Paginator(items, per_page or page_size()).page(number)
    except EmptyPage as error:
        raise Http404("No such page") from error


def lead_picture(articles, page):
    """The picture of a listing of `articles` (newest first): the lead image of its newest
    article that has one, whichever `page` of it is shown, or None. Page 1 usually holds it
    already; otherwise it is one query that stops at the first pictured article."""
    if page.number == 1:
        for article in page:
            if article.lead_image_id is not None:
                return article.lead_image
        if not page.has_next():
            return None
    first = articles.exclude(lead_image=None).select_related("lead_image").first()
    return first.lead_image if first is not None else None


def listing_page(request, items, *, per_page: int | None = None, picture=None, **head):
    """(the page of `items` that `?page=` asks for, its ListingHead): page_of, then
    listing_head with `head`'s keyword arguments. `picture(items, page)`, if given, chooses
    the image once the page is known (`lead_picture` for a listing of articles); a fixed
    picture (an author's photo) is passed as `image` instead."""
    page = page_of(request, items, per_page)
    if picture is not None:
        head["image"] = picture(items, page)
    return page, listing_head(request, page=page, **head)


def page_url(path: str, number: int) -> str:
    """The address of page `number` of the listing at `path`: page 1 is the path itself."""
    return path if number == 1 else f"{path}?{urlencode({'page': number})}"


@dataclass
class ListingHead:
    """The head and the trail of a listing page, for news/includes/listing_meta.html and
    news/includes/breadcrumbs.html."""

    title: str
    description: str
    canonical_url: str
    og_type: str = "website"
    image_url: str | None = None
    prev_url: str | None = None  # absolute, for <link rel=prev>
    next_url: str | None = None
    crumbs: list[Crumb] = field(default_factory=list)

    @property
    def breadcrumb_json_ld(self) -> str:
        return to_script_json(breadcrumb_list(self.crumbs)) if len(self.crumbs) > 1 else ""


def listing_head(
    request,
    *,
    path: str,
    title: str,
    description: str,
    trail: list[tuple[str, str]] = (),
    page=None,
    og_type: str = "website",
    image=None,
    image_spec: str = SHARE_IMAGE,
) -> ListingHead:
    """`path`: the listing's own path; `trail`: (name, path) of each page above it, the home
    page first (the listing itself is added as the last crumb); `page`: the Paginator page
    shown, if any; `image`: a Wagtail image for og:image, if any."""
    absolute = request.build_absolute_uri
    number = page.number if page is not None else 1
    head = ListingHead(
        title=title,
        description=description,
        canonical_url=absolute(page_url(path, number)),
        og_type=og_type,
        crumbs=[Crumb(name, absolute(p)) for name, p in trail] + [Crumb(title, absolute(path))],
    )
    if page is not None and page.has_previous():
        head.prev_url = absolute(page_url(path, page.previous_page_number()))
    if page is not None and page.has_next():
        head.next_url = absolute(page_url(path, page.next_page_number()))
    if image is not None:
        rendition = rendition_or_none(image, image_spec)
        if rendition is not None:
            head.image_url = absolute(rendition.url)
    return head
