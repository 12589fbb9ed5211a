"""Notice e-mails: three templates each under notices/email/ (see masthead.core.mail). There
is no request when the command runs, so its links are absolute (masthead.core.links)."""

from masthead.core import mail

FOLDER = "notices/email"


def render(kind: str, context: dict) -> tuple[str, str, str]:
    return mail.render(FOLDER, kind, context)


def send(kind: str, *, to: str, context: dict) -> None:
    mail.send(FOLDER, kind, to=to, context=context)
