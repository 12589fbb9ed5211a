"""The site's e-mails: each is three templates — <folder>/<name>_subject.txt, <name>.txt and
<name>.html — rendered with the site name, in the site's time zone and language whoever
sends them (a view, or a command with no request)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation


def render(folder: str, name: str, context: dict) -> tuple[str, str, str]:
    context = {"site_name": settings.MASTHEAD_SITE_NAME, **context}
    with timezone.override(settings.TIME_ZONE), translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"{folder}/{name}_subject.txt", context)
        text = render_to_string(f"{folder}/{name}.txt", context)
        html = render_to_string(f"{folder}/{name}.html", context)
    # A subject is one line: a newline in it would start a new header.
    return " ".join(subject.split()), text, html


def send(folder: str, name: str, *, to: str, context: dict) -> None:
    subject, text, html = render(folder, name, context)
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
