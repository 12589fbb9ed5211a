"""Sitemaps at scale: time and memory to serve the sitemap index and one month's sitemap.

    .venv/bin/python bench/sitemaps.py --articles 100000 --repeat 5

On a database of its own (``masthead_sitemaps`` on the shared PostgreSQL server, made with
the demo and ``--articles`` seeded articles on first use and kept for the next run;
``--drop`` removes it) and Redis database 6 (its own), under production settings. The
seeded articles get the demo's pictures as lead images (in turn), so a month's file carries
an image entry per article, as a real archive's would.

For the index (/sitemap.xml) and the fullest month (/sitemap-articles-YYYY-MM.xml), through
Django's handler (``django.test.Client``):

- ``cold``: the listings generation is changed before each request (what a publish does), so
  the XML is rendered from the database; the renditions exist already (one request before
  the measurements makes any that are missing, as the first view of an article would);
- ``warm``: the XML comes from Redis.

Each is requested ``--repeat`` times: the median and the slowest wall time, then once more
under tracemalloc for the peak of Python memory allocated during the request and the number
of SQL queries. The process's peak RSS (getrusage) is printed at the end. One JSON line per
measurement, with the machine and its load average.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

DB = "masthead_sitemaps"
REDIS_URL = "redis://127.0.0.1:6379/6"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/sitemaps.py", description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000, help="seeded articles")
    parser.add_argument("--repeat", type=int, default=5, help="requests per measurement")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args(argv)


def environment() -> dict[str, str]:
    env = harness.bench_env("masthead.settings.production")
    env["DATABASE_URL"] = f"{harness.PG}/{DB}"
    env["PYTHONPATH"] = str(harness.ROOT)  # this checkout's code, whichever is installed
    # A Redis database of its own: changing the listings generation must not empty the
    # caches of bench/hotpath, bench/invalidation.py or bench/search.py, which share 7.
    env["REDIS_URL"] = REDIS_URL
    return env


def give_pictures() -> None:
    """The demo's lead pictures, in turn, to the seeded articles that have none."""
    from django.db.models.functions import Mod
    from django.db.models.lookups import Exact

    from masthead.news.models import ArticlePage

    pictures = sorted(
        ArticlePage.objects.exclude(lead_image=None)
        .values_list("lead_image_id", flat=True)
        .distinct()
    )
    seeded = ArticlePage.objects.filter(slug__startswith="bench-", lead_image=None)
    for position, picture in enumerate(pictures):
        turn = Exact(Mod("page_ptr_id", len(pictures)), position)
        seeded.filter(turn).update(lead_image_id=picture)


def measure(args) -> list[dict]:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from wagtail.models import Site

    from masthead.core import generations
    from masthead.news import sitemaps
    from masthead.news.models import ArticlePage

    give_pictures()
    site = Site.objects.get(is_default_site=True)
    months = sitemaps.article_months(site)
    year, month, in_month, _ = max(months, key=lambda m: m[2])
    targets = {
        "index": "/sitemap.xml",
        "month": f"/sitemap-{sitemaps.month_section(year, month)}.xml",
    }
    client = Client(
        HTTP_HOST="127.0.0.1",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="172.16.0.9",
        REMOTE_ADDR="127.0.0.1",
    )

    def get(url):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"sitemaps: {url} answered {response.status_code}")
        return response

    def cold():
        generations.bump(generations.LISTINGS)

    common = {
        "scenario": "sitemaps",
        "date": date.today().isoformat(),
        "machine": harness.machine(),
        "articles": ArticlePage.objects.live().count(),
        "months": len(months),
    }
    lines = []
    for name, url in targets.items():
        cold()
        get(url)  # makes any missing rendition: measured separately from the cold figures
        for state in ("cold", "warm"):
            seconds = []
            for _ in range(args.repeat):
                if state == "cold":
                    cold()
                started = time.perf_counter()
                response = get(url)
                seconds.append(time.perf_counter() - started)
            if state == "cold":
                cold()
            tracemalloc.start()
            with CaptureQueriesContext(connection) as queries:
                get(url)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            body = response.content
            lines.append(
                {
                    **common,
                    "target": name,
                    "path": url,
                    "state": state,
                    "ms_median": round(statistics.median(seconds) * 1000, 1),
                    "ms_max": round(max(seconds) * 1000, 1),
                    "peak_python_mb": round(peak / 2**20, 2),
                    "queries": len(queries),
                    "bytes": len(body),
                    "urls": body.count(b"<loc>"),
                    "images": body.count(b"<image:image>"),
                    "articles_in_month": in_month if name == "month" else None,
                    "load_average": round(os.getloadavg()[0], 2),
                }
            )
    lines.append(
        {
            **common,
            "target": "process",
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    )
    return lines


def main(argv) -> int:
    args = parse_args(argv)
    env = environment()
    if "DJANGO_SETTINGS_MODULE" not in os.environ:
        harness.own_database(DB, env, args.articles)
        os.environ.update(env)
        os.execv(sys.executable, [sys.executable, __file__, *argv])
    try:
        # No bench lock: nothing here is shared with the other benches but the CPUs (the load
        # average is in every line). Seeding and measuring in another bench's place would be.
        lines = measure(args)
        for line in lines:
            print(json.dumps(line), flush=True)
    finally:
        if args.drop:
            harness.drop_database(DB)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
