"""A real SMTP server and the real mail queue for tests (fixtures `smtp` and `mail_queue` in
conftest.py): the database backend of django-tasks-db and its worker, as production runs them."""

import signal
import socket
from email import message_from_bytes, policy
from io import StringIO

from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


class _Inbox:
    """aiosmtpd's handler: keeps each message; refuses recipients at `refuse` with a 550."""

    def __init__(self):
        self.messages = []
        self.refuse = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An SMTP server on a private port, down until `start()`; `stop()` takes it down again
    (a connection to the port is then refused, as with a dead mail server)."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.inbox = _Inbox()
        self._controller = None

    @property
    def messages(self):
        return self.inbox.messages

    def start(self):
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def run_worker() -> None:
    """`manage.py db_worker --backend mail --batch`: run every due task, then return."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command(
            "db_worker",
            "--backend=mail",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "--interval=0",
            stdout=StringIO(),
            verbosity=0,
        )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def time_passes() -> None:
    """Every queued retry is due now (the worker compares `run_after` with the clock)."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def rows(**filters):
    return list(DBTaskResult.objects.filter(backend_name="mail", **filters).order_by("enqueued_at"))
