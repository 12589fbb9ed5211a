from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tasks_db.models import DBTaskResult

from masthead.core import clock
from masthead.core.tasks import MAIL_BACKEND, send_email


class Command(BaseCommand):
    help = (
        "Queue the messages of the given mail-queue rows again, from attempt 1: a Failed row "
        "once its cause is fixed, or a row left Running by a worker that was killed. Ids are "
        "in the admin's Settings -> Mail queue."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", help="mail-queue row ids")
        parser.add_argument("--all-failed", action="store_true", help="every Failed row")
        parser.add_argument(
            "--stuck-minutes",
            type=int,
            default=0,
            help="also every row Running for longer than this (a worker killed mid-send)",
        )

    def handle(self, *args, ids, all_failed, stuck_minutes, **options):
        rows = DBTaskResult.objects.filter(backend_name=MAIL_BACKEND)
        chosen = rows.filter(id__in=ids) if ids else rows.none()
        if all_failed:
            chosen |= rows.failed()
        if stuck_minutes:
            since = clock.now() - timedelta(minutes=stuck_minutes)
            chosen |= rows.running().filter(started_at__lt=since)
        try:
            if ids and len(set(ids)) != rows.filter(id__in=ids).count():
                raise CommandError("Not every id is a row of the mail queue.")
        except ValidationError as error:
            raise CommandError("Not every id is a row of the mail queue.") from error
        for row in chosen.order_by("enqueued_at"):
            if row.status not in ("FAILED", "RUNNING"):
                raise CommandError(f"{row.id} is {row.status}: only Failed or Running rows.")
            message = {**row.args_kwargs["kwargs"], "attempt": 1}
            queued = send_email.enqueue(**message)
            if row.status == "RUNNING":
                # So that the admin no longer shows it as being sent.
                row.set_failed(RuntimeError(f"left Running by a stopped worker; {queued.id}"))
            self.stdout.write(f"{row.id} to {message['to'] or '(blank)'}: queued as {queued.id}")
