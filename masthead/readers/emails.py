"""Account e-mails: three templates each under readers/email/ (see masthead.core.mail)."""

from masthead.core import mail

FOLDER = "readers/email"


def render(name: str, context: dict) -> tuple[str, str, str]:
    return mail.render(FOLDER, name, context)


def send(name: str, *, to: str, context: dict) -> None:
    mail.send(FOLDER, name, to=to, context=context)
