"""Who is reading: a signed-in account, or an anonymous reader known by a random id.

The anonymous id lives in a signed, HttpOnly cookie that holds that id and, for a new
reader, its state (see AnonymousCookie); the count lives on the server. Anything wrong with
the cookie (missing, expired, tampered, garbage) makes a fresh anonymous reader: never an
error, never more reading than no cookie."""

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from .policy import Reader

COOKIE_SALT = "masthead.access.reader"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers honour
# The cookie's value (signed): "<id>" (settled); "<id>.r<article>.<time>" (new: read one
# article in full, not yet stored); "<id>.n<time>" (new: read nothing yet); "<id>.x<time>"
# (issued past its network's bound: its allowance is used for that period). See
# masthead.access.networks for why new readers settle when their cookie comes back.
_COOKIE_PATTERN = re.compile(
    r"^([A-Za-z0-9_-]{22})(?:\.r(\d{1,10})\.(\d{1,12})|\.([nx])(\d{1,12}))?$"
)


_NOBODY = object()  # no user read yet (None is a request without a user)


def new_anonymous_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, 128 bits


@dataclass(frozen=True)
class AnonymousCookie:
    """What the reader cookie says, all of it signed by us."""

    id: str
    pending_article: int | None = None  # read in full when the id was issued, not yet stored
    pending_at: datetime | None = None
    new_at: datetime | None = None  # issued without a read, not settled yet
    born_exhausted_at: datetime | None = None

    @property
    def settled(self) -> bool:
        """Whether this id has taken its place in its network's bound (or never needs to)."""
        return self.pending_article is None and self.new_at is None

    @property
    def texts_read(self) -> int:
        return 0 if self.pending_article is None else 1

    @classmethod
    def parse(cls, value: str | None) -> "AnonymousCookie | None":
        found = _COOKIE_PATTERN.match(value or "")
        if found is None:
            return None
        anonymous_id, article, read_at, state, at = found.groups()
        if article is not None:
            return cls(anonymous_id, int(article), _from_timestamp(read_at))
        if state == "n":
            return cls(anonymous_id, new_at=_from_timestamp(at))
        if state == "x":
            return cls(anonymous_id, born_exhausted_at=_from_timestamp(at))
        return cls(anonymous_id)

    def value(self) -> str:
        if self.pending_article is not None:
            return f"{self.id}.r{self.pending_article}.{int(self.pending_at.timestamp())}"
        if self.new_at is not None:
            return f"{self.id}.n{int(self.new_at.timestamp())}"
        if self.born_exhausted_at is not None:
            return f"{self.id}.x{int(self.born_exhausted_at.timestamp())}"
        return self.id


def _from_timestamp(value: str) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def cookie_from(request) -> AnonymousCookie | None:
    value = request.get_signed_cookie(
        settings.MASTHEAD_READER_COOKIE, default=None, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE
    )
    try:
        return AnonymousCookie.parse(value)
    except (OverflowError, OSError, ValueError):  # a signed but absurd time
        return None


def anonymous_id_from(request) -> str | None:
    cookie = cookie_from(request)
    return cookie.id if cookie else None


class ReaderIdentity:
    """The reader context's identity (access.context). The anonymous id is issued only when
    something asks for it, so pages that never meter set no cookie.

    `cookie` is what the request brought (None: no identity, or a broken one);
    `cookie_to_set` what the response must send back, when that changed: a new id, or a
    pending first read that has now been stored."""

    def __init__(self, request):
        self._request = request
        self.cookie = cookie_from(request)
        self._current = self.cookie
        self.cookie_to_set: AnonymousCookie | None = None
        self._signed_in_as = (_NOBODY, False)

    @property
    def user(self):
        return getattr(self._request, "user", None)

    @property
    def signed_in(self) -> bool:
        """Asked several times a request, and each answer from Django's lazy user goes
        through its proxy: kept for the user object it was read from. Signing in or out
        puts another object on the request (login(), logout()), which is read afresh."""
        user = self.user
        seen, signed_in = self._signed_in_as
        if user is not seen:
            signed_in = bool(user and user.is_authenticated)
            self._signed_in_as = (user, signed_in)
        return signed_in

    @property
    def issued(self) -> bool:
        """Whether this request made the anonymous id up (it came without one)."""
        return self.cookie is None and self._current is not None

    def issue(self, **state) -> str:
        """Give a request that came without an identity a new one, in the given state
        (AnonymousCookie's fields; plain and settled by default)."""
        self._become(AnonymousCookie(new_anonymous_id(), **state))
        return self._current.id

    def settle(self) -> None:
        """The id has taken its place in its network's bound and its first read (if any) is
        stored: from now on the cookie holds only the id."""
        self._become(AnonymousCookie(self._current.id))

    def exhaust(self, now) -> None:
        """The id could not take its place: its allowance is used for this period."""
        self._become(AnonymousCookie(self._current.id, born_exhausted_at=now))

    def _become(self, cookie: AnonymousCookie) -> None:
        self._current = self.cookie_to_set = cookie

    @property
    def anonymous_id(self) -> str:
        if self._current is None:
            self.issue()
        return self._current.id

    @property
    def key(self) -> str:
        if self.signed_in:
            return f"u:{self.user.pk}"
        return f"a:{self.anonymous_id}"

    def as_reader(self, *, verified_crawler: bool = False, check_staff: bool = True) -> Reader:
        """The reader for decide(). The key is left empty for anonymous readers: only the
        meter needs it (see metered_reader), and asking for it issues a cookie.
        check_staff=False skips the permission lookup (two queries) where the decision
        cannot depend on it: a free article, or a reader whose subscription already counts."""
        staff = check_staff and self.signed_in and self.user.has_perm("wagtailadmin.access_admin")
        return Reader(
            key=self.key if self.signed_in else "",
            # The registered allowance needs a verified e-mail address, so that throwaway
            # sign-ups do not multiply free articles.
            registered=self.signed_in and self.user.email_verified,
            verified_crawler=verified_crawler,
            staff=staff,
        )


def set_reader_cookie(response, cookie: AnonymousCookie) -> None:
    response.set_signed_cookie(
        settings.MASTHEAD_READER_COOKIE,
        cookie.value(),
        salt=COOKIE_SALT,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )
