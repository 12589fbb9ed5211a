"""The hot path in one run: nginx serving the article's HTML from a file (the ceiling), then
the app server (production settings, PostgreSQL, Redis cache) serving the same article to
anonymous readers within the allowance (a meter write per request) with the Redis store and
with the database store, to a reader past the allowance (teaser) and to a subscriber (full).

Run it as ``bench/hotpath`` from the repository root. Everything happens on 127.0.0.1: a
database of its own on the shared PostgreSQL server (``masthead_bench``, created and dropped
by the run), Redis database 7 (its own: emptied before each store), an nginx of its own on a
free port with its own configuration under var/bench/nginx (no other nginx is touched).
Each measurement is wrk at 32 connections for a bounded time. One JSON line per
measurement on stdout and a summary line against the issue's targets; progress on stderr.

``--server granian|uwsgi|gunicorn`` (repeatable) picks the app server (bench/servers.py);
several are measured one after the other in the same run, beside one nginx measurement, with
a summary line each.

New readers come from client networks of their own (bench/readers.lua), so the cookieless
bounds stay on with their defaults and their counters are part of the figure. Each line
carries the CPU milliseconds per request of the app, Redis, PostgreSQL and wrk.

``--seed-articles N --seed-readers M`` measures the same over grown data:
``bench/seed.py --articles N`` after the demo, and ``bench/seed.py --meter-readers M`` into
each meter store right before it is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as bench  # noqa: E402 - the benchmark's environment, checks and wrk
import servers  # noqa: E402 - granian, uWSGI and gunicorn, started the same way

NGINX = "/usr/sbin/nginx"
NGINX_DIR = bench.BENCH_DIR / "nginx"
# Issue 21's targets for the Redis store: a new reader at 6 % of nginx or more with a p99 of
# 15 ms or less; a subscriber within 10 % of the new reader; an exhausted reader not slower.
TARGETS = {"pct_of_nginx": 6, "p99_ms": 15, "subscriber_within_pct": 10}
# Time allowed for bench/seed.py and for forgetting what it seeded: about a quarter of the
# rates measured on a busy machine (bench/RESULTS.md: 885 articles/s; 19,600 readers/s into
# Redis, 41,000 into PostgreSQL), so a slow run is still bounded.
SEED_ARTICLES_PER_S = 200
SEED_READERS_PER_S = 5000

STORES = {
    "redis": {"MASTHEAD_METER_STORE": "masthead.access.meter.redis"},
    "db": {"MASTHEAD_METER_STORE": "masthead.access.meter.db"},
}

# A subscriber with an active subscription and a signed-in session; prints its cookie.
SUBSCRIBER = """
from datetime import timedelta
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.utils import timezone
from masthead.subscriptions.models import Plan, Subscription
user, _ = get_user_model().objects.get_or_create(
    username="bench-subscriber", defaults={"email": "bench-subscriber@example.com"})
plan, _ = Plan.objects.get_or_create(slug="bench-plan", defaults=dict(
    name="Bench", price="1.00", currency="USD", interval="month", web=True, apps=True))
Subscription.objects.update_or_create(user=user, plan=plan, defaults=dict(
    status="active", current_period_end=timezone.now() + timedelta(days=30)))
session = import_module(settings.SESSION_ENGINE).SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
emit({"cookie": settings.SESSION_COOKIE_NAME + "=" + session.session_key})
"""
# Forget what an earlier measurement or run left: the meter store's reads and network
# counters, and everything in the benchmark's Redis database (cached pages and routes).
FORGET = """
from django.core.cache import cache
from masthead.access.meter import get_meter_store
cache.clear()  # FLUSHDB: the Redis store's keys go with it
get_meter_store().clear()
emit({"ok": True})
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/hotpath", description=__doc__)
    parser.add_argument("--duration", type=bench.duration_seconds, default=10)
    parser.add_argument("--connections", type=bench.positive_int, default=32)
    parser.add_argument("--threads", type=bench.positive_int, default=2, help="wrk threads")
    parser.add_argument(
        "--workers",
        type=bench.positive_int,
        default=4,
        help="app server processes (default 4: what make prod-up runs on a 2-core machine, "
        "two app servers of nproc workers each)",
    )
    parser.add_argument(
        "--server",
        action="append",
        choices=servers.SERVERS,
        help="the app server, repeatable: each is measured in turn beside one nginx "
        "measurement (default granian, as deploy/ runs it; uwsgi and gunicorn to compare)",
    )
    parser.add_argument(
        "--blocking-threads",
        type=bench.positive_int,
        default=1,
        help="granian --blocking-threads: threads per worker running the app (default 1, "
        "as deploy/granian.sh)",
    )
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--gthreads", type=bench.positive_int, default=1, help="gunicorn --threads")
    parser.add_argument("--warmup", type=bench.positive_int, default=20)
    parser.add_argument("--keep-db", action="store_true", help="keep masthead_bench (profiling)")
    parser.add_argument(
        "--seed-articles",
        type=bench.non_negative_int,
        default=0,
        help="bench/seed.py --articles N after the demo (default 0: the demo only)",
    )
    parser.add_argument(
        "--seed-readers",
        type=bench.non_negative_int,
        default=0,
        help="bench/seed.py --meter-readers M into each store before measuring it (default 0)",
    )
    parser.add_argument(
        "--settings", default="masthead.settings.production", help="Django settings module"
    )
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads (each wrk thread needs one)")
    args.server = list(dict.fromkeys(args.server or ["granian"]))
    return args


def seed_seconds(args) -> dict[str, float]:
    """Time allowed for each seeding step, and in all (also forgetting the seeded meter)."""
    articles = 60 + args.seed_articles / SEED_ARTICLES_PER_S if args.seed_articles else 0
    readers = 60 + args.seed_readers / SEED_READERS_PER_S if args.seed_readers else 0
    # Per store: seeding, then the FORGET that clears it again.
    return {"articles": articles, "readers": readers, "total": articles + 2 * 2 * readers}


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{bench.PG}/postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        timeout=60,
    )


def seed(options: list[str], env: dict[str, str], deadline, cap: float) -> None:
    """bench/seed.py into the database and meter store `env` names; shows what it made."""
    argv = [str(bench.ROOT / "bench" / "seed.py"), *options]
    label = "bench/seed.py " + " ".join(options)
    sys.stderr.write(bench.run_python(argv, env, deadline, label=label, cap=cap))


@contextlib.contextmanager
def nginx(html: bytes):
    """An nginx of our own: own prefix, config, pid file and port; stopped on the way out."""
    shutil.rmtree(NGINX_DIR, ignore_errors=True)
    (NGINX_DIR / "html").mkdir(parents=True)
    (NGINX_DIR / "html" / "article.html").write_bytes(html)
    port = bench.free_port()
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read var/bench
    (NGINX_DIR / "nginx.conf").write_text(
        f"""{user}worker_processes 2;
pid {NGINX_DIR}/nginx.pid;
error_log {NGINX_DIR}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {NGINX_DIR}/tmp;
  proxy_temp_path {NGINX_DIR}/tmp;
  fastcgi_temp_path {NGINX_DIR}/tmp;
  uwsgi_temp_path {NGINX_DIR}/tmp;
  scgi_temp_path {NGINX_DIR}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {NGINX_DIR}/html;
    default_type text/html;
    location / {{ try_files /article.html =404; }}
  }}
}}
"""
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(NGINX_DIR), "-c", str(NGINX_DIR / "nginx.conf"), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(50):
            with contextlib.suppress(OSError):
                status, _h, body = bench.get(port, "/", timeout=2)
                if status == 200 and body == html:
                    break
            time.sleep(0.1)
        else:
            raise bench.BenchError("nginx did not serve the article file")
        yield port
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def check(port, path, deadline, *, cookie=None, full: bool, notice: bool | None = None):
    status, headers, body = bench.get(port, path, timeout=deadline.remaining(cap=10), cookie=cookie)
    text = body.decode()
    if status != 200:
        raise bench.server_error(bench.describe_failure(path, status, headers))
    has_paywall = bench.PAYWALL_MARK in text
    if has_paywall == full or (notice is not None and (bench.METER_NOTICE_MARK in text) != notice):
        raise bench.BenchError(f"GET {path}: not the page the scenario expects (full={full})")
    return headers, body


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, bench._terminate)
    started = time.monotonic()
    lines = []

    def emit(line):
        lines.append(line)
        print(json.dumps(line), flush=True)

    def measure(scenario, store, port, path, cookie=None, nginx_rps=None, expect="full"):
        headers = (f"Cookie: {cookie}",) if cookie else ()
        url = f"http://127.0.0.1:{port}{path}"
        figures = bench.measure_wrk(args, url, deadline, headers, expect=expect)
        line = {
            **bench.result_line(args, scenario, figures, path),
            "suite": "hotpath",
            "store": store,
            **servers.settings(server, options),
            "seed_articles": args.seed_articles,
            "seed_readers": args.seed_readers,
        }
        if nginx_rps:
            line["pct_of_nginx"] = round(100 * figures["requests_per_s"] / nginx_rps, 2)
        emit(line)
        return figures

    seeding = seed_seconds(args)
    options = servers.Options(
        workers=args.workers,
        blocking_threads=args.blocking_threads,
        worker_class=args.worker_class,
        gthreads=args.gthreads,
    )
    # Each server: its start and stop, warm-ups and four measurements per run of the stores.
    per_server = 240 + 5 * (args.duration + 20)
    deadline = bench.Deadline(660 + len(args.server) * per_server + seeding["total"])
    try:
        with bench.bench_lock():
            bench.require_wrk()
            bench.redis_ping()
            bench.warn_if_busy()
            env = bench.bench_env(args.settings)
            psql(f"DROP DATABASE IF EXISTS {bench.PG_DB}")
            psql(f"CREATE DATABASE {bench.PG_DB}")
            try:
                bench.reset_bench_dir()
                bench.manage(["migrate", "--noinput"], env, deadline)
                bench.manage(["load_demo"], env, deadline)
                bounds = bench.manage(["meter_bounds"], env, deadline)  # on, as they come
                bench.log(bounds.strip())
                bench.manage(["collectstatic", "--noinput"], env, deadline)
                if args.seed_articles:
                    articles = ["--articles", str(args.seed_articles)]
                    seed(articles, env, deadline, cap=seeding["articles"])
                target, others = bench.metered_articles(env, deadline)
                subscriber = bench.django_snippet(SUBSCRIBER, "subscriber", env, deadline)
                path = target.path
                results = {}
                # Each server in turn, both stores each; nginx is measured once, beside the
                # first server's Redis run.
                runs = [(server, store) for server in args.server for store in ("redis", "db")]
                for server, store in runs:
                    store_env = {**env, **STORES[store]}
                    bench.django_snippet(FORGET, "forget cached pages", store_env, deadline)
                    if args.seed_readers:
                        # Into the store being measured: its Redis database or masthead_bench.
                        readers = ["--meter-readers", str(args.seed_readers)]
                        seed(readers, store_env, deadline, cap=seeding["readers"])
                    with servers.serving(server, options, store_env, deadline) as port:
                        bench.warm_up(port, path, args.warmup, deadline)
                        _h, html = check(port, path, deadline, full=True, notice=True)
                        if "nginx" not in results:
                            with nginx(html) as nginx_port:
                                bench.warm_up(nginx_port, path, 5, deadline)
                                results["nginx"] = measure(
                                    "nginx_static_file", None, nginx_port, path
                                )
                        nginx_rps = results["nginx"]["requests_per_s"]
                        results[f"{store}_within"] = measure(
                            "metered_within_allowance_new_reader",
                            store,
                            port,
                            path,
                            None,
                            nginx_rps,
                        )
                        if store == "redis":
                            cookie = bench.exhausted_reader(port, others, deadline)
                            check(port, path, deadline, cookie=cookie, full=False)
                            bench.warm_up(port, path, args.warmup, deadline, cookie=cookie)
                            results["exhausted"] = measure(
                                "metered_exhausted_teaser",
                                store,
                                port,
                                path,
                                cookie,
                                nginx_rps,
                                expect="teaser",
                            )
                            headers, _body = check(
                                port,
                                path,
                                deadline,
                                cookie=subscriber["cookie"],
                                full=True,
                                notice=False,
                            )
                            # and the CSRF cookie their first page set (the menu's sign-out
                            # form), which their browser sends from then on
                            cookie = bench.keeping(subscriber["cookie"], headers)
                            bench.warm_up(port, path, args.warmup, deadline, cookie=cookie)
                            results["subscriber"] = measure(
                                "subscriber_full", store, port, path, cookie, nginx_rps
                            )
                    bench.django_snippet(FORGET, "forget meter entries", store_env, deadline)
                    if store == "db":  # this server's last run
                        emit(summary(args, results, path, server, options))
                        results = {"nginx": results["nginx"]}
            finally:
                if not args.keep_db:
                    psql(f"DROP DATABASE IF EXISTS {bench.PG_DB}")
    except bench.BenchError as exc:
        bench.log(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        bench.log("interrupted")
        return 130
    bench.log(f"done in {time.monotonic() - started:.0f} s")
    return 0


def summary(args, results, path, server, options) -> dict:
    rps = {name: figures["requests_per_s"] for name, figures in results.items()}
    p99 = {name: figures["latency_p99_ms"] for name, figures in results.items()}
    first = rps["redis_within"]
    spread = {name: round(100 * (rps[name] / first - 1), 1) for name in ("exhausted", "subscriber")}
    return {
        "suite": "hotpath",
        "summary": True,
        **servers.settings(server, options),
        "workers": args.workers,
        "date": datetime.date.today().isoformat(),
        "machine": bench.machine(),
        "kernel": os.uname().release,
        "path": path,
        "seed_articles": args.seed_articles,
        "seed_readers": args.seed_readers,
        "requests_per_s": rps,
        "latency_p99_ms": p99,
        "pct_of_nginx": round(100 * first / rps["nginx"], 2),
        "spread_pct_vs_redis_within": spread,
        "targets": TARGETS,
        "meets": {
            "pct_of_nginx": 100 * first / rps["nginx"] >= TARGETS["pct_of_nginx"],
            "p99_ms": p99["redis_within"] <= TARGETS["p99_ms"],
            "subscriber_within_pct": abs(spread["subscriber"]) <= TARGETS["subscriber_within_pct"],
            "exhausted_not_slower": rps["exhausted"] >= first,
        },
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
