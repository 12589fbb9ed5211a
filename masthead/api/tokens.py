"""Issuing, recognising and revoking bearer tokens. Each state change is one conditional
UPDATE (or one INSERT), so two racing requests cannot both use a token being revoked."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q

from .models import ApiToken

LIFETIME = timedelta(days=90)
# last_used is a hint for the reader ("used 2 days ago"), not an audit log: writing it at
# most every few minutes keeps API reads from costing a write each.
LAST_USED_RESOLUTION = timedelta(minutes=5)
# secrets.token_urlsafe(32): 43 characters of the URL-safe alphabet.
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_BEARER_PATTERN = re.compile(r"^Bearer +(\S+) *$", re.IGNORECASE)


class InvalidToken(Exception):
    """Missing, malformed, unknown, expired or revoked: the API answers all alike (401)."""


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(*, user, name: str, now: datetime) -> Issued:
    token = secrets.token_urlsafe(32)
    expires_at = now + LIFETIME
    ApiToken.objects.create(
        user=user,
        name=name,
        token_hash=_hash(token),
        expires_at=expires_at,
        session_salt=user.session_key_salt,
    )
    return Issued(token=token, expires_at=expires_at)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is no header.
    Anything else there raises InvalidToken: a client that sends credentials wants to know
    they failed, not to be served as an anonymous reader."""
    if authorization is None:
        return None
    match = _BEARER_PATTERN.match(authorization)
    if match is None or not _TOKEN_PATTERN.match(match.group(1)):
        raise InvalidToken
    return match.group(1)


def _live(token: str, now: datetime):
    return ApiToken.objects.filter(
        token_hash=_hash(token),
        revoked_at__isnull=True,
        expires_at__gt=now,
        user__is_active=True,
        user__session_key_salt=F("session_salt"),
    )


def authenticate(token: str, now: datetime):
    """The user a live token speaks for; InvalidToken otherwise."""
    found = _live(token, now).select_related("user").first()
    if found is None:
        raise InvalidToken
    stale = Q(last_used__isnull=True) | Q(last_used__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(pk=found.pk).filter(stale).update(last_used=now)
    return found.user


def revoke(token: str, now: datetime) -> None:
    """Revoke a live token; InvalidToken when it was not live (already revoked, say)."""
    if not _live(token, now).update(revoked_at=now):
        raise InvalidToken
