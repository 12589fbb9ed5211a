from datetime import timedelta

from django.core.management.base import BaseCommand

from masthead.access.meter import MeterUnavailable, get_meter_store
from masthead.core import clock


class Command(BaseCommand):
    help = (
        "Forget meter reads older than any period can look back (default 400 days covers "
        "a calendar month and the longest rolling period). Run it daily from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, default=400)

    def handle(self, *args, older_than_days, **options):
        if older_than_days < 32:
            self.stderr.write("Refusing: a calendar month can look back 31 days.")
            raise SystemExit(2)
        before = clock.now() - timedelta(days=older_than_days)
        try:
            removed = get_meter_store().purge(before=before)
        except MeterUnavailable as error:
            self.stderr.write(f"The meter store is unavailable: {error}")
            raise SystemExit(1) from error
        self.stdout.write(f"Removed {removed} meter reads from before {before:%Y-%m-%d}.")
