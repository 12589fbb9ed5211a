"""Articles found by Wagtail's routing, with the route remembered in the cache.

Wagtail routes a request by walking the page tree from the site's root page: a query per
level and one more for each page's specific model, then two for the view restrictions of
the page and its ancestors. Readers mostly open articles, so the home page's ``route()``
(``HomePage.route``, Wagtail's extension point for routing) asks the cache first:
``article-route:<pages generation>:<site>:<path>`` holds the live, unrestricted article at
that path, loaded with only the fields serving it needs (Django loads any other on first
use). A path longer than ``PLAIN_PATH_MAX`` or holding spaces or control characters is
named by its SHA-256 instead (``path_in_key``), so no key passes memcached's 250 characters.
A route is stored the first time Wagtail's own walk reaches the article, deleted when that
article is published, unpublished, moved or deleted (``forget_article``, connected in
news.apps), and every route is forgotten with the pages generation (a view restriction, a
section moved or renamed, masthead.core.generations). Everything else (other pages, a
restricted or unpublished article, a dead cache) is routed by Wagtail as it always is, and
every request, cached route or not, is then served by Wagtail's ``serve`` view with its
hooks and the page's ``serve()``.
"""

import copy
import hashlib
import re
import threading

from cachetools import LRUCache
from django.core.cache import cache
from wagtail.models import Site

from masthead.core import generations
from masthead.core.sites import site_for_request

ROUTE_TIMEOUT = 24 * 3600
# Routes kept in this process as well, under the listings generation (cached_article).
_local = LRUCache(1024)
_local_lock = threading.Lock()
# The fields of a routed article that Wagtail's serve and the article view read; the others
# stay deferred (the cached pieces hold what readers see, news.rendering).
ROUTE_FIELDS = (
    "id",
    "path",
    "depth",
    "numchild",
    "url_path",
    "slug",
    "title",
    "live",
    "access",
    "live_revision_id",
    "content_type",
    "locale",
    "alias_of",
)


# Paths up to this long name their key as they are; longer ones (a private feed's address,
# a mistyped or hostile URL) by their hash. The cache's prefix, version and the generation
# token come on top of it, and memcached (Django's key checks) stops at 250 characters.
PLAIN_PATH_MAX = 120
# Spaces and control characters (a character-by-character check was 5% of an article
# request's CPU: this runs twice per request).
_NOT_PLAIN = re.compile(r"[\x00-\x20\x7f]")


def path_in_key(path: str) -> str:
    """The path as the route's key names it: itself when short and plain, else "sha256:" and
    its hex digest (stable across processes and releases, unlike hash())."""
    plain = len(path) <= PLAIN_PATH_MAX and not _NOT_PLAIN.search(path)
    if plain:
        return path
    return "sha256:" + hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


def _key(token: str, site_id: int, path: str) -> str:
    return f"article-route:{token}:{site_id}:{path_in_key(path)}"


def cached_article(request, components: list[str]):
    """(article, the path components left for its own routes), or None. The article's own
    path is looked up, and the one a component shorter (``print/``): in this process's
    memory first, then in the shared cache."""
    token = generations.current(generations.PAGES, request)
    listings = generations.current(generations.LISTINGS, request)
    site = site_for_request(request)
    if token is None or listings is None or site is None or not components:
        return None
    paths = {"/".join(components[: len(components) - left]) + "/": left for left in (0, 1)}
    paths.pop("/", None)
    keys = {_key(token, site.pk, path): left for path, left in paths.items()}
    # Every change that deletes a route also changes the listings generation (news.apps),
    # so a route kept here under both tokens is never stale.
    with _local_lock:
        found = {key: _local[(listings, key)] for key in keys if (listings, key) in _local}
    if not found:
        found = cache.get_many(list(keys))
        with _local_lock:
            _local.update({(listings, key): article for key, article in found.items()})
    for key, left in sorted(keys.items(), key=lambda item: item[1]):
        article = found.get(key)
        if article is not None:
            article = own_copy(article)
            article.known_unrestricted = True
            return article, components[len(components) - left :]
    return None


def own_copy(article):
    """The request's own instance of a kept article: what copy.copy makes (Django's
    ``__getstate__``: the fields, and a ``_state`` and related-object cache of its own),
    without pickling's detour through ``__reduce_ex__`` and ``__setstate__``. Whatever
    the request loads or sets on it stays off the kept one."""
    state = article.__getstate__()
    if "_memoryview_attrs" in state:  # a binary field: only __setstate__ restores it
        return copy.copy(article)
    own = object.__new__(type(article))
    own.__dict__.update(state)
    return own


def remember(request, root, article) -> None:
    """After Wagtail's walk from `root` found `article` (a live article): keep its route,
    unless a view restriction covers it."""
    token = generations.current(generations.PAGES, request)
    site = site_for_request(request)
    if token is None or site is None or not article.url_path.startswith(root.url_path):
        return
    if article.get_view_restrictions().exists():
        return
    routed = type(article).objects.only(*ROUTE_FIELDS).get(pk=article.pk)
    key = _key(token, site.pk, article.url_path[len(root.url_path) :])
    cache.set(key, routed, ROUTE_TIMEOUT)
    listings = generations.current(generations.LISTINGS, request)
    if listings is not None:
        with _local_lock:
            _local[(listings, key)] = routed


def forget_article(url_paths, using=None) -> None:
    """Delete the cached routes of an article at these tree paths (``url_path``: the old and
    the new one of a move), now and again once the transaction commits; if the cache refuses,
    every route is forgotten with a new pages generation instead."""
    token = generations.current(generations.PAGES)
    if token is None:
        return  # nothing is cached under no generation
    keys = []
    for site in Site.objects.select_related("root_page"):
        root = site.root_page.url_path
        keys += [
            _key(token, site.pk, url_path[len(root) :])
            for url_path in url_paths
            if url_path and url_path.startswith(root) and url_path != root
        ]
    if keys:
        generations.forget_with_transaction_or_bump(keys, generations.PAGES, using)
