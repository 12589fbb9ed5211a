"""The accounts `load_demo` creates, all with one published password, and how to find them
again: `check --deploy` must name any left on a site that is not a demo (masthead.E031)."""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db.models import Q

DEMO_PASSWORD_ENV = "MASTHEAD_DEMO_PASSWORD"  # noqa: S105 - a variable name
DEFAULT_DEMO_PASSWORD = "masthead-demo"  # noqa: S105 - a local demo, printed on start

# (username, e-mail)
STAFF = [("admin", "admin@example.com"), ("editor", "editor@example.com")]
# (username, e-mail, subscribed)
READERS = [
    ("subscriber", "subscriber@example.com", True),
    ("reader", "reader@example.com", False),
]


def demo_password() -> str:
    return os.environ.get(DEMO_PASSWORD_ENV) or DEFAULT_DEMO_PASSWORD


def find_demo_accounts() -> list[str]:
    """User names of the demo's accounts in the database, sorted.

    An account is the demo's when it has one of the demo's e-mail addresses (example.com is
    reserved, so no real reader has one), or one of the demo's user names and still a
    published password (the default, or MASTHEAD_DEMO_PASSWORD's). A real site's own `admin`
    with its own password is therefore left alone. The password is checked without the
    hasher's upgrade-on-check, so a deploy check never writes."""
    emails = [email for _, email in STAFF] + [email for _, email, _ in READERS]
    usernames = [name for name, _ in STAFF] + [name for name, _, _ in READERS]
    by_email = Q()
    for email in emails:
        by_email |= Q(email__iexact=email)
    passwords = {DEFAULT_DEMO_PASSWORD, demo_password()}
    found = set()
    for username, email, encoded in (
        get_user_model()
        ._default_manager.filter(by_email | Q(username__in=usernames))
        .values_list("username", "email", "password")
    ):
        if email.lower() in emails or any(check_password(p, encoded) for p in passwords):
            found.add(username)
    return sorted(found)
