from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Site

from masthead.access.models import MeterSettings


class Command(BaseCommand):
    help = (
        "Show or set the bounds for clients without a reader cookie (Settings > Meter in the "
        "admin): full texts per client network per day, and per meter period for new "
        "readers. 0 switches a bound off (load tests from one address need that)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--per-day", type=int, help="full texts per network per day")
        parser.add_argument(
            "--per-period", type=int, help="full texts per network per period for new readers"
        )
        parser.add_argument("--off", action="store_true", help="switch both bounds off")

    def handle(self, *args, per_day, per_period, off, **options):
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            raise CommandError("No default site: run migrate (and load_demo for the demo).")
        config = MeterSettings.for_site(site)
        if off:
            per_day = per_period = 0
        if per_day is not None:
            config.identityless_per_day = per_day
        if per_period is not None:
            config.full_texts_per_network = per_period
        if per_day is not None or per_period is not None:
            try:
                config.full_clean()
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
            config.save()
        self.stdout.write(
            f"Without a reader cookie: {_bound(config.identityless_per_day)} full texts per "
            f"network per day; new readers: {_bound(config.full_texts_per_network)} full texts "
            "per network per period."
        )


def _bound(value: int) -> str:
    return str(value) if value else "no bound on"
