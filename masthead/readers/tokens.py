"""Tokens that prove a reader opened an e-mail.

Two kinds, for two needs:
- e-mail verification links are signed (no database row): they carry the account, the
  address they were sent from and the one to verify, and only work while the account still
  has the "from" address, so an old link cannot undo a later change;
- sign-in links must work once, so they are random tokens whose hash is stored
  (models.SignInLink) and consumed by one conditional UPDATE.

Links act only for the browser that asked: asking sets a signed cookie holding a random
nonce (an app sends its own nonce instead), and the link stores the nonce's hash. Elsewhere
the link shows a short code, derived from the token with the site's secret, to type into the
asking browser. Signing up sets a signed cookie naming the address, so that confirming it
from that browser keeps the password chosen there (actions.confirm_address).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.utils.crypto import salted_hmac

VERIFY_SALT = "masthead.readers.verify-email"
VERIFY_MAX_AGE = timedelta(days=3)
SIGN_IN_LINK_LIFETIME = timedelta(minutes=10)
LINK_NONCE_COOKIE = "mh_link_nonce"
LINK_NONCE_SALT = "masthead.readers.link-nonce"
SIGN_UP_COOKIE = "mh_sign_up"
SIGN_UP_SALT = "masthead.readers.sign-up"
CODE_DIGITS = 6


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


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def hash_nonce(nonce: str) -> str:
    """The stored form of a link's nonce; "" (no nonce) matches no link."""
    return hashlib.sha256(nonce.encode()).hexdigest() if nonce else "-"


def link_code(token: str) -> str:
    """The code a link shows when opened in a browser other than the one that asked."""
    digest = salted_hmac("masthead.readers.link-code", token).hexdigest()
    return f"{int(digest, 16) % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def hash_code(code: str) -> str:
    # Keyed: six digits are quickly tried against a plain hash from a leaked database.
    return salted_hmac("masthead.readers.link-code-hash", code.strip()).hexdigest()


def sign_up_tag(email: str) -> str:
    """What the sign-up cookie holds: a keyed hash of the address signed up for."""
    return salted_hmac(SIGN_UP_SALT, email.strip().lower()).hexdigest()[:32]
