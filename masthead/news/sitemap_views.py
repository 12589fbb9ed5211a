"""What the site tells crawlers: /sitemap.xml (the index), /sitemap-<section>.xml (the pages,
and one file per month of articles, split at the sitemap's limit with ?p=2...),
/sitemap-news.xml (Google News) and /robots.txt.

Each answer is the same for every reader, so it is rendered once and kept in the cache under
the generations it depends on (masthead.core.generations): the listings generation, which
every publish, unpublish, move or delete of an article changes, and the pages generation
(sections, series, authors, topics, sites, view restrictions, the robots settings). With the
rendered XML the cache keeps its ETag and Last-Modified, so a crawler that has it already
gets a 304. The news sitemap moves with the clock as well (its 48 hours), so it is kept for
NEWS_TIMEOUT at most.

The sections are Django's sitemaps (news.sitemaps); the views are the site's own rather than
django.contrib.sitemaps.views so that the index needs one grouped query for all months
instead of two per month, and a summary of the pages file (its date and size from a few
indexed queries) rather than the file's list of authors and topics, and the cache key
takes the page number as a number.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sites.requests import RequestSite
from django.core.cache import cache
from django.core.paginator import EmptyPage
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe
from wagtail.models import Site

from masthead.core import generations
from masthead.core.sites import site_for_request

from . import robots, sitemaps
from .models import RobotsSettings
from .paging import parse_page

TIMEOUT = 24 * 3600
NEWS_TIMEOUT = 300
# What a shared cache or crawler may keep without asking again.
MAX_AGE = 300
XML = "application/xml; charset=utf-8"


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str
    last_modified: float | None  # seconds since the epoch


def _site(request):
    site = site_for_request(request)
    if site is None:
        site = Site.objects.select_related("root_page").filter(is_default_site=True).first()
    if site is None:
        raise Http404("No site")
    return site


def _key(request, name: str) -> str | None:
    """The cache key of `name` for this request's scheme and host under the current pages
    and listings generations; None when the cache cannot answer (then nothing is kept)."""
    pages = generations.current(generations.PAGES, request)
    listings = generations.current(generations.LISTINGS, request)
    if not pages or not listings:
        return None
    origin = hashlib.sha256(f"{request.scheme}://{request.get_host()}".encode()).hexdigest()
    return f"crawlers:{name}:{origin[:16]}:{pages}:{listings}"


def _respond(request, name: str, render, *, content_type=XML, timeout=TIMEOUT):
    """The cached rendering of `name`, or `render()` (-> (text, lastmod datetime or None))
    kept for next time; a 304 when the crawler's copy is current."""
    key = _key(request, name)
    rendered = cache.get(key) if key else None
    if rendered is None:
        text, lastmod = render()
        body = text.encode()
        rendered = Rendered(
            body=body,
            etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
            last_modified=lastmod.timestamp() if lastmod else None,
        )
        if key:
            cache.set(key, rendered, timeout)
    response = HttpResponse(rendered.body, content_type=content_type)
    response["ETag"] = rendered.etag
    if rendered.last_modified is not None:
        response["Last-Modified"] = http_date(rendered.last_modified)
    response["X-Robots-Tag"] = "noindex"
    patch_cache_control(response, public=True, max_age=min(MAX_AGE, timeout))
    last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
    return get_conditional_response(
        request, etag=rendered.etag, last_modified=last_modified, response=response
    )


def _page_number(request) -> int:
    """?p= of a split sitemap (Django's scheme): absent is 1; anything but a page number is
    a 404 (news.paging), so odd spellings cannot fill the cache."""
    if "p" not in request.GET:
        return 1
    page = parse_page(request.GET.getlist("p"))
    if page is None:
        raise Http404("No such page of this sitemap")
    return page


def _urlset(request, sitemap, page: int, template: str, **context):
    try:
        urls = sitemap.get_urls(page=page, site=RequestSite(request), protocol=request.scheme)
    except EmptyPage as error:
        raise Http404("No such page of this sitemap") from error
    dates = [url["lastmod"] for url in urls]
    lastmod = max(dates) if dates and None not in dates else None
    return render_to_string(template, {"urlset": urls, **context}), lastmod


def _section_url(request, section: str, page: int = 1) -> str:
    url = request.build_absolute_uri(reverse("sitemap-section", kwargs={"section": section}))
    return url if page == 1 else f"{url}?p={page}"


@require_safe
def index(request):
    """Every file of the site's sitemaps: the pages (and its further pages), then the
    months of articles, newest first."""
    site = _site(request)

    def render():
        pieces, latest = sitemaps.PagesSitemap(site).summary()
        files = [(_section_url(request, "pages", n), latest) for n in range(1, pieces + 1)]
        for year, month, count, month_latest in sitemaps.article_months(site):
            section = sitemaps.month_section(year, month)
            pieces = max(1, -(-count // sitemaps.ArticleMonthSitemap.limit))
            for number in range(1, pieces + 1):
                files.append((_section_url(request, section, number), month_latest))
        dates = [lastmod for _, lastmod in files]
        lastmod = max(dates) if dates and None not in dates else None
        text = render_to_string("sitemaps/index.xml", {"sitemaps": files})
        return text, lastmod

    return _respond(request, "index", render)


@require_safe
def section(request, section: str):
    site = _site(request)
    page = _page_number(request)
    if section == "pages":
        sitemap = sitemaps.PagesSitemap(site)
    else:
        month = sitemaps.parse_month_section(section)
        if month is None:
            raise Http404("No such sitemap")
        sitemap = sitemaps.ArticleMonthSitemap(site, *month)

    def render():
        if isinstance(sitemap, sitemaps.ArticleMonthSitemap) and not sitemap.paginator.count:
            raise Http404("No articles that month")
        return _urlset(request, sitemap, page, "sitemaps/urlset.xml")

    return _respond(request, f"{section}:{page}", render)


@require_safe
def news(request):
    site = _site(request)

    def render():
        return _urlset(
            request,
            sitemaps.NewsSitemap(site),
            1,
            "sitemaps/news.xml",
            publication=settings.MASTHEAD_SITE_NAME,
            language=sitemaps.news_language(settings.LANGUAGE_CODE),
        )

    return _respond(request, "news", render, timeout=NEWS_TIMEOUT)


@require_safe
def robots_txt(request):
    """The rules of Settings > Robots for this site (the default until someone saves them),
    and the Sitemap lines."""
    site = _site(request)

    def render():
        # Read only: for_site() would create the row, and its save would forget every
        # cached page (the pages generation).
        found = RobotsSettings.objects.filter(site=site).first()
        rules = found.rules if found is not None else robots.default_rules()
        urls = [request.build_absolute_uri(reverse(name)) for name in ("sitemap", "sitemap-news")]
        return robots.robots_txt(rules, urls), None

    return _respond(request, "robots", render, content_type="text/plain; charset=utf-8")
