"""RSS 2.0 and Atom feeds of the latest articles: the whole site, a section, a series, an
author, a topic; and a subscriber's private full-text feed of the whole site, in both formats.

Feeds are channels (masthead.access.channels): how much of each body an item carries is
`what_may_be_seen(Channel.FEED, ...)` for the public feeds (a free article whole, any other
one's teaser, never a paywalled paragraph, whoever asks) and, for a private feed, the
owner's decision at the moment of the fetch (`gate.channel_decision(..., PRIVATE_FEED)`,
which never spends the meter). The cut is the pages' cut (access.teaser via pieces_seen).

Routes are RoutablePageMixin routes of the pages they belong to (``FeedRoutes`` on sections
and series, ``SiteFeedRoutes`` on the home page for the site, authors, topics and private
feeds), so Wagtail's routing, sites, view restrictions and hooks apply to a feed exactly as
to its page; a URL pattern before Wagtail's catch-all would have to find the page itself.

The items (each article's headline, deck, rendered body pieces, authors, dates, topics and
lead image) are built once and cached under the listings and pages generations
(masthead.core.generations), as is each rendered public feed: a publish, unpublish, move or
delete of an article, or an edit of what every page shows, makes new keys. Public feeds are
`public, max-age` and answer conditional GETs (ETag, Last-Modified) with 304.
"""

import hashlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from django.apps import apps
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed
from django.utils.html import escape
from taggit.models import Tag
from wagtail.contrib.routable_page.models import path

from masthead.access.channels import Channel, pieces_seen, what_may_be_seen
from masthead.access.context import reader_context
from masthead.access.gate import channel_decision
from masthead.core import generations

from .images import PRINT
from .renditions import rendition_or_none

ITEMS = 20
MAX_AGE = 300  # seconds a shared cache or feed reader may keep a public feed
TIMEOUT = 24 * 3600  # cached entries and feeds: their keys name their generations
ENCLOSURE_SPEC = PRINT.filter_specs[0]  # one JPEG, 800 wide


@dataclass(frozen=True)
class Enclosed:
    url: str
    length: int


@dataclass(frozen=True)
class Entry:
    """An article as every feed shows it. `pieces` holds the whole body, paywalled part
    included: only what_may_be_seen decides how many of them an item carries."""

    pk: int
    access: str
    title: str
    url: str
    deck: str
    kinds: tuple[str, ...]
    pieces: tuple[str, ...]
    authors: tuple[str, ...]
    published: object
    updated: object
    topics: tuple[str, ...]
    image: Enclosed | None


@dataclass(frozen=True)
class Scope:
    key: str  # names the cache entries: "site", "section:12", "author:ada"...
    title: str
    link: str  # the page the feed follows
    description: str
    articles: object  # a queryset of live articles, newest first


def _entry(article, request) -> Entry:
    pieces = article.body_pieces()
    image = None
    if article.lead_image is not None:
        rendition = rendition_or_none(article.lead_image, ENCLOSURE_SPEC)
        if rendition is not None:
            try:
                length = rendition.file.size
            except OSError:
                length = 0
            image = Enclosed(request.build_absolute_uri(rendition.url), length)
    return Entry(
        pk=article.pk,
        access=article.access,
        title=article.title,
        url=request.build_absolute_uri(article.get_url(request)),
        deck=article.deck,
        kinds=tuple(p.kind for p in pieces),
        pieces=tuple(str(p.html) for p in pieces),
        authors=tuple(link.author.name for link in article.article_authors.all()),
        published=article.published,
        updated=article.updated_at or article.last_published_at or article.published,
        topics=tuple(tagged.tag.name for tagged in article.tagged_items.all()),
        image=image,
    )


def _tokens(request) -> str | None:
    listings = generations.current(generations.LISTINGS, request)
    pages = generations.current(generations.PAGES, request)
    if listings is None or pages is None:
        return None  # the cache cannot answer: nothing is cached
    return (
        f"{listings}:{pages}:{request.scheme}://{request.get_host()}:{translation.get_language()}"
    )


def entries(request, scope: Scope) -> list[Entry]:
    """The scope's latest articles as feed entries, from the cache when it has them."""
    tokens = _tokens(request)
    key = f"feed-entries:{scope.key}:{tokens}"
    found = cache.get(key) if tokens else None
    if found is None:
        articles = scope.articles.prefetch_related("article_authors__author", "tagged_items__tag")[
            :ITEMS
        ]
        found = [_entry(article, request) for article in articles]
        if tokens:
            cache.set(key, found, TIMEOUT)
    return found


@dataclass(frozen=True)
class Item:
    entry: Entry
    description: str


def describe(entry: Entry, shown: int) -> str:
    """The item's HTML: the deck, the first `shown` body pieces, and a link to the story
    when that is not all of it."""
    html = f"<p><strong>{escape(entry.deck)}</strong></p>" if entry.deck else ""
    html += "".join(entry.pieces[:shown])
    if shown < len(entry.pieces):
        link = escape(entry.url)
        html += f'<p><a href="{link}">Read the whole story on {escape(site_name())}</a></p>'
    return html


def site_name() -> str:
    return settings.MASTHEAD_SITE_NAME


def public_items(request, found: list[Entry]) -> list[Item]:
    teaser = reader_context(request).meter_settings.teaser_paragraphs
    items = []
    for entry in found:
        visibility = what_may_be_seen(Channel.FEED, entry.access)
        items.append(Item(entry, describe(entry, pieces_seen(visibility, entry.kinds, teaser))))
    return items


def private_items(request, found: list[Entry]) -> list[Item]:
    """Each item as the request's reader (the feed's owner) may read it now."""
    context = reader_context(request)
    teaser = context.meter_settings.teaser_paragraphs
    items = []
    for entry in found:
        decision = channel_decision(context, entry, Channel.PRIVATE_FEED)
        visibility = what_may_be_seen(Channel.PRIVATE_FEED, entry.access, decision)
        items.append(Item(entry, describe(entry, pieces_seen(visibility, entry.kinds, teaser))))
    return items


class ArticleFeed(Feed):
    """Django's syndication feed over prepared items (the feed's own view is ours)."""

    def __init__(self, scope: Scope, items: list[Item], feed_type):
        super().__init__()
        self.scope, self._items, self.feed_type = scope, items, feed_type

    def get_object(self, request, *args, **kwargs):
        return self.scope

    def title(self, scope):
        return f"{site_name()}: {scope.title}" if scope.key != "site" else site_name()

    def link(self, scope):
        return scope.link

    def description(self, scope):
        return scope.description

    subtitle = description

    def items(self, scope):
        return self._items

    def item_title(self, item):
        return item.entry.title

    def item_link(self, item):
        return item.entry.url

    def item_guid(self, item):
        return item.entry.url

    item_guid_is_permalink = True

    def item_description(self, item):
        return item.description

    def item_author_name(self, item):
        return ", ".join(item.entry.authors) or None

    def item_pubdate(self, item):
        return item.entry.published

    def item_updateddate(self, item):
        return item.entry.updated

    def item_categories(self, item):
        return item.entry.topics

    def item_enclosures(self, item):
        image = item.entry.image
        if image is None:
            return []
        return [Enclosure(image.url, str(image.length), "image/jpeg")]


FORMATS = {"rss": Rss201rev2Feed, "atom": Atom1Feed}


def render(request, scope: Scope, items: list[Item], kind: str) -> HttpResponse:
    return ArticleFeed(scope, items, FORMATS[kind])(request)


def conditional(request, response: HttpResponse) -> HttpResponse:
    """ETag (of the body) and the feed's Last-Modified; 304 when the client has them."""
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    response["ETag"] = etag
    modified = response.get("Last-Modified")
    timestamp = parsedate_to_datetime(modified).timestamp() if modified else None
    return get_conditional_response(request, etag=etag, last_modified=timestamp, response=response)


def public_feed(request, scope: Scope, kind: str) -> HttpResponse:
    """A public feed, rendered once per generation and kind and kept in the cache."""
    tokens = _tokens(request)
    key = f"feed:{scope.key}:{kind}:{tokens}"
    stored = cache.get(key) if tokens else None
    if stored is None:
        response = render(request, scope, public_items(request, entries(request, scope)), kind)
        stored = (response.content, response["Content-Type"], response.get("Last-Modified"))
        if tokens:
            cache.set(key, stored, TIMEOUT)
    content, content_type, modified = stored
    response = HttpResponse(content, content_type=content_type)
    if modified:
        response["Last-Modified"] = modified
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return conditional(request, response)


# --- scopes -------------------------------------------------------------------------------


def _live():
    """Live public articles, newest first, as news.models.live_articles lists them; found
    through the app registry because models imports this module for the page routes."""
    articles = apps.get_model("news", "ArticlePage").objects.live().public()
    return articles.select_related("series", "sponsor", "lead_image").order_by(
        "-published_at", "-pk"
    )


def site_scope(home, request) -> Scope:
    return Scope(
        key="site",
        title="latest news",
        link=home.get_url(request),
        description=home.intro or f"The latest news from {site_name()}",
        articles=_live().descendant_of(home),
    )


def page_scope(page, request) -> Scope:
    return Scope(
        key=f"page:{page.pk}",
        title=page.title,
        link=page.get_url(request),
        description=getattr(page, "intro", "") or f"{page.title} from {site_name()}",
        articles=page.feed_articles(_live()),
    )


def author_scope(home, slug: str) -> Scope:
    author = get_object_or_404(apps.get_model("news", "Author"), slug=slug)
    return Scope(
        key=f"author:{author.pk}",
        title=author.name,
        link=author.get_url(),
        description=f"Articles by {author.name}",
        articles=_live().descendant_of(home).filter(article_authors__author=author).distinct(),
    )


def topic_scope(home, slug: str) -> Scope:
    topic = get_object_or_404(Tag, slug=slug)
    return Scope(
        key=f"topic:{topic.pk}",
        title=topic.name,
        link=f"/topics/{topic.slug}/",
        description=f"Articles on {topic.name}",
        articles=_live().descendant_of(home).filter(tagged_items__tag=topic).distinct(),
    )


# --- routes -------------------------------------------------------------------------------


class FeedRoutes:
    """A section's feeds: <page>/feed/ (RSS 2.0) and <page>/feed/atom/, of its articles."""

    def feed_articles(self, articles):
        return articles.child_of(self)

    @path("feed/", name="feed")
    def rss_feed(self, request):
        return public_feed(request, page_scope(self, request), "rss")

    @path("feed/atom/", name="feed-atom")
    def atom_feed(self, request):
        return public_feed(request, page_scope(self, request), "atom")


class SeriesFeedRoutes(FeedRoutes):
    """A series' feeds: the articles of the series, wherever they are filed."""

    def feed_articles(self, articles):
        return articles.filter(series=self)


class SiteFeedRoutes:
    """The home page's feeds: the site's, each author's and topic's, and private feeds."""

    @path("feed/", name="feed")
    def rss_feed(self, request):
        return public_feed(request, site_scope(self, request), "rss")

    @path("feed/atom/", name="feed-atom")
    def atom_feed(self, request):
        return public_feed(request, site_scope(self, request), "atom")

    @path("rss/", name="rss")
    def rss_redirect(self, request):
        return HttpResponsePermanentRedirect(self.get_url(request) + "feed/")

    @path("authors/<slug:slug>/feed/", name="author-feed")
    def author_feed(self, request, slug):
        return public_feed(request, author_scope(self, slug), "rss")

    @path("authors/<slug:slug>/feed/atom/", name="author-feed-atom")
    def author_atom_feed(self, request, slug):
        return public_feed(request, author_scope(self, slug), "atom")

    @path("topics/<slug:slug>/feed/", name="topic-feed")
    def topic_feed(self, request, slug):
        return public_feed(request, topic_scope(self, slug), "rss")

    @path("topics/<slug:slug>/feed/atom/", name="topic-feed-atom")
    def topic_atom_feed(self, request, slug):
        return public_feed(request, topic_scope(self, slug), "atom")

    @path("feed/private/<str:secret>/", name="private-feed")
    def private_feed(self, request, secret):
        return self.private(request, secret, "rss")

    @path("feed/private/<str:secret>/atom/", name="private-feed-atom")
    def private_atom_feed(self, request, secret):
        return self.private(request, secret, "atom")

    def private(self, request, secret, kind):
        """One private feed in either format: the same secret, owner, rules and count."""
        from masthead.readers import private_feeds

        return private_feeds.serve(request, secret, lambda: private_response(self, request, kind))


def private_response(home, request, kind: str) -> HttpResponse:
    """The site's feed as the request's reader (the private feed's owner, set by
    readers.private_feeds.serve) may read it at this moment: never cached, never shared."""
    scope = site_scope(home, request)
    response = render(request, scope, private_items(request, entries(request, scope)), kind)
    return conditional(request, response)


def feed_links(context) -> list[dict]:
    """The <link rel="alternate"> feeds of the page being rendered: the site's, and the
    page's own (a section, series, author or topic). Built from what the page's context
    holds already: no query."""
    rss, atom = "application/rss+xml", "application/atom+xml"
    name = site_name()
    found = [
        {"type": rss, "title": f"{name} (RSS)", "url": "/feed/"},
        {"type": atom, "title": f"{name} (Atom)", "url": "/feed/atom/"},
    ]
    own = None
    page = context.get("page")
    if context.get("author") is not None and hasattr(context["author"], "get_url"):
        own = (context["author"].name, context["author"].get_url())
    elif context.get("topic") is not None and hasattr(context["topic"], "slug"):
        own = (context["topic"].name, f"/topics/{context['topic'].slug}/")
    elif isinstance(page, FeedRoutes):
        own = (page.title, page.url)
    if own is not None and own[1]:
        title, url = own
        found += [
            {"type": rss, "title": f"{name}: {title} (RSS)", "url": f"{url}feed/"},
            {"type": atom, "title": f"{name}: {title} (Atom)", "url": f"{url}feed/atom/"},
        ]
    return found
