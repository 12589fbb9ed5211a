import os
import time

from django.core.management.base import BaseCommand, CommandError

from masthead.access import gate
from masthead.access.meter import get_meter_store
from masthead.access.models import MeterSettings
from masthead.demo import seeding
from masthead.demo.guard import require_demo
from masthead.news.models import SectionPage


class Command(BaseCommand):
    help = (
        "Add benchmark data in bulk: live metered articles under a section, and this month's "
        "meter entries for many anonymous readers in the configured meter store. Seeded rows "
        "are numbered; a run adds only the numbers that are missing, so re-running with the "
        "same numbers adds nothing. Needs MASTHEAD_DEMO=true: not for production databases."
    )

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=int, default=0, help="Seeded articles wanted.")
        parser.add_argument(
            "--meter-readers", type=int, default=0, help="Seeded anonymous readers wanted."
        )
        parser.add_argument(
            "--reads-per-reader",
            type=int,
            default=3,
            help="Articles each seeded reader has read this period (default 3).",
        )
        parser.add_argument(
            "--section", default="", help="Slug of the section (default: the first one)."
        )
        parser.add_argument("--batch-size", type=int, default=0, help="Rows per batch.")

    def handle(self, *args, **options):
        require_demo("seed_bench")
        started = time.monotonic()
        self.stdout.write(f"load average before: {_load()}")
        try:
            section = (
                SectionPage.objects.get(slug=options["section"])
                if options["section"]
                else seeding.default_section()
            )
        except (SectionPage.DoesNotExist, ValueError) as error:
            raise CommandError(str(error)) from error
        if options["articles"]:
            batch = {"batch_size": options["batch_size"]} if options["batch_size"] else {}
            done = seeding.seed_articles(count=options["articles"], section=section, **batch)
            self.stdout.write(f"{done} (under {section.url_path})")
        if options["meter_readers"]:
            self._seed_meter(options, section)
        self.stdout.write(
            f"total {time.monotonic() - started:.1f} s; load average after: {_load()}"
        )

    def _seed_meter(self, options, section):
        store = get_meter_store()
        config = MeterSettings.for_site(section.get_site())
        now = gate.clock()
        article_ids = seeding.meter_article_ids()
        batch = {"batch_size": options["batch_size"]} if options["batch_size"] else {}
        try:
            done = seeding.seed_meter(
                store=store,
                readers=options["meter_readers"],
                per_reader=options["reads_per_reader"],
                article_ids=article_ids,
                window=gate.current_window(config, now),
                now=now,
                **batch,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{done} ({type(store).__module__}, {options['reads_per_reader']} reads each "
            f"over {len(article_ids)} metered articles; reader 1 is {seeding.reader_key(1)})"
        )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
