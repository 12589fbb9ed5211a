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
carries the CPU milliseconds per request of the app, nginx, Redis, PostgreSQL and wrk.

``--topology prod`` measures the Redis store's three readers once more through the topology
``make prod-up`` runs (deploy/prod.sh): nginx on deploy/nginx/local.conf.template, filled in
by deploy/nginx/render.sh (as for deploy/prod.sh) with the bench's ports and directories, in
front of as many deploy/granian.sh app servers as the template has upstreams, nproc workers
each. Their lines carry ``"topology": "prod"``.

``--baseline DIR`` measures another revision's code in the same run (DIR: a checkout of it
with its own .venv): its app server started as that revision's own bench/hotpath started it
(for the fast lane's f3a069f: gunicorn, --workers sync workers), over a database and a Redis
of its own seeded by its own code, beside the first server's on every store, the two taking
turns scenario by scenario. Lines carry ``"code": "current"`` or ``"baseline"`` and each
code's revision; the first server's summary compares the two. ``--baseline-bounds on`` (the
default) runs the baseline like ours: its cookieless bounds on and one trusted proxy hop, so
its new readers also come from networks of their own and pay for the bounds' counters;
``off`` runs it as the fast lane's own bench did (bounds off, no hop).

``--seed-articles N --seed-readers M`` measures the same over grown data:
``bench/seed.py --articles N`` after the demo, and ``bench/seed.py --meter-readers M`` into
each meter store right before it is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as bench  # noqa: E402 - the benchmark's environment, checks and wrk
import redis  # noqa: E402 - a dependency of the app, as for harness
import servers  # noqa: E402 - granian, uWSGI and gunicorn, started the same way

NGINX = "/usr/sbin/nginx"
NGINX_DIR = bench.BENCH_DIR / "nginx"
PROD_NGINX_DIR = bench.BENCH_DIR / "prod-nginx"
PROD_NGINX_TEMPLATE = bench.ROOT / "deploy" / "nginx" / "local.conf.template"
PROD_NGINX_RENDER = bench.ROOT / "deploy" / "nginx" / "render.sh"
REDIS_SERVER = "/usr/bin/redis-server"
# --baseline: the other revision's MASTHEAD_VAR_DIR (its static and media files; its
# collectstatic would overwrite ours) and its Redis server's directory.
BASELINE_DIR = bench.BENCH_DIR / "baseline"
# How the fast lane's bench/hotpath (f3a069f) started its app server: gunicorn with
# --workers sync workers of one thread (bench/servers.py's gunicorn has its every flag).
BASELINE_SERVER = "gunicorn"
BASELINE_RECIPE = (
    "git worktree add -f /tmp/fastlane f3a069f && cd /tmp/fastlane && python3 -m venv .venv "
    "&& .venv/bin/pip install -q -r requirements.lock && .venv/bin/pip install -q --no-deps -e ."
)
# var/prod/env where it differs from the bench's: nginx hands the app plain HTTP
# (X-Forwarded-Proto: http), so no redirect to https. And one trusted hop more than
# deploy/prod.sh's 1: every wrk connection reaches nginx from 127.0.0.1, which as the one
# trusted hop would make every new reader one network, past the cookieless bounds after 20.
# wrk plays a CDN in front of nginx that appends the client's address, as docs/production.md
# sets it up (hops 2); nginx appends its peer after it.
PROD_ENV = {
    "MASTHEAD_SSL_REDIRECT": "false",
    "MASTHEAD_TRUSTED_PROXY_HOPS": "2",
    "DATABASE_CONN_MAX_AGE": "60",
}
# Issue 21's targets for the Redis store: a new reader at 6 % of nginx or more with a p99 of
# 15 ms or less; a subscriber within 10 % of the new reader; an exhausted reader not slower.
TARGETS = {"pct_of_nginx": 6, "p99_ms": 15, "subscriber_within_pct": 10}
# Time allowed for bench/seed.py and for forgetting what it seeded: about a quarter of the
# rates measured on a busy machine (bench/RESULTS.md: 885 articles/s; 19,600 readers/s into
# Redis, 41,000 into PostgreSQL), so a slow run is still bounded.
SEED_ARTICLES_PER_S = 200
SEED_READERS_PER_S = 5000

SCENARIOS = {
    "within": "metered_within_allowance_new_reader",
    "exhausted": "metered_exhausted_teaser",
    "subscriber": "subscriber_full",
}
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
    parser.add_argument(
        "--topology",
        choices=("direct", "prod"),
        default="direct",
        help="prod: the Redis store's readers once more through nginx and the app servers as "
        "make prod-up runs them, beside the direct measurements (default direct: wrk to the "
        "app server only)",
    )
    parser.add_argument(
        "--baseline",
        type=baseline_checkout,
        metavar="DIR",
        help="a checkout of another revision with its own .venv: its code measured in the same "
        "run beside the first server's, taking turns scenario by scenario (bench/README.md)",
    )
    parser.add_argument(
        "--baseline-first",
        choices=("current", "baseline"),
        default="current",
        help="which code goes first in the first scenario (then they alternate); run once "
        "each way to cancel a first mover's advantage or handicap",
    )
    parser.add_argument(
        "--baseline-bounds",
        choices=("on", "off"),
        default="on",
        help="on (default): the baseline's cookieless bounds on with one trusted hop, like "
        "ours; off: as the fast lane's own bench ran it (bounds off, no hop)",
    )
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


def taking_turns(first: str) -> Iterator[bool]:
    """For each scenario in turn, whether this code goes before the baseline: alternating,
    starting with `first` ("current" or "baseline"), so that a second run started the other
    way round puts each side first where the other was."""
    return itertools.cycle([first == "current", first != "current"])


def baseline_checkout(text: str) -> Path:
    """argparse type: a checkout with manage.py, and the baseline's server in its .venv."""
    root = Path(text).resolve()
    if not (root / "manage.py").exists():
        raise argparse.ArgumentTypeError(
            f"{root} is not a checkout (no manage.py); make one: " + BASELINE_RECIPE
        )
    for name in ("python", BASELINE_SERVER):
        if not (root / ".venv" / "bin" / name).exists():
            raise argparse.ArgumentTypeError(
                f"{root}/.venv/bin/{name} not found; give the checkout its virtualenv (in {root}): "
                + BASELINE_RECIPE.partition(" && cd /tmp/fastlane && ")[2]
            )
    return root


def revision(root: Path) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def seed_seconds(args) -> dict[str, float]:
    """Time allowed for each seeding step, and in all (also forgetting the seeded meter)."""
    articles = 60 + args.seed_articles / SEED_ARTICLES_PER_S if args.seed_articles else 0
    readers = 60 + args.seed_readers / SEED_READERS_PER_S if args.seed_readers else 0
    # Per run of a store: seeding, then the FORGET that clears it again. The baseline seeds
    # its own database and stores.
    codes = 1 + bool(args.baseline)
    runs = 2 * codes + (args.topology == "prod")
    total = codes * articles + runs * 2 * readers
    return {"articles": articles, "readers": readers, "total": total}


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{bench.PG}/postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        timeout=60,
    )


def seed(options: list[str], env: dict[str, str], deadline, cap: float, root=bench.ROOT) -> None:
    """bench/seed.py into the database and meter store `env` names; shows what it made. In
    an older checkout without it (the fast lane's), its own manage.py seed_bench."""
    seeder = (
        ["bench/seed.py"] if (root / "bench" / "seed.py").exists() else ["manage.py", "seed_bench"]
    )
    argv = [str(root / seeder[0]), *seeder[1:], *options]
    label = " ".join([*seeder, *options]) + ("" if root == bench.ROOT else f" ({root})")
    sys.stderr.write(bench.run_python(argv, env, deadline, label=label, cap=cap, root=root))


@dataclasses.dataclass(frozen=True)
class Code:
    """A code base the run measures: this checkout's ("current"), or --baseline's, each
    with its environment, its database's article and readers, and what its lines carry."""

    name: str
    root: Path
    env: dict[str, str]
    target: bench.Article
    others: list[bench.Article]
    subscriber: str  # the session cookie
    fields: dict[str, object]


@dataclasses.dataclass(frozen=True)
class Side:
    """One code's app server in a measurement: its port and its lines' fields."""

    code: Code
    port: int
    fields: dict[str, object]


@contextlib.contextmanager
def running_redis(directory: Path) -> Iterator[str]:
    """A redis-server of our own on a free port, persisting as the machine's does; stopped
    on the way out. Yields its URL. For the baseline: two revisions' cache and meter keys in
    one Redis database could meet under the same names with different contents."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    shared = redis.Redis.from_url(bench.REDIS_URL, socket_timeout=2)
    try:
        persistence = {**shared.config_get("save"), **shared.config_get("appendonly")}
    except redis.RedisError:  # CONFIG renamed away: Debian's default, no persistence
        persistence = {"save": "", "appendonly": "no"}
    port = bench.free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory)]
        + ["--save", persistence["save"], "--appendonly", persistence["appendonly"]]
        + ["--logfile", str(directory / "redis.log")],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        for _ in range(50):
            if process.poll() is not None:
                raise bench.BenchError(f"redis-server exited at start-up (see {directory})")
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    break
            time.sleep(0.1)
        else:
            raise bench.BenchError(f"redis-server on 127.0.0.1:{port} did not answer")
        bench.log(f"127.0.0.1:{port}: redis-server of the baseline's own ({persistence})")
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def baseline_env(env: dict[str, str], redis_url: str, bounds: str) -> dict[str, str]:
    """The baseline's environment: ours (the same settings, secret, persistent connections,
    access log off) on its own database, Redis and var directory. With bounds "off", no
    trusted proxy hop either, as the fast lane's bench/hotpath (f3a069f) made it: its new
    readers all came from 127.0.0.1, with the bounds off."""
    env = dict(env)
    if bounds == "off":
        del env["MASTHEAD_TRUSTED_PROXY_HOPS"]
    env.update(
        DATABASE_URL=f"{bench.PG}/{bench.PG_BASELINE_DB}",
        REDIS_URL=redis_url,
        MEDIA_ROOT=str(BASELINE_DIR / "media"),
        MASTHEAD_VAR_DIR=str(BASELINE_DIR),
    )
    return env


@contextlib.contextmanager
def running_nginx(prefix: Path, port: int, ready) -> Iterator[int]:
    """An nginx of our own on prefix/nginx.conf (own pid file) listening on `port`, once
    `ready(port)`; stopped on the way out. Yields the port."""
    conf = prefix / "nginx.conf"
    user = " user root;" if os.geteuid() == 0 else ""  # workers must read var/bench
    process = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
        + ["-g", "daemon off;" + user],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(50):
            if process.poll() is not None:
                raise bench.BenchError(f"nginx exited at start-up (see {prefix}/error.log)")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if ready(port):
                    break
            time.sleep(0.1)
        else:
            raise bench.BenchError(f"nginx on {conf} did not answer as expected")
        yield port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@contextlib.contextmanager
def nginx(html: bytes) -> Iterator[int]:
    """nginx serving `html` from a file: the ceiling."""
    shutil.rmtree(NGINX_DIR, ignore_errors=True)
    (NGINX_DIR / "html").mkdir(parents=True)
    (NGINX_DIR / "html" / "article.html").write_bytes(html)
    port = bench.free_port()
    (NGINX_DIR / "nginx.conf").write_text(
        f"""worker_processes 2;
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
    with running_nginx(NGINX_DIR, port, lambda port: bench.get(port, "/", timeout=2)[2] == html):
        yield port


def prod_nginx_conf(prefix: Path, app_ports: list[int]) -> int:
    """deploy/nginx/local.conf.template filled in by deploy/nginx/render.sh, as for make
    prod-up, into `prefix`: static and media files from the bench's directory, upstreams at
    `app_ports`. Returns the port it listens on."""
    shutil.rmtree(prefix, ignore_errors=True)
    for directory in ("logs", "tmp"):
        (prefix / directory).mkdir(parents=True)
    port = bench.free_port()  # not one of app_ports: they are listening
    render = [str(PROD_NGINX_RENDER), str(prefix), str(prefix), str(bench.BENCH_DIR), str(port)]
    result = subprocess.run(
        [*render, *map(str, app_ports)], stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise bench.BenchError(f"{PROD_NGINX_RENDER} failed: {result.stderr.strip()}")
    return port


def home_page_answers(port: int) -> bool:
    return bench.get(port, "/", timeout=2)[0] == 200


def prod_app_servers() -> int:
    """How many app servers deploy/'s nginx sends requests to: its upstreams' ports."""
    return len(set(re.findall(r"@APP_PORT_\d+@", PROD_NGINX_TEMPLATE.read_text())))


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

    def measure(scenario, port, path, fields, cookie=None, nginx_rps=None, expect="full"):
        """One wrk measurement; `fields` are the line's store, topology, server and code."""
        headers = (f"Cookie: {cookie}",) if cookie else ()
        url = f"http://127.0.0.1:{port}{path}"
        figures = bench.measure_wrk(args, url, deadline, headers, expect=expect)
        line = {
            **bench.result_line(args, scenario, figures, path),
            "suite": "hotpath",
            **fields,
            "seed_articles": args.seed_articles,
            "seed_readers": args.seed_readers,
        }
        if nginx_rps:
            line["pct_of_nginx"] = round(100 * figures["requests_per_s"] / nginx_rps, 2)
        emit(line)
        return figures

    turns = taking_turns(args.baseline_first)

    def readers(sides: list[Side], nginx_rps) -> list[dict]:
        """A new reader at each side's server; with the Redis store, the exhausted reader and
        the subscriber too. With --baseline the two sides take turns scenario by scenario,
        the one to go first alternating, so load that comes or goes meets both alike. Each
        side's figures by name."""
        found = [{} for _ in sides]

        def each(name, cookies, expect="full"):
            order = list(zip(sides, cookies, found, strict=True))
            for side, cookie, figures in order[:: 1 if next(turns) else -1]:
                path = side.code.target.path
                scenario = SCENARIOS[name]
                figures[name] = measure(
                    scenario, side.port, path, side.fields, cookie, nginx_rps, expect=expect
                )

        each("within", [None] * len(sides))
        if sides[0].fields["store"] != "redis":
            return found
        cookies = []
        for side in sides:
            path = side.code.target.path
            cookie = bench.exhausted_reader(side.port, side.code.others, deadline)
            check(side.port, path, deadline, cookie=cookie, full=False)
            bench.warm_up(side.port, path, args.warmup, deadline, cookie=cookie)
            cookies.append(cookie)
        each("exhausted", cookies, expect="teaser")
        cookies = []
        for side in sides:
            path, subscriber = side.code.target.path, side.code.subscriber
            headers, _body = check(
                side.port, path, deadline, cookie=subscriber, full=True, notice=False
            )
            # and any cookie their first page set, which their browser sends from then on
            cookie = bench.keeping(subscriber, headers)
            bench.warm_up(side.port, path, args.warmup, deadline, cookie=cookie)
            cookies.append(cookie)
        each("subscriber", cookies)
        return found

    def forget(code: Code, store_env, what):
        bench.django_snippet(FORGET, f"forget {what}", store_env, deadline, code.root)

    def prepare(code_name, root, env, seed_options) -> Code:
        """`root`'s code on its database, made as its own bench/hotpath made it: migrated,
        the demo loaded, the cookieless bounds as its bench left them, static files
        collected, seeded; then its article, readers and subscriber."""
        database = env["DATABASE_URL"].rpartition("/")[2]
        psql(f"DROP DATABASE IF EXISTS {database}")
        psql(f"CREATE DATABASE {database}")
        var_dir = Path(env["MASTHEAD_VAR_DIR"])
        for directory in (var_dir / "static", Path(env["MEDIA_ROOT"])):
            shutil.rmtree(directory, ignore_errors=True)
        bench.manage(["migrate", "--noinput"], env, deadline, root=root)
        bench.manage(["load_demo"], env, deadline, root=root)
        # On, as they come, but for a baseline run as the fast lane's bench ran it.
        off = code_name == "baseline" and args.baseline_bounds == "off"
        bounds = ["meter_bounds"] + (["--off"] if off else [])
        bench.log(bench.manage(bounds, env, deadline, root=root).strip())
        bench.manage(["collectstatic", "--noinput"], env, deadline, root=root)
        if seed_options:
            seed(seed_options, env, deadline, cap=seeding["articles"], root=root)
        target, others = bench.metered_articles(env, deadline, root)
        subscriber = bench.django_snippet(SUBSCRIBER, "subscriber", env, deadline, root)
        fields = {
            "code": code_name,
            "revision": revision(root),
            "database": database,
            "cookieless_bounds": "off" if off else "on",
        }
        return Code(code_name, root, env, target, others, subscriber["cookie"], fields)

    def through_prod(current: Code, nginx_rps) -> dict:
        """The Redis store's readers through nginx and the app servers as make prod-up runs
        them; their figures named prod_*."""
        store_env = {**current.env, **STORES["redis"], **PROD_ENV}
        forget(current, store_env, "cached pages")
        if args.seed_readers:
            readers_options = ["--meter-readers", str(args.seed_readers)]
            seed(readers_options, store_env, deadline, cap=seeding["readers"])
        count, nproc = prod_app_servers(), len(os.sched_getaffinity(0))
        deploy = servers.Options(workers=nproc)  # GRANIAN_WORKERS=$(nproc), deploy/prod.sh
        path = current.target.path
        with servers.serving_each("deploy", deploy, store_env, deadline, count) as app_ports:
            port = prod_nginx_conf(PROD_NGINX_DIR, app_ports)
            with running_nginx(PROD_NGINX_DIR, port, home_page_answers):
                bench.warm_up(port, path, args.warmup, deadline)
                check(port, path, deadline, full=True, notice=True)
                fields = {
                    "store": "redis",
                    "topology": "prod",
                    **servers.settings("deploy", deploy),
                    "workers": count * nproc,
                    "app_servers": count,
                    **current.fields,
                }
                (found,) = readers([Side(current, port, fields)], nginx_rps)
        forget(current, store_env, "meter entries")
        return {f"prod_{name}": figures for name, figures in found.items()}

    seeding = seed_seconds(args)
    options = servers.Options(
        workers=args.workers,
        blocking_threads=args.blocking_threads,
        worker_class=args.worker_class,
        gthreads=args.gthreads,
    )
    # Each server: its start and stop, warm-ups and four measurements per run of the stores;
    # the production topology: its start and stop, warm-ups and three measurements; the
    # baseline: its own set-up, then a server and four measurements beside the first's.
    per_server = 240 + 5 * (args.duration + 20)
    prod = 240 + 4 * (args.duration + 20) if args.topology == "prod" else 0
    baseline_s = 660 + per_server if args.baseline else 0
    budget = 660 + len(args.server) * per_server + prod + baseline_s + seeding["total"]
    deadline = bench.Deadline(budget)
    articles = ["--articles", str(args.seed_articles)] if args.seed_articles else []
    try:
        with bench.bench_lock(), contextlib.ExitStack() as run:
            bench.require_wrk()
            bench.redis_ping()
            bench.warn_if_busy()
            env = bench.bench_env(args.settings)
            databases = [bench.PG_DB] + ([bench.PG_BASELINE_DB] if args.baseline else [])
            if not args.keep_db:
                for database in databases:
                    run.callback(psql, f"DROP DATABASE IF EXISTS {database}")
            codes = [prepare("current", bench.ROOT, env, articles)]
            if args.baseline:
                bench.log(
                    f"the baseline {args.baseline} ({revision(args.baseline)}) gets a database "
                    f"of its own, {bench.PG_BASELINE_DB}, migrated and seeded by its own code, "
                    f"and a Redis of its own: {migrations_only_in(bench.ROOT, args.baseline)}"
                )
                redis_url = run.enter_context(running_redis(BASELINE_DIR / "redis"))
                baseline_code = prepare(
                    "baseline",
                    args.baseline,
                    baseline_env(env, redis_url, args.baseline_bounds),
                    articles,
                )
                codes.append(baseline_code)
            baseline_options = servers.Options(
                workers=args.workers, root=args.baseline or bench.ROOT
            )
            current = codes[0]
            results, baseline = {}, {}
            # Each server in turn, both stores each; nginx is measured once, beside the
            # first server's Redis run, and the production topology after that server. The
            # baseline's server runs beside the first server's, on the same store.
            runs = [(server, store) for server in args.server for store in ("redis", "db")]
            for server, store in runs:
                measured = codes if server == args.server[0] else codes[:1]
                with contextlib.ExitStack() as stack:
                    sides = []
                    for code in measured:
                        store_env = {**code.env, **STORES[store]}
                        forget(code, store_env, "cached pages")
                        if args.seed_readers:
                            # Into the store being measured: its Redis database or database.
                            readers_options = ["--meter-readers", str(args.seed_readers)]
                            cap = seeding["readers"]
                            seed(readers_options, store_env, deadline, cap=cap, root=code.root)
                        if code.name == "current":
                            how, knobs = server, options
                        else:
                            how, knobs = BASELINE_SERVER, baseline_options
                        port = stack.enter_context(
                            servers.serving(how, knobs, store_env, deadline, new_log=not sides)
                        )
                        path = code.target.path
                        bench.warm_up(port, path, args.warmup, deadline)
                        _h, html = check(port, path, deadline, full=True, notice=True)
                        fields = {
                            "store": store,
                            "topology": "direct",
                            **servers.settings(how, knobs),
                            **code.fields,
                        }
                        sides.append(Side(code, port, fields))
                        if "nginx" not in results:
                            with nginx(html) as nginx_port:
                                bench.warm_up(nginx_port, path, 5, deadline)
                                file_fields = {"store": None, "topology": None}
                                results["nginx"] = measure(
                                    "nginx_static_file", nginx_port, path, file_fields
                                )
                    nginx_rps = results["nginx"]["requests_per_s"]
                    found = readers(sides, nginx_rps)
                for code in measured:
                    forget(code, {**code.env, **STORES[store]}, "meter entries")
                for side, figures in zip(sides, found, strict=True):
                    mine = results if side.code.name == "current" else baseline
                    mine[f"{store}_within"] = figures.pop("within")
                    mine.update(figures)
                if store == "db":  # this server's last run
                    if args.topology == "prod" and server == args.server[0]:
                        results.update(through_prod(current, nginx_rps))
                    compared = codes[1] if baseline and server == args.server[0] else None
                    emit(summary(args, results, server, options, current, compared, baseline))
                    results = {"nginx": results["nginx"]}
    except bench.BenchError as exc:
        bench.log(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        bench.log("interrupted")
        return 130
    bench.log(f"done in {time.monotonic() - started:.0f} s")
    return 0


def migrations_only_in(root: Path, other: Path) -> str:
    """What tells the two schemas apart: migration files one checkout has and the other not."""

    def names(checkout: Path) -> set[str]:
        return {
            str(path.relative_to(checkout)) for path in checkout.glob("masthead/*/migrations/0*.py")
        }

    mine, theirs = names(root), names(other)
    return (
        f"{len(mine - theirs)} migrations only in the current code, "
        f"{len(theirs - mine)} only in the baseline's"
    )


def summary(args, results, server, options, current, baseline_code=None, baseline=None) -> dict:
    rps = {name: figures["requests_per_s"] for name, figures in results.items()}
    p99 = {name: figures["latency_p99_ms"] for name, figures in results.items()}
    first = rps["redis_within"]
    spread = {name: round(100 * (rps[name] / first - 1), 1) for name in ("exhausted", "subscriber")}
    line = {
        "suite": "hotpath",
        "summary": True,
        **servers.settings(server, options),
        "workers": args.workers,
        "code": "current",
        "revision": current.fields["revision"],
        "date": datetime.date.today().isoformat(),
        "machine": bench.machine(),
        "kernel": os.uname().release,
        "load_average": round(os.getloadavg()[0], 2),
        "path": current.target.path,
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
    if baseline_code:
        theirs = {name: figures["requests_per_s"] for name, figures in baseline.items()}
        line["baseline"] = {
            **servers.settings(BASELINE_SERVER, servers.Options(workers=args.workers)),
            "workers": args.workers,
            **baseline_code.fields,
            "path": baseline_code.target.path,
            "requests_per_s": theirs,
            "latency_p99_ms": {
                name: figures["latency_p99_ms"] for name, figures in baseline.items()
            },
            "pct_of_nginx": round(100 * theirs["redis_within"] / rps["nginx"], 2),
        }
        # Issue 21: the current new reader no lower than the fast lane's in the same run.
        line["vs_baseline_pct"] = {
            name: round(100 * (rps[name] / theirs[name] - 1), 1) for name in theirs
        }
        line["meets"]["new_reader_not_below_baseline"] = first >= theirs["redis_within"]
    return line


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
