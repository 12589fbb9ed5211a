"""Benchmark the anonymous article page: gunicorn (production settings) driven by wrk.

Run it as ``bench/article`` from the repository root (the wrapper execs this file with the
virtualenv's Python). Standard library only. Everything happens on 127.0.0.1, in a fresh
SQLite database under var/bench/, and the run is bounded in time. The result is one JSON
line on stdout; progress and diagnostics go to stderr.

``--suite paywall`` measures the metered paywall instead: for each meter store (database,
Redis) one metered article with the paywall out of the way and three metered readers, one
JSON line per measurement and one summary line per store (see bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import fcntl
import http.client
import http.cookies
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

SCENARIO = "anonymous_article"
SUITES = ("article", "paywall")
ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
BENCH_DIR = ROOT / "var" / "bench"
DB_PATH = BENCH_DIR / "bench.sqlite3"
MEDIA_DIR = BENCH_DIR / "media"
STATIC_DIR = BENCH_DIR / "static"  # STATIC_ROOT = MASTHEAD_VAR_DIR / "static"
GUNICORN_LOG = BENCH_DIR / "gunicorn.log"
LOCK_PATH = BENCH_DIR / ".lock"
WRK = "/usr/bin/wrk"

# What nginx adds in front of the app: production settings trust it (SECURE_PROXY_SSL_HEADER)
# and would otherwise redirect every plain-HTTP request to https (SECURE_SSL_REDIRECT).
PROXY_HEADER = ("X-Forwarded-Proto", "https")

# Variables from the caller's shell that would silently change the scenario.
SCRUBBED_ENV = (
    "DATABASE_CONN_MAX_AGE",
    "GUNICORN_CMD_ARGS",
    "LOG_LEVEL",
    "MASTHEAD_METER_REDIS_URL",
    "MASTHEAD_METER_STORE",
    "MASTHEAD_SSL_REDIRECT",
    "REDIS_URL",
)

# --suite paywall: the meter stores it can measure, each with what its gunicorn gets on top of
# the scrubbed environment. REDIS_URL serves the meter and Django's cache alike; database 14
# is the benchmark's (the tests use 15), and only the meter's keys there are ever deleted.
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 14
REDIS_URL_BENCH = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
METER_STORES = {
    # The cache is Redis for both: the article pages are cached per revision (news.rendering)
    # and set_access() below must reach every worker's cache, which local memory cannot.
    "db": {"MASTHEAD_METER_STORE": "masthead.access.meter.db", "REDIS_URL": REDIS_URL_BENCH},
    "redis": {
        "MASTHEAD_METER_STORE": "masthead.access.meter.redis",
        "REDIS_URL": REDIS_URL_BENCH,
    },
}
BASELINE = "article_baseline"
NEW_READER = "metered_new_reader"
WITHIN_ALLOWANCE = "metered_within_allowance"
EXHAUSTED = "metered_exhausted"
METERED_SCENARIOS = (NEW_READER, WITHIN_ALLOWANCE, EXHAUSTED)
TARGET_COST_PCT = 15
READER_COOKIE = "mh_reader"  # settings.MASTHEAD_READER_COOKIE
PAYWALL_MARK = 'class="paywall"'  # templates/access/paywall.html
METER_NOTICE_MARK = 'class="meter-notice"'  # templates/access/meter_notice.html
# Printed by the `manage.py shell -c` snippets below, so their output can be told from noise.
SHELL_MARK = "BENCH-JSON "

SERVER_START_TIMEOUT_S = 30
# Everything but the wrk run itself must fit in this. With the default 10 s run and at most
# 15 s to stop gunicorn, the whole script stays under two minutes even when every step is slow.
FIXED_BUDGET_S = 85
# --suite paywall: per store, on top of FIXED_BUDGET_S and the five wrk runs (manage.py
# snippets, start and stop of gunicorn, warm-ups and checks). With the default 8 s runs the
# suite takes about two and a half minutes; this bounds it at about five.
STORE_BUDGET_S = 75
ARTICLE_LINK = re.compile(r'href="(?:https?://[^/"]+)?(/world/[^/"?#]+/)"')
SECRET_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"
TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
DURATION_UNITS_S = {"": 1, "s": 1, "m": 60, "h": 3600}


class BenchError(Exception):
    """A failure with a message meant for the person running the benchmark."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def remaining(self, cap: float | None = None) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise BenchError("time budget exhausted; the benchmark is bounded, giving up")
        return left if cap is None else min(left, cap)


# --- arguments -------------------------------------------------------------------------


def duration_seconds(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text)
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"expected a duration such as 10s or 1m, not {text!r}")
    return int(match.group(1)) * DURATION_UNITS_S[match.group(2)]


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return value


def article_path(text: str) -> str:
    if not text.startswith("/") or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"expected a path such as /world/<slug>/, not {text!r}")
    return text


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/article",
        description="Requests/s and latency of an anonymous article page under gunicorn "
        "(production settings, fresh SQLite demo database), measured with wrk on 127.0.0.1. "
        "--suite paywall measures the metered paywall against the same article without it.",
    )
    parser.add_argument(
        "--suite",
        choices=SUITES,
        default="article",
        help="article (default): one anonymous_article measurement; paywall: the paywall's "
        "cost per meter store (see bench/README.md)",
    )
    parser.add_argument(
        "--stores",
        type=store_list,
        default=list(METER_STORES),
        help="--suite paywall: comma-separated meter stores to measure (default: db,redis)",
    )
    parser.add_argument("--workers", type=positive_int, default=2, help="gunicorn sync workers")
    parser.add_argument("--connections", type=positive_int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=positive_int, default=2, help="wrk threads")
    parser.add_argument(
        "--duration",
        type=duration_seconds,
        help="wrk run time per measurement (10s, 1m; default 10s, 8s with --suite paywall)",
    )
    parser.add_argument(
        "--path",
        type=article_path,
        help="article to request (default: first /world/ link on /; with --suite paywall, "
        "a metered article, default the first metered article in page-tree order)",
    )
    parser.add_argument(
        "--warmup", type=positive_int, default=5, help="requests before the measured run"
    )
    parser.add_argument(
        "--settings",
        default="masthead.settings.production",
        help="Django settings module (default and for published figures: production)",
    )
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads (each wrk thread needs one)")
    if args.duration is None:
        args.duration = 8 if args.suite == "paywall" else 10
    return args


def store_list(text: str) -> list[str]:
    stores = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in stores if name not in METER_STORES]
    if not stores or unknown:
        raise argparse.ArgumentTypeError(
            f"expected meter stores among {','.join(METER_STORES)}, not {text!r}"
        )
    return list(dict.fromkeys(stores))


# --- environment and setup -------------------------------------------------------------


def bench_env(settings_module: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        SECRET_KEY="".join(secrets.choice(SECRET_ALPHABET) for _ in range(64)),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{DB_PATH}",
        MEDIA_ROOT=str(MEDIA_DIR),
        MASTHEAD_VAR_DIR=str(BENCH_DIR),
        # The demo's content and test payments, under production settings (load_demo,
        # seed_bench and the test provider need the opt-in).
        MASTHEAD_DEMO="true",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def bench_lock() -> Iterator[None]:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with LOCK_PATH.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BenchError(f"another benchmark is running (it holds {LOCK_PATH})") from None
        yield


def reset_bench_dir() -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        DB_PATH.with_name(DB_PATH.name + suffix).unlink(missing_ok=True)
    for directory in (MEDIA_DIR, STATIC_DIR):
        shutil.rmtree(directory, ignore_errors=True)


def manage(
    args: list[str], env: dict[str, str], deadline: Deadline, label: str | None = None
) -> str:
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    label = label or "manage.py " + " ".join(args)
    started = time.monotonic()
    try:
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=deadline.remaining(cap=60),
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{label} did not finish in {exc.timeout:.0f} s") from None
    if result.returncode != 0:
        sys.stderr.write(result.stdout)
        raise BenchError(f"{label} failed with exit status {result.returncode} (output above)")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    summary = lines[-1].strip() if lines else "done"
    if args[0] == "migrate":
        summary = f"{sum(line.startswith('  Applying ') for line in lines)} migrations applied"
    elif args[0] == "load_demo" and lines:
        summary = lines[0].strip()  # "Created N objects."; the next line is the admin login
    elif args[0] == "shell":
        summary = "done"  # the snippet's result is reported by its caller
    log(f"{label}: {summary} ({time.monotonic() - started:.1f} s)")
    return result.stdout


def prepare_database(env: dict[str, str], settings_module: str, deadline: Deadline) -> None:
    log(f"fresh database {DB_PATH.relative_to(ROOT)} with {settings_module}")
    reset_bench_dir()
    manage(["migrate", "--noinput"], env, deadline)
    manage(["load_demo"], env, deadline)
    # Every new reader comes from 127.0.0.1: the bounds for cookieless clients would turn
    # them all into teasers after the first few.
    manage(["meter_bounds", "--off"], env, deadline)
    manage(["collectstatic", "--noinput"], env, deadline)


def django_snippet(code: str, label: str, env: dict[str, str], deadline: Deadline) -> object:
    """Run `code` with `manage.py shell -c` in the benchmark's environment; it reports through
    `emit(value)`, and the value comes back from JSON."""
    prelude = f"import json\ndef emit(value):\n    print({SHELL_MARK!r} + json.dumps(value))\n"
    command = ["shell", "-c", prelude + code]
    output = manage(command, env, deadline, label=f"manage.py shell: {label}")
    for line in reversed(output.splitlines()):
        if line.startswith(SHELL_MARK):
            return json.loads(line[len(SHELL_MARK) :])
    sys.stderr.write(output)
    raise BenchError(f"manage.py shell ({label}) printed no result (output above)")


# --- gunicorn --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(limit: int = 200) -> tuple[str, str]:
    """The log from its last traceback on (or its last lines), and that traceback's error."""
    try:
        lines = GUNICORN_LOG.read_text(errors="replace").splitlines()
    except OSError:
        return "(no gunicorn log)", ""
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if not starts:
        return "\n".join(lines[-60:]), ""
    start = max(starts[-1] - 1, len(lines) - limit, 0)  # keep "Internal Server Error: /..."
    error = next((line for line in reversed(lines) if line and not line[0].isspace()), "")
    return "\n".join(lines[start:]), error


def server_error(message: str) -> BenchError:
    text, error = log_tail()
    if error:
        message += f"\nserver error: {error}"
    return BenchError(f"{message}\n--- from {GUNICORN_LOG} ---\n{text}\n---")


def start_gunicorn(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    gunicorn = VENV_BIN / "gunicorn"
    if not os.access(gunicorn, os.X_OK):
        raise BenchError(f"{gunicorn} not found; run 'make install' first", exit_code=2)
    command = [
        str(gunicorn),
        "masthead.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--chdir",
        str(ROOT),
        "--graceful-timeout",
        "5",
        "--no-control-socket",  # its default path is shared by every gunicorn of this user
        "--error-logfile",
        "-",
    ]
    with GUNICORN_LOG.open("w") as log_file:
        # A session of its own: Ctrl-C reaches this script, which then stops gunicorn
        # (and its workers, same process group) in order instead of leaving strays.
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: graceful shutdown, workers get --graceful-timeout
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # The master is not reaped yet, so its pid is still our group's id: this
            # reaches exactly the master and the workers it forked.
            log("gunicorn did not stop within 10 s; killing its process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    log(f"gunicorn stopped (exit status {process.returncode})")


def get(
    port: int, path: str, timeout: float, cookie: str | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = dict([PROXY_HEADER])
    if cookie:
        headers["Cookie"] = cookie
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


def wait_until_up(process: subprocess.Popen, port: int, deadline: Deadline) -> None:
    give_up = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise server_error(f"gunicorn exited during start-up (status {process.returncode})")
        try:
            get(port, "/", timeout=deadline.remaining(cap=5))
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    raise server_error(f"gunicorn did not answer on 127.0.0.1:{port} within 30 s")


def describe_failure(path: str, status: int, headers: http.client.HTTPMessage) -> str:
    message = f"GET {path} answered {status}, expected 200"
    location = headers.get("Location")
    if location:
        message += f" (Location: {location})"
    if status >= 500:
        message += "; the server's traceback is in the log below"
    return message


def pick_article(port: int, deadline: Deadline) -> str:
    status, headers, body = get(port, "/", timeout=deadline.remaining(cap=10))
    if status != 200:
        raise server_error(describe_failure("/", status, headers) + " (needed to find an article)")
    match = ARTICLE_LINK.search(body.decode("utf-8", errors="replace"))
    if not match:
        raise BenchError("no /world/<slug>/ link on the home page; pass --path /world/<slug>/")
    return match.group(1)


def warm_up(
    port: int, path: str, count: int, deadline: Deadline, cookie: str | None = None
) -> tuple[http.client.HTTPMessage, bytes]:
    for _ in range(count):
        status, headers, body = get(port, path, timeout=deadline.remaining(cap=10), cookie=cookie)
        if status != 200:
            raise server_error(describe_failure(path, status, headers))
    notes = [f"{len(body)} bytes"]
    for name in ("Cache-Control", "Vary", "Set-Cookie"):
        notes.append(f"{name}: {headers.get(name, '-')}")
    with_cookie = " with the reader's cookie" if cookie else ""
    log(f"GET {path}{with_cookie} -> 200 after {count} warm-up requests ({'; '.join(notes)})")
    return headers, body


@contextlib.contextmanager
def serving(workers: int, env: dict[str, str], deadline: Deadline) -> Iterator[tuple]:
    """gunicorn on a free port, up and answering; stopped on the way out whatever happens.
    Yields (process, port)."""
    port = free_port()
    log(f"starting gunicorn on 127.0.0.1:{port}, {workers} sync workers")
    process = start_gunicorn(port, workers, env)
    try:
        wait_until_up(process, port, deadline)
        yield process, port
        if process.poll() is not None:
            raise server_error(f"gunicorn exited during the run (status {process.returncode})")
    finally:
        stop_gunicorn(process)


# --- wrk -------------------------------------------------------------------------------


def require_wrk() -> None:
    if not os.access(WRK, os.X_OK):
        raise BenchError(
            f"wrk not found at {WRK}. Install it with: apt-get install wrk "
            "(through sudo when not root)",
            exit_code=2,
        )


def run_wrk(
    args: argparse.Namespace, url: str, deadline: Deadline, headers: tuple[str, ...] = ()
) -> str:
    command = [
        WRK,
        "--latency",
        "--threads",
        str(args.threads),
        "--connections",
        str(args.connections),
        "--duration",
        f"{args.duration}s",
        # wrk's default 2 s would drop slow responses from the latency figures and count
        # them as socket errors; measure them instead.
        "--timeout",
        "10s",
        "--header",
        f"{PROXY_HEADER[0]}: {PROXY_HEADER[1]}",
        *(part for header in headers for part in ("--header", header)),
        url,
    ]
    log(f"running: {' '.join(shlex.quote(part) for part in command)}")
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=deadline.remaining(cap=args.duration + 30),
        )
    except subprocess.TimeoutExpired:
        raise BenchError("wrk did not finish in time") from None
    sys.stderr.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise BenchError(f"wrk failed with exit status {result.returncode} (output above)")
    return result.stdout


def to_ms(value: str, unit: str) -> float:
    return round(float(value) * TIME_UNITS_MS[unit], 3)


def parse_wrk(output: str, duration_s: int) -> dict[str, float | int]:
    elapsed = re.search(r"^\s+\d+ requests in ([\d.]+)(us|ms|s|m|h),", output, re.MULTILINE)
    if elapsed and to_ms(elapsed.group(1), elapsed.group(2)) < duration_s * 900:
        raise BenchError(f"wrk stopped early, after {elapsed.group(1)}{elapsed.group(2)}")
    rps = re.search(r"^Requests/sec:\s+([\d.]+)\s*$", output, re.MULTILINE)
    _, found, distribution = output.partition("Latency Distribution")
    percentiles = {
        m.group(1): to_ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", distribution, re.M)
    }
    if not rps or not found or "50" not in percentiles or "99" not in percentiles:
        raise BenchError("could not parse wrk's output (above)")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests_per_s": float(rps.group(1)),
        "latency_p50_ms": percentiles["50"],
        "latency_p99_ms": percentiles["99"],
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in sockets.groups()) if sockets else 0,
    }


# --- report ----------------------------------------------------------------------------


def machine() -> str:
    cpus = len(os.sched_getaffinity(0))
    model = platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model") and value.strip():
                model = " ".join(value.split())
                break
    return f"nproc={cpus}, {model}, Python {platform.python_version()}"


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Share of all CPUs busy over a short sample, from /proc/stat (None if unreadable)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    try:
        total_before, idle_before = sample()
        time.sleep(seconds)
        total_after, idle_after = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total_after - total_before
    return 1 - (idle_after - idle_before) / total if total > 0 else None


def warn_if_busy() -> None:
    """wrk, gunicorn and anything else running share the same CPUs: say so when it shows."""
    busy = cpu_busy()
    if busy is None:
        return
    if busy > 0.25:
        log(f"warning: the CPUs are already {busy:.0%} busy; figures will be noisy")
    else:
        log(f"CPUs {busy:.0%} busy before the run")


def measured(output: str, duration_s: int) -> dict[str, float | int]:
    figures = parse_wrk(output, duration_s)
    if figures["non_2xx"] or figures["socket_errors"]:
        log(
            f"warning: {figures['non_2xx']} non-2xx/3xx responses and "
            f"{figures['socket_errors']} socket errors during the run"
        )
    return figures


def result_line(
    args: argparse.Namespace, scenario: str, figures: dict, path: str
) -> dict[str, object]:
    return {
        "scenario": scenario,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
        **figures,
        "path": path,
    }


def benchmark(args: argparse.Namespace) -> dict[str, object]:
    deadline = Deadline(FIXED_BUDGET_S + args.duration)
    require_wrk()  # before spending time on the setup
    warn_if_busy()
    env = bench_env(args.settings)
    prepare_database(env, args.settings, deadline)
    with serving(args.workers, env, deadline) as (_process, port):
        path = args.path or pick_article(port, deadline)
        warm_up(port, path, args.warmup, deadline)
        output = run_wrk(args, f"http://127.0.0.1:{port}{path}", deadline)
    return result_line(args, SCENARIO, measured(output, args.duration), path)


# --- the paywall suite -----------------------------------------------------------------

# manage.py shell snippets (see django_snippet). The metered articles a reader can reach on
# the default site, in page-tree order, and the anonymous allowance of that site's meter.
FIND_METERED = """
from wagtail.models import Site
from masthead.access.models import MeterSettings
from masthead.news.models import ArticlePage
site = Site.objects.get(is_default_site=True)
articles = []
for page in ArticlePage.objects.live().filter(access="metered").order_by("path")[:200]:
    parts = page.get_url_parts()
    if parts and parts[0] == site.pk:
        articles.append({"pk": page.pk, "path": parts[2]})
emit({"allowance": MeterSettings.for_site(site).anonymous_allowance, "articles": articles})
"""
# One article's access level, set without a save (no revision, no signal, so the cached
# pages are forgotten by hand), and optionally
# every meter entry of the store in use forgotten: MeterStore.clear() deletes the meter's
# rows (db) or its "masthead:meter:" keys and nothing else (redis).
SET_ACCESS = """
from masthead.access.meter import get_meter_store
from masthead.news.models import ArticlePage
from masthead.news.rendering import bump_generation
updated = ArticlePage.objects.filter(pk={pk}).update(access={access!r})
bump_generation()  # an update() sends no signal: forget the cached pages and routes
if {clear}:
    get_meter_store().clear()
emit({{"updated": updated}})
"""


@dataclasses.dataclass(frozen=True)
class Article:
    pk: int
    path: str


def redis_ping() -> None:
    """Fail early, with the reason, when the Redis store cannot be measured."""
    request = f"*2\r\n$6\r\nSELECT\r\n${len(str(REDIS_DB))}\r\n{REDIS_DB}\r\n*1\r\n$4\r\nPING\r\n"
    reply = b""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as sock:
            sock.sendall(request.encode())
            while reply.count(b"\r\n") < 2:
                chunk = sock.recv(256)
                if not chunk:
                    break
                reply += chunk
    except OSError as exc:
        raise BenchError(
            f"Redis does not answer on {REDIS_HOST}:{REDIS_PORT} ({exc}); start it or pass "
            "--stores db",
            exit_code=2,
        ) from None
    if reply != b"+OK\r\n+PONG\r\n":
        raise BenchError(f"Redis on {REDIS_HOST}:{REDIS_PORT} db {REDIS_DB} answered {reply!r}")


def metered_articles(
    env: dict[str, str], wanted: str | None, deadline: Deadline
) -> tuple[Article, list[Article]]:
    """The article to measure, and `allowance` other metered articles that use up a
    reader's allowance before it."""
    found = django_snippet(FIND_METERED, "metered articles", env, deadline)
    articles = [Article(row["pk"], row["path"]) for row in found["articles"]]
    allowance = found["allowance"]
    if wanted:
        target = next((a for a in articles if a.path == wanted), None)
        if target is None:
            raise BenchError(f"--path {wanted} is not a live metered article of the demo")
    elif articles:
        target = articles[0]
    else:
        raise BenchError("the demo has no live metered article")
    others = [a for a in articles if a != target][:allowance]
    if len(others) < allowance:
        raise BenchError(
            f"the exhausted reader needs {allowance} metered articles besides {target.path}; "
            f"the demo has {len(others)}"
        )
    log(f"article {target.path} (id {target.pk}); anonymous allowance {allowance}")
    return target, others


def set_access(
    env: dict[str, str], article: Article, access: str, deadline: Deadline, clear: bool = False
) -> None:
    code = SET_ACCESS.format(pk=article.pk, access=access, clear=clear)
    label = f"access={access} for id {article.pk}" + (", meter store cleared" if clear else "")
    result = django_snippet(code, label, env, deadline)
    if result["updated"] != 1:
        raise BenchError(f"could not set access={access} on article {article.pk}")


def reader_cookie(headers: http.client.HTTPMessage) -> str | None:
    """The `Cookie` header value that sends back the reader cookie a response set."""
    for value in headers.get_all("Set-Cookie") or []:
        jar = http.cookies.SimpleCookie()
        jar.load(value)
        if READER_COOKIE in jar:
            return f"{READER_COOKIE}={jar[READER_COOKIE].coded_value}"
    return None


def check_page(
    port: int,
    path: str,
    deadline: Deadline,
    *,
    what: str,
    cookie: str | None = None,
    paywall: bool,
    notice: bool | None = None,
    issues_cookie: bool | None = None,
) -> http.client.HTTPMessage:
    """One request, and abort unless the page is what the scenario is meant to measure."""
    status, headers, raw = get(port, path, timeout=deadline.remaining(cap=10), cookie=cookie)
    if status != 200:
        raise server_error(describe_failure(path, status, headers))
    body = raw.decode("utf-8", errors="replace")
    problems = []
    if (PAYWALL_MARK in body) != paywall:
        problems.append(f"{'no ' if paywall else ''}paywall ({PAYWALL_MARK})")
    if notice is not None and (METER_NOTICE_MARK in body) != notice:
        problems.append(f"{'no ' if notice else 'a '}meter notice ({METER_NOTICE_MARK})")
    if issues_cookie is not None and (reader_cookie(headers) is not None) != issues_cookie:
        problems.append(f"{'no new' if issues_cookie else 'a new'} {READER_COOKIE} cookie")
    if problems:
        raise BenchError(
            f"GET {path}{' with a reader cookie' if cookie else ''} shows {' and '.join(problems)}"
            f"; that is not {what}, so it would not measure what it claims. Aborting."
        )
    return headers


def new_reader(port: int, path: str, deadline: Deadline) -> str:
    """A new anonymous reader who has just read `path`: their `Cookie` header value."""
    headers = check_page(
        port, path, deadline, what="a new reader's metered read", paywall=False, notice=True
    )
    cookie = reader_cookie(headers)
    if cookie is None:
        raise BenchError(f"GET {path} set no {READER_COOKIE} cookie for a new reader")
    return cookie


def exhausted_reader(port: int, others: list[Article], deadline: Deadline) -> str:
    """A reader who has spent the whole allowance on `others`: their `Cookie` header value."""
    cookie = new_reader(port, others[0].path, deadline)
    for article in others[1:]:
        check_page(
            port,
            article.path,
            deadline,
            what="a read within the allowance",
            cookie=cookie,
            paywall=False,
            issues_cookie=False,
        )
    log(f"reader has read {len(others)} other metered articles: {' '.join(a.path for a in others)}")
    return cookie


def paywall_store(
    args: argparse.Namespace,
    store: str,
    base_env: dict[str, str],
    target: Article,
    others: list[Article],
    deadline: Deadline,
    emit,
) -> dict[str, object]:
    """The five measurements of one meter store, each emitted as it ends; the summary."""
    env = {**base_env, **METER_STORES[store]}
    extra = ", ".join(f"{k}={v}" for k, v in METER_STORES[store].items())
    log(f"=== meter store {store} ({extra})")
    warn_if_busy()
    path = target.path
    rps: dict[str, float] = {}
    baselines: list[float] = []
    set_access(env, target, "free", deadline, clear=True)
    finished = False
    try:
        with serving(args.workers, env, deadline) as (_process, port):

            def measure(scenario: str, cookie: str | None = None) -> float:
                log(f"[{store}] {scenario}")
                warm_up(port, path, args.warmup, deadline, cookie=cookie)
                headers = (f"Cookie: {cookie}",) if cookie else ()
                output = run_wrk(args, f"http://127.0.0.1:{port}{path}", deadline, headers)
                figures = measured(output, args.duration)
                line = result_line(args, scenario, figures, path)
                emit({**line, "suite": "paywall", "store": store})
                return float(figures["requests_per_s"])

            def baseline() -> None:
                check_page(
                    port,
                    path,
                    deadline,
                    what="the article with the paywall out of the way",
                    paywall=False,
                    notice=False,
                    issues_cookie=False,
                )
                baselines.append(measure(BASELINE))

            baseline()
            set_access(env, target, "metered", deadline)
            check_page(
                port,
                path,
                deadline,
                what="a new reader's metered read",
                paywall=False,
                notice=True,
                issues_cookie=True,
            )
            rps[NEW_READER] = measure(NEW_READER)

            cookie = new_reader(port, path, deadline)
            check_page(
                port,
                path,
                deadline,
                what="a read already counted",
                cookie=cookie,
                paywall=False,
                notice=False,
                issues_cookie=False,
            )
            rps[WITHIN_ALLOWANCE] = measure(WITHIN_ALLOWANCE, cookie)

            cookie = exhausted_reader(port, others, deadline)
            check_page(
                port,
                path,
                deadline,
                what="a reader past the allowance",
                cookie=cookie,
                paywall=True,
                issues_cookie=False,
            )
            rps[EXHAUSTED] = measure(EXHAUSTED, cookie)

            set_access(env, target, "free", deadline)
            baseline()
        set_access(env, target, "metered", deadline, clear=True)
        finished = True
    finally:
        if not finished:  # leave no meter keys behind, whatever went wrong
            with contextlib.suppress(BenchError):
                set_access(env, target, "metered", Deadline(60), clear=True)

    mean = sum(baselines) / len(baselines)
    cost = {scenario: round(100 * (1 - value / mean), 1) for scenario, value in rps.items()}
    return {
        "suite": "paywall",
        "store": store,
        "cost_pct": cost,
        "target_pct": TARGET_COST_PCT,
        "meets_target": all(value <= TARGET_COST_PCT for value in cost.values()),
        "baseline_requests_per_s": baselines,
        "baseline_mean_requests_per_s": round(mean, 2),
        "baseline_drift_pct": round(100 * (baselines[1] / baselines[0] - 1), 1),
        "requests_per_s": rps,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "path": path,
    }


def paywall_suite(args: argparse.Namespace, emit) -> None:
    per_store = STORE_BUDGET_S + (2 + len(METERED_SCENARIOS)) * args.duration
    deadline = Deadline(FIXED_BUDGET_S + len(args.stores) * per_store)
    require_wrk()
    redis_ping()  # the cache of both stores
    env = bench_env(args.settings)
    prepare_database(env, args.settings, deadline)
    target, others = metered_articles(env, args.path, deadline)
    for store in args.stores:
        emit(paywall_store(args, store, env, target, others, deadline, emit))


def _terminate(signum: int, _frame: object) -> None:
    log(f"stopping on {signal.Signals(signum).name}")
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    started = time.monotonic()
    try:
        with bench_lock():
            if args.suite == "paywall":
                paywall_suite(args, emit=lambda line: print(json.dumps(line), flush=True))
            else:
                result = benchmark(args)
                print(json.dumps(result), flush=True)
    except BenchError as exc:
        log(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
