"""Per-page invalidation, measured: publish one article and count what the others render.

    .venv/bin/python bench/invalidation.py --articles 100000 --sample 500

On a database of its own (``masthead_invalidation`` on the shared PostgreSQL server, made
with the demo and ``--articles`` seeded articles on first use and kept for the next run;
``--drop`` removes it) and the bench's Redis database, under production settings:

1. ``--sample`` articles picked at random are read once each (their frames, bodies and
   related lists go to Redis);
2. one other article is published again (a new revision, as an editor's correction);
3. the sample is read again, as another worker would read it: this process's own memory of
   the pieces is emptied first, so every piece comes from Redis or is rendered;
4. for comparison, the pages generation is changed (what every publish did before pages
   were invalidated one by one, and what an edit of a section or author still does) and
   the sample is read a third time.

Each read is a new anonymous reader from a client network of its own, through Django's
handler and Wagtail's routing (``django.test.Client``), so the meter and its bounds run as
in production.

``--load N`` measures the same under load: granian (as ``deploy/`` runs it, on this
database) serves ``--load-articles`` other metered articles, picked at random per request,
to N wrk connections of new readers (bench/readers.lua) throughout, and each step's line
carries what wrk measured while that step ran. The load reads other articles than the
sample, so its workers never refill the sample's pieces behind the measurement's back.

For each step it prints one JSON line: how many of the sample's frames,
bodies and related lists were found in the cache (hits) and how many were rendered, the hit
rate of frames and bodies together and that of related lists; after the publish, how many
of the sample share a series or topic with the published article (whose related lists must
be rendered again) and how many share a bucket of their tokens (whose lists will be).
Counting is done by wrapping the three functions of masthead.news.rendering that render a
missing piece.
"""

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

DB = "masthead_invalidation"
LOAD_PATHS = harness.BENCH_DIR / "invalidation-load-paths.txt"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/invalidation.py", description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000, help="seeded articles")
    parser.add_argument("--sample", type=int, default=500, help="articles read per step")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the sample")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--load", type=int, default=0, help="wrk connections of load (0: none)")
    parser.add_argument("--load-articles", type=int, default=300, help="articles the load reads")
    parser.add_argument("--workers", type=int, default=4, help="granian workers for the load")
    return parser.parse_args(argv)


def environment() -> dict[str, str]:
    env = harness.bench_env("masthead.settings.production")
    env["DATABASE_URL"] = f"{harness.PG}/{DB}"
    env["MASTHEAD_METER_STORE"] = "masthead.access.meter.redis"
    return env


def measure(args) -> list[dict]:
    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client

    from masthead.core import generations
    from masthead.news import rendering
    from masthead.news.models import ArticlePage

    counts = {"frame": 0, "body": 0, "related": 0}
    for name, kind in (
        ("build_frame", "frame"),
        ("build_body", "body"),
        ("build_related", "related"),
    ):
        real = getattr(rendering, name)

        def counting(*a, _real=real, _kind=kind, **kw):
            counts[_kind] += 1
            return _real(*a, **kw)

        setattr(rendering, name, counting)

    ids = list(ArticlePage.objects.live().filter(access="metered").values_list("pk", flat=True))
    rng = random.Random(args.seed)
    chosen = rng.sample(ids, min(args.sample + 1 + args.load_articles, len(ids)))
    published, sample = chosen[0], chosen[1 : args.sample + 1]
    loaded = chosen[args.sample + 1 :] if args.load else []
    urls = [ArticlePage.objects.get(pk=pk).url for pk in sample]
    LOAD_PATHS.write_text("".join(ArticlePage.objects.get(pk=pk).url + "\n" for pk in loaded))
    clients = iter(range(0x0A000001, 0x0AFFFFFF))

    def read_all() -> dict:
        for key in counts:
            counts[key] = 0
        with rendering._local_lock:
            rendering.local.clear()  # as another worker: pieces come from Redis or a render
        started = time.perf_counter()
        for url in urls:
            n = next(clients)
            address = f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
            response = Client(
                HTTP_HOST="127.0.0.1",
                HTTP_X_FORWARDED_PROTO="https",
                HTTP_X_FORWARDED_FOR=address,
                REMOTE_ADDR="127.0.0.1",
            ).get(url)
            if response.status_code != 200:
                raise SystemExit(f"invalidation: {url} answered {response.status_code}")
        seconds = time.perf_counter() - started
        total = len(urls)
        return {
            "articles": total,
            "frames_rendered": counts["frame"],
            "bodies_rendered": counts["body"],
            "related_rendered": counts["related"],
            "frame_and_body_hit_rate": round(
                1 - (counts["frame"] + counts["body"]) / (2 * total), 4
            ),
            "related_hit_rate": round(1 - counts["related"] / total, 4),
            "ms_per_read": round(seconds * 1000 / total, 2),
        }

    generations.forget_local()
    cache.delete_many([generations.PAGES, generations.LISTINGS])
    with under_load(args) as step:
        lines = [{"step": "first read (cache empty)", **step(read_all)}]
        lines.append({"step": "read again (cache warm)", **step(read_all)})
        page = ArticlePage.objects.get(pk=published)
        page.save_revision().publish()
        lines.append(
            {
                "step": "after publishing one other article",
                **step(read_all),
                **sharing(page, sample),
            }
        )
        generations.bump(generations.PAGES)
        lines.append({"step": "after a site-wide change (pages generation)", **step(read_all)})
    return lines


def sharing(published, sample) -> dict:
    """How many of the sample draw their related list from a family of the published article
    (its series, its topics: they must render it again), and how many from one of the same
    buckets (masthead.core.generations: they will)."""
    from masthead.core import generations
    from masthead.news.models import ArticlePage

    ours = set(published.listing_families())
    buckets = {generations.family_token(family) for family in ours}
    families = [ArticlePage.objects.get(pk=pk).listing_families() for pk in sample]
    return {
        "related_sharing_families": sum(1 for f in families if ours & set(f)),
        "related_sharing_buckets": sum(
            1 for f in families if buckets & {generations.family_token(x) for x in f}
        ),
    }


@contextlib.contextmanager
def under_load(args):
    """Yields step(read): read() as it is without --load; with it, read() while wrk loads
    a granian serving the load's articles, wrk's figures for that while added."""
    if not args.load:
        yield lambda read: read()
        return
    import servers  # granian as deploy/ runs it

    deadline = harness.Deadline(3600)
    options = servers.Options(workers=args.workers)
    with servers.serving("granian", options, dict(os.environ), deadline) as port:

        def step(read) -> dict:
            wrk = subprocess.Popen(
                harness.wrk_command(
                    f"http://127.0.0.1:{port}/", 2, args.load, 3600, expect="any", paths=LOAD_PATHS
                ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                time.sleep(1)  # the load is under way before the step starts
                figures = read()
            finally:
                wrk.send_signal(signal.SIGINT)  # wrk stops and prints what it measured
                output, _ = wrk.communicate(timeout=30)
            load = harness.parse_wrk(output, 0)
            failed = harness.UNEXPECTED.search(output)
            return {
                **figures,
                "load_requests_per_s": load["requests_per_s"],
                "load_p99_ms": load["latency_p99_ms"],
                "load_failed": int(failed.group(1)) if failed else None,
            }

        yield step


def main(argv) -> int:
    args = parse_args(argv)
    env = environment()
    if "DJANGO_SETTINGS_MODULE" not in os.environ:
        harness.own_database(DB, env, args.articles)
        os.environ.update(env)
        os.execv(sys.executable, [sys.executable, __file__, *argv])
    try:
        # bench/hotpath empties the same Redis database: never both at once
        with harness.bench_lock():
            lines = measure(args)
        for line in lines:
            print(json.dumps({"scenario": "invalidation", **line}), flush=True)
    finally:
        if args.drop:
            from django.db import connections

            connections.close_all()  # this process's own, or PostgreSQL refuses the drop
            harness.drop_database(DB)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
