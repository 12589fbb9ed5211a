"""Grow the benchmark's data: live metered articles, and this period's meter entries for many
anonymous readers in a meter store (what bench/seeding.py writes, and how).

    .venv/bin/python bench/seed.py --articles 100000 --meter-readers 1000000 --store redis

bench/hotpath runs it with its own environment. Run by hand, it sets up Django with the
benchmark's (production settings, the database ``masthead_bench`` that ``bench/hotpath
--keep-db`` leaves, the bench's Redis database) and the meter store ``--store`` names.
Seeded rows are numbered: running again with the same numbers adds nothing.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/seed.py", description=__doc__)
    parser.add_argument(
        "--articles", type=harness.non_negative_int, default=0, help="seeded articles wanted"
    )
    parser.add_argument(
        "--meter-readers", type=harness.non_negative_int, default=0, help="seeded readers wanted"
    )
    parser.add_argument(
        "--reads-per-reader",
        type=harness.positive_int,
        default=3,
        help="articles each seeded reader has read this period (default 3)",
    )
    parser.add_argument("--section", default="", help="section slug (default: the first one)")
    parser.add_argument(
        "--batch-size", type=harness.non_negative_int, default=0, help="rows per batch"
    )
    parser.add_argument(
        "--store",
        choices=("redis", "db"),
        default="redis",
        help="run by hand: the meter store to seed (default redis); bench/hotpath sets it",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if "DJANGO_SETTINGS_MODULE" not in os.environ:  # by hand, not from bench/hotpath
        os.environ.update(harness.bench_env("masthead.settings.production"))
        os.environ["MASTHEAD_METER_STORE"] = f"masthead.access.meter.{args.store}"
    import django

    django.setup()
    import seeding
    from django.core.management.base import CommandError

    try:
        seeding.run(
            articles=args.articles,
            meter_readers=args.meter_readers,
            reads_per_reader=args.reads_per_reader,
            section_slug=args.section,
            batch_size=args.batch_size,
            report=lambda line: print(line, flush=True),
        )
    except (CommandError, ValueError) as error:
        print(f"bench/seed.py: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
