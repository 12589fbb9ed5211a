"""Notice e-mails: three templates each under notices/email/ (see masthead.core.mail). There
is no request when the command runs, so links are absolute from ``WAGTAILADMIN_BASE_URL``
(the public base URL)."""

from urllib.parse import urljoin

from django.conf import settings

from masthead.core import mail

FOLDER = "notices/email"


def absolute(path: str) -> str:
    """An absolute link for `path`; a path that is already absolute is kept."""
    return urljoin(settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/", path)


def render(kind: str, context: dict) -> tuple[str, str, str]:
    return mail.render(FOLDER, kind, context)


def send(kind: str, *, to: str, context: dict) -> None:
    mail.send(FOLDER, kind, to=to, context=context)
