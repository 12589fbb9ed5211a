"""The front door for pages: articles by a cached route, everything else by Wagtail.

Wagtail resolves a URL by walking the page tree, a query per level, and loads the page with
all its fields before it can serve it. For a live, unrestricted article this view instead
looks its path up in the cache (``article-route:<generation>:<host>:<path>``, filled by one
query on a miss and forgotten with the article pieces, see news.rendering) and serves the
article from its cached pieces without loading it. Anything the route cache does not know
as such an article (home, sections, series, authors, private pages, non-GET methods, 404s)
goes to Wagtail's own view unchanged."""

from django.core.exceptions import DisallowedHost
from wagtail.models import PageViewRestriction, Site
from wagtail.views import serve as wagtail_serve

from . import rendering
from .models import ArticlePage

PRINT_SUFFIX = "print/"
_NOT_AN_ARTICLE = "-"


def serve(request, path):
    route = article_route(request, path) if request.method in ("GET", "HEAD") else None
    if route is None:
        return wagtail_serve(request, path)
    return serve_article(request, route)


def serve_article(request, route):
    """The article a route names (also the fast lane's, masthead.news.fast_lane)."""
    site, ref, view = route
    # What Wagtail's own serve leaves on the request for the rest of it.
    request._wagtail_site = site
    request.is_preview = False
    return rendering.article_response(request, ref, lambda: load_article(ref), view)


def load_article(ref):
    return ArticlePage.objects.select_related("series", "sponsor", "lead_image").get(pk=ref.pk)


def article_route(request, path):
    """(site, ArticleRef, "page" | "print") for a live article without view restrictions at
    this host and path, else None."""
    gen = rendering.generation(request)
    if gen is None:
        return None
    try:
        host = request.get_host()
    except DisallowedHost:
        return None  # Wagtail's view answers it as it always has
    key = f"article-route:{gen}:{request.scheme}://{host}:{path}"
    found = rendering.cached_many([key]).get(key)
    if found is None:
        found = _resolve(request, path)
        if found is None:
            # Only in this process's bounded memo: any client can make up paths, and the
            # shared cache must not grow with them.
            rendering.memo.put(key, _NOT_AN_ARTICLE)
            return None
        rendering.store(key, found)
    return None if found == _NOT_AN_ARTICLE else found


def _resolve(request, path):
    site = Site.find_for_request(request)
    if site is None or not path:
        return None
    root = site.root_page.url_path
    candidates = {root + path: "page"}
    if path.endswith(PRINT_SUFFIX) and path != PRINT_SUFFIX:
        candidates[root + path[: -len(PRINT_SUFFIX)]] = "print"
    slugs = {url.rstrip("/").rsplit("/", 1)[-1] for url in candidates}
    for article in (
        ArticlePage.objects.live()
        # slug is indexed and url_path is not: without it this reads every page.
        .filter(slug__in=slugs, url_path__in=candidates)
        .only("pk", "path", "depth", "url_path", "access", "live_revision_id")
    ):
        restricted = PageViewRestriction.objects.filter(
            page__in=article.get_ancestors(inclusive=True)
        ).exists()
        if restricted:
            return None
        return (site, article.ref, candidates[article.url_path])
    return None
