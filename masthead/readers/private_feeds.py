"""Private full-text feeds: a reader's own address of the site's feed.

The address carries a secret of 32 random bytes (URL-safe base64); the database keeps only
its SHA-256 (models.PrivateFeed), so the address is shown once, when it is made or reset.
A fetch finds the feed by the hash of the secret it presents (a unique index: the lookup's
time says nothing about stored secrets, and the match is confirmed with a constant-time
compare). An unknown, reset or revoked secret is a 404, like any address that does not
exist. Signing out everywhere revokes the feed (actions.sign_out_everywhere).

Each fetch is served as the owner at that moment: the owner becomes the request's reader
and every item asks the access layer (news.feeds.private_items), so a lapsed subscriber's
feed falls back to teasers at once. Responses are `private` and `noindex`; fetches are
counted per feed in fixed windows (readers.ratelimit), 429 with Retry-After past the limit.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from . import ratelimit
from .models import PrivateFeed

SECRET_BYTES = 32
# Fetches per feed: (count, window in seconds). Feed readers poll every 15 to 60 minutes;
# a few apps of one reader fit well within it.
DEFAULT_LIMIT = (60, 3600)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(*, user, now: datetime) -> str:
    """Make the reader's feed, or give it a new secret (the old address stops working).
    Returns the secret: the only time it is known."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    PrivateFeed.objects.update_or_create(
        user=user, defaults={"secret_hash": digest(secret), "created_at": now}
    )
    return secret


def revoke(*, user) -> None:
    PrivateFeed.objects.filter(user=user).delete()


def has_feed(user) -> bool:
    return PrivateFeed.objects.filter(user=user).exists()


def find(secret: str) -> PrivateFeed | None:
    if not secret or len(secret) > 200:
        return None
    hashed = digest(secret)
    feed = PrivateFeed.objects.select_related("user").filter(secret_hash=hashed).first()
    if feed is None or not hmac.compare_digest(feed.secret_hash, hashed):
        return None
    if not feed.user.is_active:
        return None
    return feed


def limit() -> ratelimit.Limit:
    return ratelimit.Limit(*getattr(settings, "MASTHEAD_PRIVATE_FEED_LIMIT", DEFAULT_LIMIT))


def serve(request, secret: str, respond) -> HttpResponse:
    """The private feed of `secret` for this request: `respond()` builds it once the owner
    is the request's reader (news.feeds.private_response)."""
    feed = find(secret)
    if feed is None:
        raise Http404("No such feed")
    verdict = ratelimit.allow_key("private-feed", str(feed.pk), limit())
    if not verdict:
        response = HttpResponse("Too many requests for this feed.", status=429)
        response["Retry-After"] = str(verdict.retry_after)
    else:
        # The reader context reads request.user: the owner, not whoever holds the cookie.
        request.user = feed.user
        request.__dict__.pop("reader_context", None)
        response = respond()
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
