"""Account e-mails: each is three templates under readers/email/ — <name>_subject.txt,
<name>.txt and <name>.html — rendered with the site name and the caller's context."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def render(name: str, context: dict) -> tuple[str, str, str]:
    context = {"site_name": settings.MASTHEAD_SITE_NAME, **context}
    subject = render_to_string(f"readers/email/{name}_subject.txt", context)
    text = render_to_string(f"readers/email/{name}.txt", context)
    html = render_to_string(f"readers/email/{name}.html", context)
    # A subject is one line: a newline in it would start a new header.
    return " ".join(subject.split()), text, html


def send(name: str, *, to: str, context: dict) -> None:
    subject, text, html = render(name, context)
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
