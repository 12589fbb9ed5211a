"""Where the paywall's time goes: the four paywall scenarios of ``bench/article --suite
paywall``, served in-process, one request at a time, through the same WSGI application
gunicorn runs (production settings, the benchmark's SQLite database under var/bench/).

Run it as ``.venv/bin/python bench/paywall_profile.py [--store db|redis]`` from the
repository root, after ``bench/article --suite paywall`` (which leaves the database ready;
``--fresh`` builds one). For each scenario it reports the wall time per request, the SQL
statements per request, and the time per request spent in the parts of the request that
the paywall adds or changes (from cProfile); then, for each metered scenario, the
functions whose own time grew most against the baseline. Diagnosis only: no concurrency,
so lock waits that only show under load (the database store's write lock) are not in
these figures.
"""

from __future__ import annotations

import argparse
import cProfile
import http.cookies
import io
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import article as bench  # noqa: E402 - the benchmark's own environment and names

PRODUCTION = "masthead.settings.production"

# (file suffix, function) -> label: the parts of a request the paywall adds or changes.
COMPONENTS = [
    (("django/core/handlers/wsgi.py", "__call__"), "whole request (WSGI)"),
    (("django/template/response.py", "rendered_content"), "template rendering"),
    (("masthead/news/models.py", "body_pieces"), "  body blocks rendered"),
    (("masthead/news/models.py", "related_articles"), "  related articles"),
    (("masthead/news/models.py", "reading"), "ArticlePage.reading (decision + body)"),
    (("masthead/access/gate.py", "_decide"), "  access decision (gate._decide)"),
    (("masthead/access/meter/db.py", "consume"), "    db store consume()"),
    (("masthead/access/meter/redis.py", "consume"), "    redis store consume()"),
    (("masthead/access/gate.py", "free_access_now"), "    free-access window lookup"),
    (("masthead/access/gate.py", "meter_settings"), "    MeterSettings.for_request"),
    (("masthead/access/readers.py", "anonymous_id_from"), "reader cookie verified"),
    (("masthead/access/readers.py", "set_reader_cookie"), "reader cookie signed"),
    (("django/db/backends/base/base.py", "connect"), "database connection opened"),
    (("django/db/backends/utils.py", "_execute"), "SQL execution (all statements)"),
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/paywall_profile.py", description=__doc__)
    parser.add_argument("--store", choices=list(bench.METER_STORES), default="db")
    parser.add_argument("--requests", type=bench.positive_int, default=150)
    parser.add_argument("--top", type=bench.positive_int, default=20)
    parser.add_argument("--fresh", action="store_true", help="build a fresh database first")
    return parser.parse_args(argv)


def call(app, path: str, cookie: str | None = None) -> tuple[int, list, str]:
    """One GET through the WSGI application, as gunicorn would make it (behind nginx)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):  # Django's: request_finished, as under gunicorn
            result.close()
    return int(answer["status"].split()[0]), answer["headers"], body.decode()


def reader_cookie(headers: list) -> str | None:
    for name, value in headers:
        if name.lower() == "set-cookie":
            jar = http.cookies.SimpleCookie()
            jar.load(value)
            if bench.READER_COOKIE in jar:
                return f"{bench.READER_COOKIE}={jar[bench.READER_COOKIE].coded_value}"
    return None


def expect(app, path, cookie, *, paywall: bool, what: str) -> list:
    status, headers, body = call(app, path, cookie)
    if status != 200 or (bench.PAYWALL_MARK in body) != paywall:
        raise bench.BenchError(f"GET {path}: {status}, paywall={not paywall}; not {what}")
    return headers


def per_request_ms(stats: pstats.Stats, requests: int) -> dict[str, float]:
    totals = {}
    for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        for (suffix, name), label in COMPONENTS:
            if function == name and filename.endswith(suffix):
                totals[label] = totals.get(label, 0.0) + cumulative
    return {label: 1000 * totals.get(label, 0.0) / requests for _key, label in COMPONENTS}


def self_times(profiler: cProfile.Profile, requests: int) -> dict[str, float]:
    """Time spent in each function itself (not in what it calls), ms per request."""
    times: dict[str, float] = {}
    for (filename, line, function), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(
        profiler
    ).stats.items():
        where = filename.split("site-packages/")[-1].replace(str(bench.ROOT) + "/", "")
        key = f"{where}:{line}({function})" if line else re.sub(r" at 0x[0-9a-f]+", "", function)
        times[key] = times.get(key, 0.0) + 1000 * tottime / requests
    return times


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    env = {**bench.bench_env(PRODUCTION), **bench.METER_STORES[args.store]}
    deadline = bench.Deadline(600)
    with bench.bench_lock():
        if args.fresh or not bench.DB_PATH.exists():
            bench.prepare_database(env, PRODUCTION, deadline)
        os.environ.clear()
        os.environ.update(env)
        return profile(args)


def profile(args: argparse.Namespace) -> int:
    import django
    from django.db import connection

    django.setup()
    from wagtail.models import Site

    from masthead.access.meter import get_meter_store
    from masthead.access.models import MeterSettings
    from masthead.news.models import ArticlePage
    from masthead.news.rendering import bump_generation
    from masthead.wsgi import application as app

    pages = ArticlePage.objects.live().filter(access="metered").order_by("path")
    target, *others = [(page.pk, page.get_url_parts()[2]) for page in pages]
    site = Site.objects.get(is_default_site=True)
    others = others[: MeterSettings.for_site(site).anonymous_allowance]
    pk, path = target
    get_meter_store().clear()
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def new_reader(article_path: str) -> str:
        cookie = reader_cookie(expect(app, article_path, None, paywall=False, what="admitted"))
        assert cookie, "no reader cookie issued"
        return cookie

    def exhausted() -> str:
        cookie = new_reader(others[0][1])
        for _pk, other in others[1:]:
            expect(app, other, cookie, paywall=False, what="admitted")
        expect(app, path, cookie, paywall=True, what="the paywall")
        return cookie

    scenarios = [
        (bench.BASELINE, "free", lambda: None, False),
        (bench.NEW_READER, "metered", lambda: None, False),
        (bench.WITHIN_ALLOWANCE, "metered", lambda: new_reader(path), False),
        (bench.EXHAUSTED, "metered", exhausted, True),
    ]
    print(f"store {args.store}, article {path} (id {pk}), {args.requests} requests per scenario")
    table: dict[str, dict[str, float]] = {}
    profiles: dict[str, cProfile.Profile] = {}
    try:
        for scenario, access, reader, paywall in scenarios:
            ArticlePage.objects.filter(pk=pk).update(access=access)
            bump_generation()  # update() sends no signal: forget the cached page by hand
            cookie = reader()
            for _ in range(20):
                expect(app, path, cookie, paywall=paywall, what=scenario)
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                call(app, path, cookie)
                times.append(1000 * (time.perf_counter() - started))
            queries.clear()
            with connection.execute_wrapper(count):
                call(app, path, cookie)
            sql = list(queries)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                call(app, path, cookie)
            profiler.disable()
            stats = pstats.Stats(profiler)
            profiles[scenario] = profiler
            row = {
                "wall ms/request (median, no profiler)": statistics.median(times),
                "SQL statements per request": len(sql),
            }
            row.update(per_request_ms(stats, args.requests))
            table[scenario] = row
            print(f"\n{scenario}: {len(sql)} SQL statements")
            for statement in sql:
                print(f"    {statement[:140]}")
    finally:
        ArticlePage.objects.filter(pk=pk).update(access="metered")
        bump_generation()
        get_meter_store().clear()

    names = [scenario for scenario, *_ in scenarios]
    print("\n| per request | " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for label in next(iter(table.values())):
        cells = [table[name][label] for name in names]
        text = [f"{c:.0f}" if label.startswith("SQL statements") else f"{c:.1f}" for c in cells]
        print(f"| {label} | " + " | ".join(text) + " |")
    print("\n(cProfile rows: ms per request with the profiler on, which inflates them about 2x)")
    base = self_times(profiles[bench.BASELINE], args.requests)
    for scenario in names[1:]:
        extra = self_times(profiles[scenario], args.requests)
        delta = {key: extra.get(key, 0.0) - base.get(key, 0.0) for key in extra.keys() | base}
        total = sum(delta.values())
        print(f"\n--- {scenario}: {total:+.2f} ms per request of self time against the baseline")
        print(f"    (cProfile); the {args.top} functions that account for most of it ---")
        for key, ms in sorted(delta.items(), key=lambda item: -abs(item[1]))[: args.top]:
            print(f"  {ms:+7.3f} ms  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
