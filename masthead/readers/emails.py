"""Account e-mails: three templates each under readers/email/ (see masthead.core.mail).
Each is queued, not sent, in the request; `send_nothing` is the same work for an address
that has no account, so the two answers cannot be told apart."""

from masthead.core import mail

FOLDER = "readers/email"


def render(name: str, context: dict) -> tuple[str, str, str]:
    return mail.render(FOLDER, name, context)


def send(name: str, *, to: str, context: dict) -> None:
    mail.send(FOLDER, name, to=to, context=context)


def send_nothing(name: str, *, context: dict) -> None:
    mail.send_nothing(FOLDER, name, context=context)
