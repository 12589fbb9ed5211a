"""Article pages rendered once per live revision, assembled per reader.

An article is cached in pieces under ``article:<page_id>:<live_revision_id>:<pages
generation>:<origin>``, in Django's cache (django-redis in production) and, since a key
names the version of what it holds and is never stale, in a small per-process LRU
(cachetools) as well:

- ``:page`` / ``:print`` — the *frame*: the whole HTML document (head, JSON-LD, header,
  byline...) split at the *slots* where something per reader or per listing goes: the
  reader's menu in the site header, the meter notice, the campaign banners, the body, the
  paywall panel and the related articles. The frame holds no body text at all, and is
  rendered from an anonymous request (``anonymous_request``), so it is the same for every
  reader, whoever filled the cache. It keeps the reader menu as a reader with no identity
  sees it (Subscribe, Sign in) beside it; a signed-in reader's menu is filled in per request
  (kept per process for each reader state, readers.menu).
  The masthead shows today's date, so the frame's key names the newsroom's date.
- ``:paragraphs`` — the body as rendered pieces, one per paragraph of rich text (free part
  and paywalled remainder alike). Each request cuts it with the site's teaser length and
  inserts the remainder only when the access decision (``masthead.access.gate``, the same
  code as every other channel) says full text. A reader who is not entitled never receives
  it, whatever is cached.
- ``article-related:<page_id>:<live_revision_id>:<pages generation>`` — the related
  articles, a list drawn from the article's series and topics (its *families*,
  ``ArticlePage.listing_families``). It is kept with the families' stamp
  (``generations.stamp``) and is stale once that no longer matches: a publish, unpublish,
  move or delete of an article changes its own families' tokens only.

Publishing an article gives it a new live revision, hence new keys, and changes its
families' tokens: other articles keep their frames and bodies, and only those drawing their
related list from its series or topics render that list again. The *pages* generation
changes with what every page shows of other objects (sections, series, authors, sponsors,
images, topics, sites, view restrictions, the meter settings and offers): then every piece
is rendered again. A saved draft changes nothing a reader sees, so
it invalidates nothing (masthead.core.generations; the receivers are connected in news.apps).
The cache is an optimisation: when it fails, the page is rendered as if nothing were cached.
"""

import copy
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from importlib import import_module

from cachetools import LRUCache
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import mark_safe

from masthead.access.channels import Channel, Visibility, what_may_be_seen
from masthead.access.context import ReaderContext, reader_context
from masthead.access.gate import article_decision
from masthead.access.policy import Message
from masthead.access.teaser import teaser_length
from masthead.core import generations
from masthead.readers.menu import state_of

log = logging.getLogger(__name__)

TIMEOUT = 24 * 3600
PAYWALLED_CLASS = "paywalled-content"
TEMPLATES = {"page": "news/article_page.html", "print": "news/article_page_print.html"}
SLOTS = ("reader", "meter_notice", "banners", "body", "paywall", "related")
READER_MENU = "includes/reader_menu.html"  # also included by base.html on every other page
# Unique per process and never stored: only used to find the slots in a fresh render.
_NONCE = secrets.token_hex(8)
_SLOT_RE = re.compile(r"<!--masthead-slot:" + _NONCE + r":(\w+)-->")
_LOCAL_SIZE = 256
METER_MESSAGES = (Message.METER_REMAINING, Message.METER_LAST)  # access/meter_notice.html


@dataclass(frozen=True)
class ArticleRef:
    """What the hot path needs to know about an article without loading it."""

    pk: int
    access: str
    live_revision_id: int | None


@dataclass(frozen=True)
class Frame:
    """Rendered HTML with slot names between its parts: (html, slot, html, slot, ..., html),
    and the reader slot's fill for a reader with no identity."""

    parts: tuple[str, ...]
    anonymous_reader: str = ""


@dataclass(frozen=True)
class Body:
    kinds: tuple[str, ...]
    html: tuple[str, ...]


# Pieces kept in this process too, by key (their keys name their versions).
local = LRUCache(_LOCAL_SIZE)
_local_lock = threading.Lock()
# Small renders that depend only on their arguments (meter notices): rendered once per process.
_snippets: dict = {}
# Signed-in readers' menus by what they show (reader_menu_html).
_menus = LRUCache(1024)


# --- generations and the cache -------------------------------------------------------------


def generation(request=None) -> str | None:
    """The current pages generation, or None when the cache cannot answer (then nothing is
    cached). Read once per request when given one, with the other tokens."""
    return generations.current(generations.PAGES, request)


def bump_generation() -> None:
    """Forget every cached article piece and route. Never raises: it runs inside saves."""
    generations.bump(generations.PAGES)


def invalidate_on_change(sender=None, **kwargs) -> None:
    """Signal receiver: what every page shows of other objects may have changed."""
    generations.bump_with_transaction(generations.PAGES, kwargs.get("using"))


def cached_many(keys: list[str]) -> dict:
    """Values for `keys` from this process, then the shared cache (one round trip)."""
    with _local_lock:
        found = {key: local[key] for key in keys if key in local}
    missing = [key for key in keys if key not in found]
    if missing:
        shared = cache.get_many(missing)  # a dead cache answers {} (IGNORE_EXCEPTIONS)
        with _local_lock:
            local.update(shared)
        found.update(shared)
    return found


def store(key: str, value) -> None:
    with _local_lock:
        local[key] = value
    cache.set(key, value, TIMEOUT)


# --- building the pieces ------------------------------------------------------------------


def slot_markers() -> dict:
    return {name: mark_safe(f"<!--masthead-slot:{_NONCE}:{name}-->") for name in SLOTS}  # noqa: S308


# What a request carries of its reader: cookies, credentials and the CSRF secret (META),
# and what middleware hangs on it (the session, messages, the meter's reader, the campaigns
# fetched for this reader).
_READER_META = ("HTTP_COOKIE", "HTTP_AUTHORIZATION", "CSRF_COOKIE", "CSRF_COOKIE_NEEDS_UPDATE")
_READER_ATTRIBUTES = ("_messages", "reader_context", "_cached_user", "auser")


def anonymous_request(request):
    """`request` as a reader with no identity would send it: no cookies or credentials, an
    empty session, no messages, AnonymousUser. Pieces shared between readers (the frame, the
    anonymous paywall panel) are rendered from it, so a template that shows "the reader"
    there (a header's "My account", a message) shows nobody's, whoever filled the cache."""
    anonymous = copy.copy(request)
    anonymous.META = {k: v for k, v in request.META.items() if k not in _READER_META}
    if hasattr(request, "environ"):
        anonymous.environ = anonymous.META
    anonymous.COOKIES = {}
    for name in _READER_ATTRIBUTES:
        anonymous.__dict__.pop(name, None)
    anonymous.user = AnonymousUser()
    anonymous.session = import_module(settings.SESSION_ENGINE).SessionStore()
    return anonymous


def render_shared(template: str, context: dict, anonymous) -> str:
    """`template` as every reader may receive it: from `anonymous` (anonymous_request()),
    and with no CSRF token ({% csrf_token %} renders nothing, with a warning under DEBUG),
    since a token is one browser's. A form that needs one cannot live in a shared piece."""
    return render_to_string(template, {**context, "csrf_token": ""}, request=anonymous)


def build_frame(page, request, view: str) -> Frame:
    anonymous = anonymous_request(request)
    context = page.frame_context(anonymous)
    context["slots"] = slot_markers()
    html = render_shared(TEMPLATES[view], context, anonymous)
    parts = tuple(_SLOT_RE.split(html))
    reader = render_shared(READER_MENU, {}, anonymous) if "reader" in parts[1::2] else ""
    return Frame(parts=parts, anonymous_reader=reader)


def build_body(page) -> Body:
    pieces = page.body_pieces()
    return Body(kinds=tuple(p.kind for p in pieces), html=tuple(str(p.html) for p in pieces))


def pieces_for(
    request, page_loader, ref: ArticleRef, view: str, *, language: str, now
) -> tuple[Frame, Body, str]:
    """The frame, body and related articles of the live revision, from the cache or rendered
    now. A preview (a revision that is not the live one) is never cached. `language` and
    `now` are the request's (article_response asks for each once)."""
    pages = None
    if not getattr(request, "is_preview", False) and ref.live_revision_id is not None:
        pages = generation(request)
    if pages is None:
        page = page_loader()
        related = build_related(page, request).html
        return build_frame(page, request, view), build_body(page), related
    base = (
        f"article:{ref.pk}:{ref.live_revision_id}:{pages}:"
        f"{request.scheme}://{request.get_host()}:{language}:"
        f"{timezone.localdate(now).isoformat()}"
    )
    # ":paragraphs": bodies cached as one piece per block (before the cut inside rich text)
    # must never be read back and cut by blocks again.
    frame_key, body_key = f"{base}:{view}", f"{base}:paragraphs"
    # The related list names no listings generation: it carries the stamp of the families
    # it was drawn from, and is stale once that no longer matches (a publish in them).
    related_key = f"article-related:{ref.pk}:{ref.live_revision_id}:{pages}:{language}"
    found = cached_many([frame_key, body_key, related_key])
    frame, body, related = (found.get(key) for key in (frame_key, body_key, related_key))
    if related is not None and related.stamp != generations.stamp(related.families, request):
        related = None
    if frame is None or body is None or related is None:
        page = page_loader()
        if frame is None:
            frame = build_frame(page, request, view)
            store(frame_key, frame)
        if body is None:
            body = build_body(page)
            store(body_key, body)
        if related is None:
            related = build_related(page, request)
            if related.stamp is not None:
                store(related_key, related)
    return frame, body, related.html


@dataclass(frozen=True)
class Related:
    """The related articles' HTML, the families they were drawn from (the article's series
    and topics) and the stamp of those families when the list was drawn."""

    html: str
    families: tuple[str, ...]
    stamp: str | None


def build_related(page, request) -> Related:
    """The related articles (other articles' teasers only), the same for every reader. The
    stamp is read before the list is, so a publish in its families meanwhile makes it
    stale rather than lost."""
    topic_ids = page.topic_ids()
    families = tuple(page.listing_families(topic_ids))
    stamp = generations.stamp(families, request)
    context = {"related": page.related_articles(topic_ids=topic_ids)}
    html = render_shared("news/includes/related.html", context, anonymous_request(request))
    return Related(html=html, families=families, stamp=stamp)


# --- per reader -------------------------------------------------------------------------


def teaser_split(reader: ReaderContext, access: str, kinds) -> int:
    """How many body pieces every reader receives: all of a free article, else the teaser.
    The one cut for every channel (the HTML pages here, the app API via ArticlePage.reading)."""
    if access == "free":
        return len(kinds)
    return teaser_length(list(kinds), reader.meter_settings.teaser_paragraphs)


def body_html(reader: ReaderContext, ref: ArticleRef, body: Body, full: bool) -> str:
    """The teaser, and the paywalled remainder only for a reader with full access."""
    split = teaser_split(reader, ref.access, body.kinds)
    html = "".join(body.html[:split])
    rest = body.html[split:]
    if full and rest:
        html += f'<div class="{PAYWALLED_CLASS}">{"".join(rest)}</div>'
    return html


def reader_menu_html(request, frame: Frame) -> str:
    """The site header's menu for this reader: the frame's own for a reader with no
    identity (the same for all of them), else theirs (their name, whether they subscribe,
    links to their account and to the sign-out page), rendered once per state and language
    in this process."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return frame.anonymous_reader
    key = (state_of(request), translation.get_language())
    with _local_lock:
        html = _menus.get(key)
    if html is None:
        # What the menu uses and nothing more: a RequestContext would run every context
        # processor (settings, campaigns, messages...) for a dozen lines of HTML.
        html = get_template(READER_MENU).template.render(Context({"request": request}))
        with _local_lock:
            _menus[key] = html
    return html


def meter_notice_html(decision, language: str) -> str:
    """Depends only on the message, count and language, so it is rendered once per process."""
    if decision.message not in METER_MESSAGES:
        return ""
    key = (decision.message, decision.remaining, language)
    html = _snippets.get(key)
    if html is None:
        html = render_to_string(
            "access/meter_notice.html",
            {"access": decision, "subscribe_url": settings.MASTHEAD_SUBSCRIBE_URL},
        )
        _snippets[key] = html
    return html


def banners_html(request, reader: ReaderContext) -> str:
    campaigns = reader.campaigns
    if not campaigns.banners and not campaigns.free_access:
        return ""
    return render_to_string(
        "campaigns/banners.html",
        {"campaign_banners": campaigns.banners, "free_access_window": campaigns.free_access},
        request=request,
    )


def paywall_html(request, decision, language: str, now) -> str:
    """The panel with the offers for this reader. Every anonymous reader is offered the same,
    so theirs is cached per message and minute of `now`, the request's instant (offers start
    and end on time to the minute; a saved offer or plan changes the generation)."""
    user = getattr(request, "user", None)
    gen = generation(request)
    if gen is None or getattr(request, "is_preview", False) or (user and user.is_authenticated):
        return render_to_string("access/paywall.html", {"access": decision}, request=request)
    key = f"article-paywall:{gen}:{decision.message}:{language}:{now:%Y%m%dT%H%M}:{request.path}"
    html = cached_many([key]).get(key)
    if html is None:
        html = render_shared(
            "access/paywall.html", {"access": decision}, anonymous_request(request)
        )
        store(key, html)
    return html


def article_response(
    request, ref: ArticleRef, page_loader, view: str = "page", decision=None
) -> HttpResponse:
    """The article for this reader: decided first (the decision settles the request), then
    assembled from the cached pieces. `decision`: one made already (the editors' preview
    as a reader without access)."""
    reader = reader_context(request)
    if decision is None:
        decision = article_decision(reader, ref)
    # The language (no LocaleMiddleware: a thread-local miss each time it is asked) and the
    # instant (the reader context's) are asked once and handed to every piece that names them.
    language = translation.get_language()
    frame, body, related = pieces_for(
        request, page_loader, ref, view, language=language, now=reader.now
    )
    channel = Channel.PRINT if view == "print" else Channel.HTML
    full = what_may_be_seen(channel, ref.access, decision) == Visibility.FULL
    fill = {
        "reader": lambda: reader_menu_html(request, frame),
        "related": lambda: related,
        "meter_notice": lambda: meter_notice_html(decision, language),
        "banners": lambda: banners_html(request, reader),
        "body": lambda: body_html(reader, ref, body, full),
        "paywall": lambda: "" if full else paywall_html(request, decision, language, reader.now),
    }
    out = []
    for index, part in enumerate(frame.parts):
        out.append(fill[part]() if index % 2 else part)
    response = HttpResponse("".join(out))
    # The header depends on whether the reader is signed in: one who is gets their own.
    patch_vary_headers(response, ["Cookie"])
    user = getattr(request, "user", None)
    if ref.access != "free" or (user is not None and user.is_authenticated):
        # What this response holds depends on who asked: no shared cache may keep it.
        patch_cache_control(response, private=True)
    return response
