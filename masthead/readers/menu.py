"""The reader's state for the site header's menu (templates/includes/reader_menu.html).

Rendered per request: on article pages into the frame's `reader` slot (news.rendering, which
keeps a signed-in reader's menu per state), on every other page straight from base.html
(the `reader_state` template tag). Whether the reader is a subscriber is the access layer's
answer for this request (its reader context), the one the paywall also uses."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.http import urlencode

from masthead.access.context import reader_context
from masthead.access.policy import is_entitled


@dataclass(frozen=True)
class ReaderState:
    """Everything the menu shows of its reader: two readers of one state see one menu."""

    signed_in: bool
    name: str = ""
    subscriber: bool = False
    sign_in_url: str = ""


def state_of(request) -> ReaderState:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ReaderState(signed_in=False, sign_in_url=sign_in_url(request))
    reader = reader_context(request)
    return ReaderState(
        signed_in=True,
        name=user.shown_name,
        subscriber=is_entitled(reader.entitlement, reader.now),
    )


def sign_in_url(request) -> str:
    """Sign-in, coming back to this page (its path only: the query string may carry what
    another reader's link said, and the anonymous menu is shared). Not from the account's
    own pages (sign-in, sign-up, password reset): coming back to them is a loop."""
    url = reverse("readers:sign-in")
    if request is None or request.path.startswith(reverse("readers:account")):
        return url
    return f"{url}?{urlencode({'next': request.path})}"
