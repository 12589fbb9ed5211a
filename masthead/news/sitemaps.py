"""The sitemaps: what of the site search engines are told about, built on Django's sitemaps
framework (``django.contrib.sitemaps.Sitemap``: its items, locations, lastmod and the
pagination that splits a file at ``limit`` URLs, 50,000 by default).

- ``PagesSitemap``: the home page, sections, series, information pages, and the author and
  topic pages (with their indexes, /authors/ and /topics/) that have live articles, each
  author or topic page dated by its newest live article;
- ``ArticleMonthSitemap``: the articles first published in one calendar month (in the
  newsroom's TIME_ZONE), each with its lastmod and its lead image;
- ``NewsSitemap``: Google News, the articles of the last 48 hours (at most 1,000).

Only live pages that no view restriction covers are named. Subscribers-only and metered
articles are listed like free ones: their page and teaser are public (the JSON-LD marks the
paywalled part). A sitemap names articles and carries nothing of their bodies
(access.channels: Channel.SITEMAP sees NOTHING), only headline, address, dates and the lead
picture. Every query reads only the columns it needs (``values()``), and lead images'
renditions come in bulk for the whole file.
"""

import calendar
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Coalesce, Greatest, TruncMonth
from django.urls import NoReverseMatch
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Page, get_page_models

from masthead.core import clock

from .images import ARTICLE_LEAD
from .models import ArticleAuthor, ArticlePage, ArticlePageTag, Author, HomePage
from .renditions import renditions_or_none

ARTICLES = "articles"
NEWS_WINDOW = timedelta(hours=48)
NEWS_LIMIT = 1000  # Google News reads at most 1,000 URLs from one news sitemap
# The lead picture as the article page shows it at its largest, in JPEG (news.images).
IMAGE_SPEC = next(spec for spec in reversed(ARTICLE_LEAD.filter_specs) if "jpeg" in spec)
_MONTH_SECTION = re.compile(r"articles-(\d{4})-(\d{2})")

# An article's date (ArticlePage.published_at, set when it first goes live; indexed) and its
# last change: its last publication, or the editors' "updated" date when that is later.
DAY = F("published_at")
LASTMOD = Greatest(
    Coalesce("last_published_at", "updated_at", "published_at"),
    Coalesce("updated_at", "last_published_at", "published_at"),
)

# --- pure helpers ---------------------------------------------------------------------------


def month_section(year: int, month: int) -> str:
    return f"{ARTICLES}-{year:04d}-{month:02d}"


def parse_month_section(section: str) -> tuple[int, int] | None:
    """(year, month) of a section name such as "articles-2026-11", or None."""
    found = _MONTH_SECTION.fullmatch(section)
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    return (year, month) if 1 <= month <= 12 and year >= 1 else None


def month_bounds(year: int, month: int, tz) -> tuple[datetime, datetime]:
    """The first moment of the month and of the next one, in `tz`."""
    start = datetime(year, month, 1, tzinfo=tz)
    days = calendar.monthrange(year, month)[1]
    return start, (start + timedelta(days=days)).replace(day=1)


def news_language(language_code: str) -> str:
    """The language of a Google News sitemap: ISO 639 (en, ja, ...), except Chinese, which
    Google wants as zh-cn or zh-tw."""
    code = language_code.lower().replace("_", "-")
    if code in ("zh-cn", "zh-hans", "zh-sg"):
        return "zh-cn"
    if code.startswith("zh"):
        return "zh-tw"
    return code.split("-")[0]


def site_path(url_path: str, root_url_path: str) -> str:
    """A page's path on its site: Wagtail's url_path without the site root's."""
    return "/" + url_path[len(root_url_path) :]


def latest_of(*dates: datetime | None) -> datetime | None:
    return max((d for d in dates if d is not None), default=None)


def absolute(url: str, protocol: str, domain: str) -> str:
    return url if "://" in url else f"{protocol}://{domain}{url}"


@dataclass(frozen=True)
class Entry:
    """One URL of the pages sitemap."""

    path: str
    lastmod: datetime | None


# --- queries ----------------------------------------------------------------------------------


def newsroom_tz():
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def articles(site):
    """Live articles of `site` that no view restriction covers."""
    return ArticlePage.objects.live().public().descendant_of(site.root_page)


def other_pages(site):
    """Live pages of `site` but the articles, that no view restriction covers. Named by their
    types rather than as "not an article", so that the few of them are found through the
    index on the page type instead of by reading every article's row."""
    kinds = [model for model in get_page_models() if not issubclass(model, ArticlePage)]
    types = ContentType.objects.get_for_models(*kinds).values()
    return (
        Page.objects.live()
        .public()
        .descendant_of(site.root_page, inclusive=True)
        .filter(content_type__in=[kind.pk for kind in types])
    )


def newest_article_date(site) -> datetime | None:
    """The date of the site's newest live article: one read of the index on published_at."""
    dated = articles(site).exclude(published_at=None).order_by("-published_at")
    return dated.values_list("published_at", flat=True).first()


def newest_by(site, relation, article: str, slug: str) -> dict[str, datetime | None]:
    """{slug: the date of the newest live article} of every author or topic with a live
    article of `site`: one grouped query over `relation` (ArticleAuthor or ArticlePageTag),
    whose field `article` is the article and `slug` the author's or topic's slug."""
    rows = (
        relation.objects.filter(**{f"{article}__in": articles(site).values("pk")})
        .values_list(slug)
        .annotate(newest=Max(f"{article}__published_at"))
        .order_by(slug)
    )
    return dict(rows)


def article_months(site) -> list[tuple[int, int, int, datetime | None]]:
    """(year, month, articles, latest lastmod) of every month with articles, newest first:
    one grouped query for the whole index."""
    rows = (
        articles(site)
        .annotate(month=TruncMonth(DAY, tzinfo=newsroom_tz()))
        .values("month")
        .annotate(count=Count("pk"), latest=Max(LASTMOD))
        .order_by("-month")
    )
    months = []
    for row in rows:
        if row["month"] is None:
            continue
        month = row["month"]
        if isinstance(month, datetime):
            month = month.astimezone(newsroom_tz())
        months.append((month.year, month.month, row["count"], row["latest"]))
    return months


def lead_image_urls(image_ids) -> dict[int, str]:
    """The sitemap rendition's URL of each image, in two queries whatever their number
    (images, then their renditions of IMAGE_SPEC). A rendition not made yet is made now, as
    the article page would; an image whose file cannot be read is left out (news.renditions)."""
    ids = {pk for pk in image_ids if pk}
    if not ids:
        return {}
    urls = {}
    for image in get_image_model().objects.filter(pk__in=ids).prefetch_renditions(IMAGE_SPEC):
        renditions = renditions_or_none(image, [IMAGE_SPEC])
        if renditions is not None:
            urls[image.pk] = renditions[IMAGE_SPEC].url
    return urls


# --- the sitemaps -----------------------------------------------------------------------------


class SiteSitemap(Sitemap):
    """A sitemap of one Wagtail site, given the site the request is for."""

    def __init__(self, site):
        self.site = site
        self.root_url_path = site.root_page.url_path

    def location(self, item):
        return site_path(item["url_path"], self.root_url_path)


class ArticleMonthSitemap(SiteSitemap):
    """One month's articles, oldest first. The index already knows how many there are and
    their latest lastmod (article_months): given, they are not counted again."""

    def __init__(self, site, year, month, *, count=None, latest=None):
        super().__init__(site)
        self.year, self.month = year, month
        self.count, self.latest = count, latest

    def items(self):
        start, end = month_bounds(self.year, self.month, newsroom_tz())
        return (
            articles(self.site)
            .annotate(day=DAY, lastmod=LASTMOD)
            .filter(day__gte=start, day__lt=end)
            .order_by("day", "pk")
            .values("pk", "url_path", "lastmod", "lead_image_id")
        )

    def lastmod(self, item):
        return item["lastmod"]

    @property
    def paginator(self):
        paginator = Paginator(self.items(), self.limit)
        if self.count is None:
            self.count = paginator.count
        paginator.count = self.count  # a cached_property: counted once
        return paginator

    def get_latest_lastmod(self):
        if self.latest is not None:
            return self.latest
        return self.items().aggregate(latest=Max("lastmod"))["latest"]

    def get_urls(self, page=1, site=None, protocol=None):
        urls = super().get_urls(page=page, site=site, protocol=protocol)
        protocol, domain = self.get_protocol(protocol), self.get_domain(site)
        images = lead_image_urls(url["item"]["lead_image_id"] for url in urls)
        for url in urls:
            image = images.get(url["item"]["lead_image_id"])
            url["images"] = [absolute(image, protocol, domain)] if image else []
        return urls


class NewsSitemap(SiteSitemap):
    """Google News: the articles first published in the last 48 hours, newest first."""

    limit = NEWS_LIMIT

    def items(self):
        since = clock.now() - NEWS_WINDOW
        return (
            articles(self.site)
            .annotate(day=DAY, lastmod=LASTMOD)
            .filter(day__gte=since, day__lte=clock.now())
            .order_by("-day", "-pk")
            .values("pk", "url_path", "title", "day", "lastmod")[:NEWS_LIMIT]
        )

    def lastmod(self, item):
        return item["lastmod"]


class PagesSitemap(SiteSitemap):
    """Everything but the articles: the site's other live public pages, and the author and
    topic pages that list at least one of its articles, each dated by its newest one.

    The home page and the two indexes are dated by the site's newest article, so no page
    of this file is dated later than the newest article or its own last publication: the
    sitemap index learns this file's date and size (``summary``) without listing the
    authors and topics, which reads every article of a large archive."""

    def items(self):
        if not hasattr(self, "_entries"):
            self._entries = self._collect()
        return self._entries

    def location(self, item):
        return item.path

    def lastmod(self, item):
        return item.lastmod

    def get_latest_lastmod(self):
        return max((e.lastmod for e in self.items() if e.lastmod is not None), default=None)

    def summary(self) -> tuple[int, datetime | None]:
        """(how many files this sitemap takes, its latest lastmod), for the index: the
        pages' own dates and the newest article's (two indexed queries), and the number of
        files from an upper bound on its URLs (every page, author and topic, counted
        through small tables); only past the limit are the authors and topics listed."""
        own = other_pages(self.site).aggregate(
            pages=Count("pk"),
            latest=Max("last_published_at"),
            home=Count("pk", filter=Q(pk=self.site.root_page_id)),
        )
        newest = newest_article_date(self.site)
        latest = latest_of(own["latest"], newest if own["home"] else None)
        bound = own["pages"] + 2 + Author.objects.count() + Tag.objects.count()
        if bound > self.limit:
            return self.paginator.num_pages, self.get_latest_lastmod()
        return 1, latest

    def _collect(self) -> list[Entry]:
        pages = (
            other_pages(self.site).order_by("path").values("pk", "url_path", "last_published_at")
        )
        # The home page lists the newest articles: it changes with every new one.
        newest = newest_article_date(self.site)
        entries = [
            Entry(
                site_path(page["url_path"], self.root_url_path),
                latest_of(page["last_published_at"], newest)
                if page["pk"] == self.site.root_page_id
                else page["last_published_at"],
            )
            for page in pages
        ]
        home = self.site.root_page.specific_deferred
        if not isinstance(home, HomePage):
            return entries
        base = site_path(home.url_path, self.root_url_path)
        authors = newest_by(self.site, ArticleAuthor, "page", "author__slug")
        topics = newest_by(self.site, ArticlePageTag, "content_object", "tag__slug")
        for route, kind, dated in (("authors", "author", authors), ("topics", "topic", topics)):
            try:
                index_path = base + home.reverse_subpage(route)
            except NoReverseMatch:
                pass  # no index page of this kind on this version of the site
            else:
                if dated:
                    entries.append(Entry(index_path, newest))
            entries += [
                Entry(base + home.reverse_subpage(kind, kwargs={"slug": slug}), date)
                for slug, date in dated.items()
            ]
        return entries
