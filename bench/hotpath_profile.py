"""Where an anonymous article request's time goes after the article cache: the hot path's
scenarios served in-process, one request at a time, through the WSGI application gunicorn
runs (production settings, PostgreSQL ``masthead_bench`` with persistent connections, Redis
cache), first timed, then under cProfile.

Run ``bench/hotpath --keep-db`` first (it leaves the database), then
``.venv/bin/python bench/hotpath_profile.py --store redis``; drop the database afterwards
with ``psql postgres://postgres@127.0.0.1:5432/postgres -c 'DROP DATABASE masthead_bench'``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import article as bench  # noqa: E402
import hotpath  # noqa: E402
from paywall_profile import call, reader_cookie  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/hotpath_profile.py", description=__doc__)
    parser.add_argument("--store", choices=list(hotpath.STORES), default="redis")
    parser.add_argument("--requests", type=bench.positive_int, default=500)
    parser.add_argument("--top", type=bench.positive_int, default=25)
    args = parser.parse_args(argv)
    env = {**hotpath.hot_env("masthead.settings.production"), **hotpath.STORES[args.store]}
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from masthead.access.meter import get_meter_store
    from masthead.news.models import ArticlePage
    from masthead.wsgi import application as app

    page = ArticlePage.objects.live().filter(access="metered").order_by("path").first()
    path = page.get_url_parts()[2]
    get_meter_store().clear()
    status, headers, _body = call(app, path)
    assert status == 200, status
    counted = reader_cookie(headers)
    found = {}
    exec(hotpath.SUBSCRIBER, {"emit": found.update})  # noqa: S102 - our own snippet
    scenarios = {"new_reader": None, "counted_reader": counted, "subscriber": found["cookie"]}
    for name, cookie in scenarios.items():
        for _ in range(20):
            call(app, path, cookie)
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            call(app, path, cookie)
            times.append(1000 * (time.perf_counter() - started))
        queries = []

        def record(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            call(app, path, cookie)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            call(app, path, cookie)
        profiler.disable()
        print(f"\n=== {args.store} store, {name}, {path}")
        print(
            f"wall ms/request: median {statistics.median(times):.2f}, "
            f"p99 {sorted(times)[int(len(times) * 0.99) - 1]:.2f}; "
            f"{len(queries)} SQL statements"
        )
        for sql in queries:
            print(f"    {sql[:140]}")
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(f"--- by {order} (profiled; {args.requests} requests) ---")
            print("\n".join(out.getvalue().splitlines()[6:]))
    get_meter_store().clear()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
