"""Site search at /search/: Wagtail's search (wagtail.search, the database backend: SQLite's
FTS5 in the demo, PostgreSQL's full-text search in production) over live, public articles of
the request's site, with filters, two orders and pages of PAGE_SIZE.

Search is a public channel (access.channels): the index holds only what every reader may
see (news.search_index), and every snippet and highlight comes from that text too, so the
page is the same for every reader, whoever they are. docs/search.md gives the decisions
and the bounds on what one query may cost."""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from taggit.models import Tag
from wagtail.models import Site
from wagtail.search.query import And, Phrase, PlainText

from masthead.core import generations

from . import search_index
from .models import ArticleAuthor, ArticlePage, ArticlePageTag, Author, SectionPage
from .paging import INVALID, parse_page
from .searching import Query, clean_query, highlight, snippet

PAGE_SIZE = 20
# Only the first MAX_PAGES pages of results are offered (the first 1,000): deeper pages cost
# the database more with every page and nobody reads them; narrower words or a filter do.
MAX_PAGES = 50
SHOWN = MAX_PAGES * PAGE_SIZE
RECENT = 10
TEASER_TIMEOUT = 24 * 3600
# Seconds a search's count and page of ids are kept (under the listings generation, so a
# publish is seen at once: the time only bounds the cache's memory).
RESULTS_TIMEOUT = 300
SORTS = ("relevance", "date")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Dates a filter may name: beyond them a time zone's offset overflows Python's datetime.
_YEARS = range(1800, 3000)


@dataclass
class Filters:
    section: SectionPage | None = None
    author: Author | None = None
    topic: Tag | None = None
    date_from: date | None = None
    date_to: date | None = None
    ignored: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return any((self.section, self.author, self.topic, self.date_from, self.date_to))


@dataclass
class Result:
    article: ArticlePage
    headline: str  # safe HTML: escaped, matches marked
    decks: list[str]
    snippet: str
    section: SectionPage | None
    authors: list


def _first(params, name: str) -> str:
    values = params.getlist(name)
    return values[0] if values else ""


def _date(value: str) -> date | None:
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        found = date.fromisoformat(value)
    except ValueError:
        return None
    return found if found.year in _YEARS else None


def parse_filters(params, sections: list[SectionPage]) -> Filters:
    """The filters of the query string; a value that names nothing is ignored (and said)."""
    found = Filters()
    slug = _first(params, "section")
    if slug:
        found.section = next((s for s in sections if s.slug == slug), None)
        if found.section is None:
            found.ignored.append("section")
    slug = _first(params, "author")
    if slug:
        found.author = Author.objects.filter(slug=slug[:120]).first()
        if found.author is None:
            found.ignored.append("author")
    slug = _first(params, "topic")
    if slug:
        found.topic = Tag.objects.filter(slug=slug[:100]).first()
        if found.topic is None:
            found.ignored.append("topic")
    for name, attribute in (("from", "date_from"), ("to", "date_to")):
        value = _first(params, name)
        if value:
            parsed = _date(value)
            setattr(found, attribute, parsed)
            if parsed is None:
                found.ignored.append(name)
    if found.date_from and found.date_to and found.date_from > found.date_to:
        found.date_from, found.date_to = found.date_to, found.date_from
    return found


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered(queryset, filters: Filters):
    """Filters as Wagtail's search accepts them: on the article's own filter fields
    (path, published_at, id)."""
    if filters.section:
        queryset = queryset.filter(path__startswith=filters.section.path)
    if filters.author:
        ids = ArticleAuthor.objects.filter(author=filters.author).values("page_id")
        queryset = queryset.filter(id__in=ids)
    if filters.topic:
        ids = ArticlePageTag.objects.filter(tag=filters.topic).values("content_object_id")
        queryset = queryset.filter(id__in=ids)
    if filters.date_from:
        queryset = queryset.filter(published_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        queryset = queryset.filter(published_at__lt=_day_start(filters.date_to + timedelta(1)))
    return queryset


def search_query(query: Query):
    """The reader's words (all of them must match) and phrases as Wagtail's query objects."""
    parts = []
    if query.words:
        parts.append(PlainText(" ".join(query.words), operator="and"))
    parts += [Phrase(" ".join(phrase)) for phrase in query.phrases]
    return parts[0] if len(parts) == 1 else And(parts)


def site_articles(home):
    """The articles search looks in: live, public, of the request's site."""
    return ArticlePage.objects.live().public().descendant_of(home)


def as_shown(queryset):
    """What a listed result needs (its sponsor's label, its series), the body left out."""
    return queryset.select_related("sponsor", "series").defer("body")


def teaser_texts(articles, request) -> dict[int, str]:
    """The searchable text of each article's body (all of a free one, the teaser of any
    other), from the cache when it has it: keyed by the live revision and the pages
    generation, which every change of the teaser length moves on."""
    pages = generations.current(generations.PAGES, request)
    keys = {a.pk: f"search-teaser:{a.pk}:{a.live_revision_id}:{pages}" for a in articles}
    found = cache.get_many(list(keys.values())) if pages else {}
    texts = {}
    missing = []
    for article in articles:
        text = found.get(keys[article.pk])
        if text is None:
            missing.append(article)
        else:
            texts[article.pk] = text
    if missing:
        teaser = search_index.teaser_paragraphs_for(missing[0])
        whole = ArticlePage.objects.in_bulk([a.pk for a in missing])
        fresh = {pk: search_index.public_body_text(a, teaser) for pk, a in whole.items()}
        texts.update(fresh)
        if pages:
            cache.set_many({keys[pk]: text for pk, text in fresh.items()}, TEASER_TIMEOUT)
    return texts


def results_for(articles, query: Query, sections, request) -> list[Result]:
    terms = query.terms
    ids = [a.pk for a in articles]
    authors: dict[int, list] = {pk: [] for pk in ids}
    for item in (
        ArticleAuthor.objects.filter(page_id__in=ids)
        .select_related("author")
        .order_by("sort_order")
    ):
        authors[item.page_id].append(item.author)
    by_path = {s.path: s for s in sections}
    texts = teaser_texts(articles, request)
    out = []
    for article in articles:
        out.append(
            Result(
                article=article,
                headline=highlight(article.title, terms),
                decks=[highlight(deck, terms) for deck in article.decks],
                snippet=snippet(texts.get(article.pk, ""), terms),
                section=by_path.get(article.path[: -ArticlePage.steplen]),
                authors=authors[article.pk],
            )
        )
    return out


def _options(home, request):
    """The sections, authors and topics the form offers: kept in the cache under the pages
    and listings generations (a renamed section or author, a story with a new topic)."""
    pages = generations.current(generations.PAGES, request)
    listings = generations.current(generations.LISTINGS, request)
    key = f"search-options:{home.pk}:{pages}:{listings}" if pages and listings else None
    found = cache.get(key) if key else None
    if found is None:
        sections = list(SectionPage.objects.live().child_of(home).order_by("path"))
        authors = list(Author.objects.order_by("name").only("name", "slug"))
        # A semi-join, one probe of the tag's index per tag: a DISTINCT over the join read
        # every article's tag (about 60 ms over 100,000 articles, after every publish).
        tagged = ArticlePageTag.objects.filter(tag=OuterRef("pk"))
        topics = list(Tag.objects.filter(Exists(tagged)).order_by("name").only("name", "slug"))
        found = (sections, authors, topics)
        if key:
            cache.set(key, found, RESULTS_TIMEOUT)
    return found


def candidates(queryset, query: Query) -> list[int]:
    """The ids of the newest SHOWN + 1 articles of `queryset` that match, newest first: one
    query that stops at that many, whatever the number of matches (on PostgreSQL it walks
    the date index while a word is common, or finds a rare one's few matches through the
    GIN index of the index entries, migration news 0007)."""
    newest = queryset.order_by("-published_at", "-id").only("id")
    found = newest.search(search_query(query), order_by_relevance=False)[: SHOWN + 1]
    # The database backends (PostgreSQL, SQLite) give the query they would run: its ids
    # alone, without building a thousand page objects to read their pk.
    as_query = getattr(found, "get_queryset", None)
    if as_query is not None:
        return list(as_query().values_list("pk", flat=True))
    return [article.pk for article in found]


def ranked(queryset, query: Query, filters: Filters, sort: str, number: int, request):
    """(how many articles match, counted up to SHOWN + 1; the ids of page `number` in
    order). Only the newest SHOWN + 1 matches are candidates (`candidates`): newest first,
    or ranked by relevance among themselves (docs/search.md: with more matches than that,
    an older story is not ranked, as no reader would page to it). The answer is kept in the
    cache for RESULTS_TIMEOUT under the listings generation, which every publish,
    unpublish, move or delete of an article changes, so a kept answer is never one from
    before such a change."""
    listings = generations.current(generations.LISTINGS, request)
    facts = (
        request.get_host(),
        query.words,
        query.phrases,
        *(getattr(f, "pk", None) for f in (filters.section, filters.author, filters.topic)),
        str(filters.date_from),
        str(filters.date_to),
        sort,
        number,
    )
    digest = hashlib.sha256(repr(facts).encode()).hexdigest()
    key = f"search-results:{listings}:{digest}" if listings else None
    kept = cache.get(key) if key else None
    if kept is not None:
        return kept
    ids = candidates(queryset, query)
    shown = ids[:SHOWN]  # the one past them only tells that there are more
    start = (number - 1) * PAGE_SIZE
    if start >= len(shown):
        page = []
    elif sort == "relevance":
        among = queryset.filter(id__in=shown).only("id")
        found = among.search(search_query(query), order_by_relevance=True)
        page = [article.pk for article in found[start : start + PAGE_SIZE]]
    else:
        page = shown[start : start + PAGE_SIZE]
    answer = (len(ids), page)
    if key:
        cache.set(key, answer, RESULTS_TIMEOUT)
    return answer


def _home(request):
    site = Site.find_for_request(request)
    if site is None:
        raise Http404("No site")
    return site.root_page


@require_safe
def search(request):
    home = _home(request)
    query = clean_query(_first(request.GET, "q"))
    sections, authors, topics = _options(home, request)
    filters = parse_filters(request.GET, sections)
    sort = _first(request.GET, "sort")
    sort = sort if sort in SORTS else SORTS[0]
    number = parse_page(request.GET.getlist("page"))
    if number is INVALID or number > MAX_PAGES:
        raise Http404("No such page of results")
    context = {
        "query": query,
        "filters": filters,
        "sort": sort,
        "sections": sections,
        "authors": authors,
        "topics": topics,
        "page_size": PAGE_SIZE,
        "max_pages": MAX_PAGES,
    }
    if query.empty:
        if number != 1:
            raise Http404("No such page of results")
        recent = list(as_shown(site_articles(home)).order_by("-published_at", "-id")[:RECENT])
        context["recent"] = recent
        return render(request, "news/search_results.html", context)
    queryset = filtered(site_articles(home), filters)
    count, ids = ranked(queryset, query, filters, sort, number, request)
    # Loaded again through the live, public queryset every time, also when kept.
    found = as_shown(queryset).in_bulk(ids)
    articles = [found[pk] for pk in ids if pk in found]
    # The pages that may be shown, for the links: a range stands in for the results.
    paginator = Paginator(range(min(count, SHOWN)), PAGE_SIZE)
    if number > paginator.num_pages:
        raise Http404("No such page of results")
    context.update(
        page=paginator.page(number),
        results=results_for(articles, query, sections, request),
        last_page=paginator.num_pages,
        more_than_shown=count > SHOWN,
        query_string=_query_string(request, query, exclude="page"),
        unfiltered=_query_string(request, query, keep=("q", "sort")),
    )
    return render(request, "news/search_results.html", context)


def _query_string(request, query: Query, *, exclude: str = "", keep: tuple = ()) -> str:
    """This search's parameters for links (pages, "without filters"): one value of each,
    and the query as it was searched (cut and cleaned), never the reader's 10 KB."""
    params = request.GET.copy()
    for name in list(params):
        if name == exclude or (keep and name not in keep):
            del params[name]
        else:
            params.setlist(name, params.getlist(name)[:1])
    params["q"] = query.text
    return params.urlencode()
