"""Article pages rendered once per live revision, assembled per reader.

A page is cached as two pieces under ``article:<page_id>:<live_revision_id>:<generation>:<origin>``:

- ``:page`` / ``:print`` — the *frame*: the whole HTML document (head, JSON-LD, header,
  byline, related articles...) split at the *slots* where something per reader goes:
  the meter notice, the campaign banners, the body and the paywall panel. The frame holds
  no body text at all, and is rendered from an anonymous request (``anonymous_request``),
  so it is the same for every reader, whoever filled the cache.
- ``:paragraphs`` — the body as rendered pieces, one per paragraph of rich text (free part
  and paywalled remainder alike). Each
  request cuts it with the site's teaser length and inserts the remainder only when the
  access decision (``masthead.access.gate``, the same code as every other channel) says
  full text. A reader who is not entitled never receives it, whatever is cached.

The *generation* is a token in the cache that changes on every publish, unpublish, move or
delete of any page, and on edits of what an article shows of other objects (authors,
sponsors, images, topics, sites, view restrictions). Lists inside the frame (related
articles, the section menu) therefore never outlive a change, and keying by live revision
as well keeps an edited article from ever meeting its old frame. A saved draft changes
nothing a reader sees, so it invalidates nothing.

Every request reads the generation from the shared cache, in the one round trip that reads
all of its tokens (masthead.core.generations); the frames, bodies and routes it names are
also kept in a small per-process memo, which is safe because their keys carry the
generation. The cache is an optimisation: when it fails, the page is
rendered as if nothing were cached.
"""

import copy
import logging
import re
import secrets
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import mark_safe

from masthead.access import gate
from masthead.access.gate import article_decision, meter_settings
from masthead.access.policy import Message
from masthead.access.teaser import teaser_length
from masthead.campaigns.fetch import campaigns_for_request
from masthead.core import generations
from masthead.core.memo import Memo

log = logging.getLogger(__name__)

TIMEOUT = 24 * 3600
PAYWALLED_CLASS = "paywalled-content"
TEMPLATES = {"page": "news/article_page.html", "print": "news/article_page_print.html"}
SLOTS = ("meter_notice", "banners", "body", "paywall")
# Unique per process and never stored: only used to find the slots in a fresh render.
_NONCE = secrets.token_hex(8)
_SLOT_RE = re.compile(r"<!--masthead-slot:" + _NONCE + r":(\w+)-->")
_MEMO_SIZE = 256
METER_MESSAGES = (Message.METER_REMAINING, Message.METER_LAST)  # access/meter_notice.html


@dataclass(frozen=True)
class ArticleRef:
    """What the hot path needs to know about an article without loading it."""

    pk: int
    access: str
    live_revision_id: int | None


@dataclass(frozen=True)
class Frame:
    """Rendered HTML with slot names between its parts: (html, slot, html, slot, ..., html)."""

    parts: tuple[str, ...]


@dataclass(frozen=True)
class Body:
    kinds: tuple[str, ...]
    html: tuple[str, ...]


memo = Memo(_MEMO_SIZE)
# Small renders that depend only on their arguments (meter notices): rendered once per process.
_snippets: dict = {}


# --- generation ---------------------------------------------------------------------------


def generation(request=None) -> str | None:
    """The current pages generation, or None when the cache cannot answer (then nothing is
    cached). Read once per request when given one, with the other tokens."""
    return generations.current(generations.PAGES, request)


def bump_generation() -> None:
    """Forget every cached article piece and route. Never raises: it runs inside saves."""
    generations.bump(generations.PAGES)


def invalidate_on_change(sender=None, **kwargs) -> None:
    """Signal receiver: what readers see of pages may have changed."""
    generations.bump_with_transaction(generations.PAGES, kwargs.get("using"))


# --- cache access -----------------------------------------------------------------------


def cached_many(keys: list[str]) -> dict:
    """Values for `keys` from the per-process memo, then the shared cache."""
    found = {}
    missing = []
    for key in keys:
        value = memo.get(key)
        if value is None:
            missing.append(key)
        else:
            found[key] = value
    if missing:
        try:
            shared = cache.get_many(missing)
        except Exception:  # noqa: BLE001
            log.warning("cache unavailable for article pages", exc_info=True)
            shared = {}
        for key, value in shared.items():
            memo.put(key, value)
            found[key] = value
    return found


def store(key: str, value) -> None:
    memo.put(key, value)
    try:
        cache.set(key, value, TIMEOUT)
    except Exception:  # noqa: BLE001
        log.warning("could not cache %s", key, exc_info=True)


# --- building the pieces ------------------------------------------------------------------


def slot_markers() -> dict:
    return {name: mark_safe(f"<!--masthead-slot:{_NONCE}:{name}-->") for name in SLOTS}  # noqa: S308


# What a request carries of its reader: cookies, credentials and the CSRF secret (META),
# and what middleware hangs on it (the session, messages, the meter's reader, the campaigns
# fetched for this reader).
_READER_META = ("HTTP_COOKIE", "HTTP_AUTHORIZATION", "CSRF_COOKIE", "CSRF_COOKIE_NEEDS_UPDATE")
_READER_ATTRIBUTES = ("_messages", "reader", "_masthead_campaigns", "_cached_user", "auser")


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
    return Frame(parts=tuple(_SLOT_RE.split(html)))


def build_body(page) -> Body:
    pieces = page.body_pieces()
    return Body(kinds=tuple(p.kind for p in pieces), html=tuple(str(p.html) for p in pieces))


def pieces_for(request, page_loader, ref: ArticleRef, view: str) -> tuple[Frame, Body]:
    """The frame and body of the live revision, from the cache or rendered now. A preview
    (a revision that is not the live one) is never cached."""
    gen = None
    if not getattr(request, "is_preview", False) and ref.live_revision_id is not None:
        gen = generation(request)
    if gen is None:
        page = page_loader()
        return build_frame(page, request, view), build_body(page)
    base = (
        f"article:{ref.pk}:{ref.live_revision_id}:{gen}:"
        f"{request.scheme}://{request.get_host()}:{translation.get_language()}:"
        f"{timezone.localdate().year}"
    )
    # ":paragraphs": bodies cached as one piece per block (before the cut inside rich text)
    # must never be read back and cut by blocks again.
    frame_key, body_key = f"{base}:{view}", f"{base}:paragraphs"
    found = cached_many([frame_key, body_key])
    frame, body = found.get(frame_key), found.get(body_key)
    if frame is None or body is None:
        page = page_loader()
        if frame is None:
            frame = build_frame(page, request, view)
            store(frame_key, frame)
        if body is None:
            body = build_body(page)
            store(body_key, body)
    return frame, body


# --- per reader -------------------------------------------------------------------------


def teaser_split(request, access: str, kinds) -> int:
    """How many body pieces every reader receives: all of a free article, else the teaser.
    The one cut for every channel (the HTML pages here, the app API via ArticlePage.reading)."""
    if access == "free":
        return len(kinds)
    return teaser_length(list(kinds), meter_settings(request).teaser_paragraphs)


def body_html(request, ref: ArticleRef, body: Body, full: bool) -> str:
    """The teaser, and the paywalled remainder only for a reader with full access."""
    split = teaser_split(request, ref.access, body.kinds)
    html = "".join(body.html[:split])
    rest = body.html[split:]
    if full and rest:
        html += f'<div class="{PAYWALLED_CLASS}">{"".join(rest)}</div>'
    return html


def meter_notice_html(decision) -> str:
    """Depends only on the message and count, so it is rendered once per process."""
    if decision.message not in METER_MESSAGES:
        return ""
    key = (decision.message, decision.remaining, translation.get_language())
    html = _snippets.get(key)
    if html is None:
        html = render_to_string(
            "access/meter_notice.html",
            {"access": decision, "subscribe_url": settings.MASTHEAD_SUBSCRIBE_URL},
        )
        _snippets[key] = html
    return html


def banners_html(request) -> str:
    campaigns = campaigns_for_request(request, timezone.now())
    if not campaigns.banners and not campaigns.free_access:
        return ""
    return render_to_string(
        "campaigns/banners.html",
        {"campaign_banners": campaigns.banners, "free_access_window": campaigns.free_access},
        request=request,
    )


def paywall_html(request, decision) -> str:
    """The panel with the offers for this reader. Every anonymous reader is offered the same,
    so theirs is cached per message and minute (offers start and end on time to the minute;
    a saved offer or plan changes the generation)."""
    user = getattr(request, "user", None)
    gen = generation(request)
    if gen is None or getattr(request, "is_preview", False) or (user and user.is_authenticated):
        return render_to_string("access/paywall.html", {"access": decision}, request=request)
    key = (
        f"article-paywall:{gen}:{decision.message}:{translation.get_language()}:"
        f"{gate.clock():%Y%m%dT%H%M}:{request.path}"
    )
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
    if decision is None:
        decision = article_decision(request, ref)
    frame, body = pieces_for(request, page_loader, ref, view)
    fill = {
        "meter_notice": lambda: meter_notice_html(decision),
        "banners": lambda: banners_html(request),
        "body": lambda: body_html(request, ref, body, decision.full),
        "paywall": lambda: "" if decision.full else paywall_html(request, decision),
    }
    out = []
    for index, part in enumerate(frame.parts):
        out.append(fill[part]() if index % 2 else part)
    response = HttpResponse("".join(out))
    if ref.access != "free":
        # What this response holds depends on who asked: no shared cache may keep it.
        patch_cache_control(response, private=True)
        patch_vary_headers(response, ["Cookie"])
    return response
