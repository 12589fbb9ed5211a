"""Who is reading: a signed-in account, or an anonymous reader known by a random id.

The anonymous id lives in a signed, HttpOnly cookie that holds nothing but that id; the
count lives on the server. Anything wrong with the cookie (missing, expired, tampered,
garbage) makes a fresh anonymous reader: never an error, never more reading than no cookie."""

import logging
import re
import secrets

from django.conf import settings

from .meter import MeterUnavailable, get_meter_store
from .policy import Reader

log = logging.getLogger(__name__)

COOKIE_SALT = "masthead.access.reader"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers honour
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def new_anonymous_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, 128 bits


def anonymous_id_from(request) -> str | None:
    value = request.get_signed_cookie(
        settings.MASTHEAD_READER_COOKIE, default=None, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE
    )
    if value is None or not _ID_PATTERN.match(value):
        return None
    return value


class ReaderIdentity:
    """Attached to each request as request.reader. The anonymous id is issued only when
    something asks for it, so pages that never meter set no cookie."""

    def __init__(self, request):
        self._request = request
        self._anonymous_id = anonymous_id_from(request)
        self.issued = False

    @property
    def user(self):
        return getattr(self._request, "user", None)

    @property
    def signed_in(self) -> bool:
        return bool(self.user and self.user.is_authenticated)

    @property
    def anonymous_id(self) -> str:
        if self._anonymous_id is None:
            self._anonymous_id = new_anonymous_id()
            self.issued = True
        return self._anonymous_id

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


def set_reader_cookie(response, anonymous_id: str) -> None:
    response.set_signed_cookie(
        settings.MASTHEAD_READER_COOKIE,
        anonymous_id,
        salt=COOKIE_SALT,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def carry_meter_over_on_sign_in(sender, request, user, **kwargs):
    """What the anonymous id read this period counts for the account too."""
    if request is None:
        return
    anonymous_id = anonymous_id_from(request)
    if anonymous_id is None:
        return
    from . import gate

    try:
        get_meter_store().merge(
            from_key=f"a:{anonymous_id}",
            into_key=f"u:{user.pk}",
            window=gate.current_window(gate.meter_settings(request), gate.clock()),
        )
    except MeterUnavailable:
        log.warning("meter unavailable: could not carry reads over for user %s", user.pk)
