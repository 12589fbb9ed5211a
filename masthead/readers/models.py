import functools
import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.encoding import force_bytes


class User(AbstractUser):
    """Our own user model from the first migration, because swapping it later is painful.

    Readers sign in by e-mail, so an address belongs to one account at most, whatever its
    case (the constraint on Lower(email) makes that a database fact, not a hopeful check)."""

    email = models.EmailField("email address", unique=True)
    email_verified = models.BooleanField(
        "email verified",
        default=False,
        help_text="Set when the reader opens a verification link. The registered meter "
        "allowance applies only to verified readers.",
    )
    display_name = models.CharField(
        "display name",
        max_length=60,
        blank=True,
        help_text="How the site's header names the reader; empty: their e-mail address.",
    )
    # Part of the session hash: changing it signs the account out of every browser.
    session_key_salt = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(Lower("email"), name="readers_user_email_ci_unique"),
        ]

    @property
    def shown_name(self) -> str:
        return self.display_name or self.email

    def get_session_auth_hash(self):
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)

    def _session_hash(self, *, secret):
        """Django's salted_hmac(SESSION_HASH_SALT, ..., algorithm="sha256"), with the key it
        derives from the secret made once per secret: every signed-in request checks it."""
        message = f"{self.password}:{self.session_key_salt}".encode()
        key = _session_hash_key(settings.SECRET_KEY if secret is None else secret)
        return hmac.new(key, message, hashlib.sha256).hexdigest()


SESSION_HASH_SALT = "masthead.readers.User.get_session_auth_hash"


@functools.lru_cache(maxsize=8)
def _session_hash_key(secret: str | bytes) -> bytes:
    """salted_hmac's derived key: a hash of the salt and the secret (keyed by the secret, so
    a rotated SECRET_KEY, or a test's, gets its own)."""
    return hashlib.sha256(force_bytes(SESSION_HASH_SALT) + force_bytes(secret)).digest()


class SignInLink(models.Model):
    """A one-time sign-in link. Only a hash of the token is stored, so a database leak
    does not hand out live links; used_at makes each link work once.

    The link signs in only the browser (or app) that asked for it: that one holds the nonce
    whose hash is nonce_hash. Opened anywhere else, the link's page shows a short code to
    type into the asking browser instead; code_hash is its keyed hash and code_attempts
    counts the tries, after MAX_CODE_ATTEMPTS of which the link is spent."""

    MAX_CODE_ATTEMPTS = 5

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_in_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    next_url = models.CharField(max_length=2000, blank=True, default="")
    nonce_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    code_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self):
        return f"sign-in link for user {self.user_id}"


class PrivateFeed(models.Model):
    """A reader's personal full-text feed (readers.private_feeds). Only the SHA-256 of its
    secret is stored: the address is shown once, when it is made or reset, and a database
    leak hands out no feeds. Deleting the row (turning it off, signing out everywhere)
    revokes the address."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="private_feed"
    )
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self):
        return f"private feed of user {self.user_id}"
