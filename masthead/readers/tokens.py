"""Tokens that prove a reader opened an e-mail.

Two kinds, for two needs:
- e-mail verification links are signed (no database row): they carry the account, the
  address they were sent from and the one to verify, and only work while the account still
  has the "from" address, so an old link cannot undo a later change;
- sign-in links must work once, so they are random tokens whose hash is stored
  (models.SignInLink) and consumed by one conditional UPDATE.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.utils import timezone

VERIFY_SALT = "masthead.readers.verify-email"
VERIFY_MAX_AGE = timedelta(days=3)
SIGN_IN_LINK_LIFETIME = timedelta(minutes=15)


def now():
    """The clock for link lifetimes; tests move it."""
    return timezone.now()


@dataclass(frozen=True)
class EmailClaim:
    user_pk: int
    from_email: str
    to_email: str


def make_verification_token(*, user_pk: int, from_email: str, to_email: str) -> str:
    return signing.dumps({"u": user_pk, "f": from_email, "t": to_email}, salt=VERIFY_SALT)


def read_verification_token(token: str) -> EmailClaim | None:
    """The claim in a verification token, or None when it is forged, damaged or too old."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
        return EmailClaim(user_pk=int(data["u"]), from_email=data["f"], to_email=data["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def new_link_token() -> tuple[str, str]:
    """A fresh sign-in link token (256 bits) and the hash we store for it."""
    token = secrets.token_urlsafe(32)
    return token, hash_link_token(token)


def hash_link_token(token: str) -> str:
    # A plain hash suffices: the token is random and long, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()
