from django.core.management.base import BaseCommand, CommandError

from masthead.core import clock
from masthead.notices.outbox import deliver_due


class Command(BaseCommand):
    help = (
        "Queue the subscription e-mails that are due (receipts, failed payments, trials "
        "ending, access expired), each once; the mail queue's worker sends them. Run it "
        "every minute."
    )

    def handle(self, *args, **options):
        deliveries = deliver_due(now=clock.now())
        failed = [d for d in deliveries if not d.sent]
        for delivery in deliveries:
            if delivery.sent:
                self.stdout.write(f"Queued {delivery.kind} {delivery.key} to {delivery.to}")
            else:
                self.stderr.write(
                    f"Could not queue {delivery.kind} {delivery.key} to {delivery.to}: "
                    f"{delivery.error} (retried next run)"
                )
        if failed:
            raise CommandError(f"{len(failed)} of {len(deliveries)} notices could not be queued.")
