"""Notice e-mails: each is three templates under notices/email/ — <kind>_subject.txt,
<kind>.txt and <kind>.html — like the account e-mails in `readers.emails`. There is no
request when the command runs, so links are absolute from ``WAGTAILADMIN_BASE_URL`` (the
public base URL), and dates are shown in the site's ``TIME_ZONE`` whoever calls."""

from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation


def absolute(path: str) -> str:
    """An absolute link for `path`; a path that is already absolute is kept."""
    return urljoin(settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/", path)


def render(kind: str, context: dict) -> tuple[str, str, str]:
    context = {"site_name": settings.MASTHEAD_SITE_NAME, **context}
    with timezone.override(settings.TIME_ZONE), translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"notices/email/{kind}_subject.txt", context)
        text = render_to_string(f"notices/email/{kind}.txt", context)
        html = render_to_string(f"notices/email/{kind}.html", context)
    # A subject is one line: a newline in it would start a new header.
    return " ".join(subject.split()), text, html


def send(kind: str, *, to: str, context: dict) -> None:
    subject, text, html = render(kind, context)
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
