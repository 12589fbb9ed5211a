"""The site's e-mails: each is three templates — <folder>/<name>_subject.txt, <name>.txt and
<name>.html — rendered with the site name, in the site's time zone and language whoever
sends them (a view, or a command with no request).

No e-mail is sent inside a request. `send` renders the message where it is asked for and
queues it (the "mail" task backend: a database row, committed with the caller's
transaction); the worker, ``manage.py db_worker --backend mail``, sends it and retries a
failure (masthead.core.tasks). A request therefore answers the same, as fast, whether the
mail server is up, slow or down, and a message waits in the queue until it can go.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .tasks import send_email


def render(folder: str, name: str, context: dict) -> tuple[str, str, str]:
    context = {"site_name": settings.MASTHEAD_SITE_NAME, **context}
    with timezone.override(settings.TIME_ZONE), translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"{folder}/{name}_subject.txt", context)
        text = render_to_string(f"{folder}/{name}.txt", context)
        html = render_to_string(f"{folder}/{name}.html", context)
    # A subject is one line: a newline in it would start a new header.
    return " ".join(subject.split()), text, html


def queue(*, to: str, subject: str, text: str, html: str):
    """Queue a message rendered elsewhere (Django's password reset renders its own)."""
    return send_email.enqueue(to=to, subject=subject, text=text, html=html)


def send(folder: str, name: str, *, to: str, context: dict):
    subject, text, html = render(folder, name, context)
    return queue(to=to, subject=subject, text=text, html=html)


def send_nothing(folder: str, name: str, *, context: dict):
    """The work of `send` for a message with nobody to go to: rendered and queued the same
    way (one row), and dropped by the worker. A request that must not tell whether an
    address has an account calls this where the other path calls `send`, so the two cost
    the same and answer the same, with the mail server up or down."""
    subject, text, html = render(folder, name, context)
    return queue(to="", subject=subject, text=text, html=html)
