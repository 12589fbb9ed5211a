"""What bench/hotpath is built from: the benchmark's environment, its manage.py and shell
steps, the HTTP checks of what a scenario serves, wrk with bench/readers.lua, and the CPU
time each part of the system spends per request.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import fcntl
import http.client
import http.cookies
import itertools
import json
import os
import platform
import re
import resource
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
BENCH_DIR = ROOT / "var" / "bench"
MEDIA_DIR = BENCH_DIR / "media"
STATIC_DIR = BENCH_DIR / "static"  # STATIC_ROOT = MASTHEAD_VAR_DIR / "static"
GUNICORN_LOG = BENCH_DIR / "gunicorn.log"  # the app server's log, whichever server
# One run at a time on this machine, whichever checkout it runs from: every run uses the same
# PostgreSQL database and Redis database.
LOCK_PATH = Path("/tmp/masthead-bench.lock")
WRK = "/usr/bin/wrk"
READERS_LUA = Path(__file__).resolve().parent / "readers.lua"

PG = "postgres://postgres@127.0.0.1:5432"
PG_DB = "masthead_bench"
# bench/hotpath --baseline: the other revision's database, migrated and seeded by its own code.
PG_BASELINE_DB = "masthead_bench_baseline"
# Redis database 7 is the benchmark's own (the tests take 8-15, one per xdist worker): the
# cache and the meter, emptied before each store is measured.
REDIS_URL = "redis://127.0.0.1:6379/7"

# What nginx adds in front of the app: production settings trust it (SECURE_PROXY_SSL_HEADER)
# and would otherwise redirect every plain-HTTP request to https (SECURE_SSL_REDIRECT).
PROXY_HEADER = ("X-Forwarded-Proto", "https")
# The client address the (simulated) proxy hands on. Every request of ours comes from a
# network of its own, as a new reader on the open internet does; bench/readers.lua counts
# through 10.0.0.0/8 for wrk, these requests through 172.16.0.0/12.
_PYTHON_CLIENTS = itertools.count(0xAC100001)

# Variables from the caller's shell that would silently change the scenario.
SCRUBBED_ENV = (
    "DATABASE_CONN_MAX_AGE",
    "GUNICORN_CMD_ARGS",
    "LOG_LEVEL",
    "MASTHEAD_METER_REDIS_URL",
    "MASTHEAD_METER_STORE",
    "MASTHEAD_SSL_REDIRECT",
    "MASTHEAD_TRUSTED_PROXY_HOPS",
    "REDIS_URL",
)

READER_COOKIE = "mh_reader"  # settings.MASTHEAD_READER_COOKIE
PAYWALL_MARK = 'class="paywall"'  # templates/access/paywall.html
METER_NOTICE_MARK = 'class="meter-notice"'  # templates/access/meter_notice.html
# Printed by the `manage.py shell -c` snippets, so their output can be told from noise.
SHELL_MARK = "BENCH-JSON "
# Printed by bench/readers.lua when wrk is done.
UNEXPECTED = re.compile(r"^bench: responses not as expected: (\d+)$", re.MULTILINE)

# Four workers importing Django on two cores that other work keeps busy took over 30 s.
SERVER_START_TIMEOUT_S = 90
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


def _terminate(signum: int, _frame: object) -> None:
    log(f"stopping on {signal.Signals(signum).name}")
    raise SystemExit(128 + signum)


# --- arguments -------------------------------------------------------------------------


def duration_seconds(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text)
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"expected a duration such as 10s or 1m, not {text!r}")
    return int(match.group(1)) * DURATION_UNITS_S[match.group(2)]


def non_negative_int(text: str) -> int:
    """argparse type: 0 or more, with , or _ between thousands allowed."""
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, not {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return value


# --- environment and set-up ------------------------------------------------------------


def bench_env(settings_module: str) -> dict[str, str]:
    """The app's environment: production settings over the benchmark's own PostgreSQL
    database and Redis database, one trusted proxy hop (readers.lua plays the proxy)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SCRUBBED_ENV and not k.startswith("GRANIAN_")  # granian reads them all
    }
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        SECRET_KEY="".join(secrets.choice(SECRET_ALPHABET) for _ in range(64)),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"{PG}/{PG_DB}",
        # Persistent connections, as deploy/ sets them: a new PostgreSQL connection per
        # request costs more than the whole cached page.
        DATABASE_CONN_MAX_AGE="600",
        REDIS_URL=REDIS_URL,
        MEDIA_ROOT=str(MEDIA_DIR),
        MASTHEAD_VAR_DIR=str(BENCH_DIR),
        # As deploy/ runs it: nginx writes the access log, the app only warnings and errors.
        MASTHEAD_ACCESS_LOG="false",
        MASTHEAD_TRUSTED_PROXY_HOPS="1",
        # The demo's content and test payments under production settings (load_demo and
        # bench/seed.py need the opt-in).
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


def run_python(
    argv: list[str],
    env: dict[str, str],
    deadline: Deadline,
    *,
    label: str,
    cap: float = 400,
    root: Path = ROOT,
) -> str:
    """A Python step of the set-up (manage.py, bench/seed.py); its output, or a BenchError
    that shows it. `root`: the checkout whose code and virtualenv run it (another revision's
    for bench/hotpath --baseline)."""
    python = sys.executable if root == ROOT else str(root / ".venv" / "bin" / "python")
    started = time.monotonic()
    try:
        result = subprocess.run(
            [python, *argv],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=deadline.remaining(cap=cap),
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{label} did not finish in {exc.timeout:.0f} s") from None
    if result.returncode != 0:
        sys.stderr.write(result.stdout)
        raise BenchError(f"{label} failed with exit status {result.returncode} (output above)")
    log(f"{label} ({time.monotonic() - started:.1f} s)")
    return result.stdout


def manage(
    args: list[str], env: dict[str, str], deadline: Deadline, cap: float = 400, root: Path = ROOT
) -> str:
    label = "manage.py " + " ".join(args[:2]) + ("" if root == ROOT else f" ({root})")
    argv = [str(root / "manage.py"), *args]
    return run_python(argv, env, deadline, label=label, cap=cap, root=root)


def django_snippet(
    code: str, label: str, env: dict[str, str], deadline: Deadline, root: Path = ROOT
) -> object:
    """Run `code` with `manage.py shell -c` in the benchmark's environment (with `root`'s
    code); it reports through `emit(value)`, and the value comes back from JSON."""
    prelude = f"import json\ndef emit(value):\n    print({SHELL_MARK!r} + json.dumps(value))\n"
    argv = [str(root / "manage.py"), "shell", "-c", prelude + code]
    label = f"manage.py shell: {label}" + ("" if root == ROOT else f" ({root})")
    output = run_python(argv, env, deadline, label=label, cap=120, root=root)
    for line in reversed(output.splitlines()):
        if line.startswith(SHELL_MARK):
            return json.loads(line[len(SHELL_MARK) :])
    sys.stderr.write(output)
    raise BenchError(f"manage.py shell ({label}) printed no result (output above)")


def _psql(database: str, sql: str) -> str:
    return subprocess.run(
        ["psql", f"{PG}/{database}", "-tAc", sql], capture_output=True, text=True, check=True
    ).stdout.strip()


def own_database(name: str, env: dict[str, str], articles: int) -> bool:
    """A scenario's own PostgreSQL database ``name`` (``env``'s DATABASE_URL must name it),
    made ready: created on first use with the demo loaded, migrated, seeded up to
    ``articles`` articles by bench/seed.py (only the missing ones), then VACUUM ANALYZE, for
    the planner's statistics as autovacuum would have them after a while (100,000 rows
    seeded in one transaction are otherwise planned as a dozen). True when it was created."""
    if not env["DATABASE_URL"].endswith(f"/{name}"):
        raise BenchError(f"the environment's DATABASE_URL does not name {name}")
    manage = [str(VENV_BIN / "python"), str(ROOT / "manage.py")]
    created = not _psql("postgres", f"select 1 from pg_database where datname='{name}'")
    if created:
        log(f"creating the database {name}")
        _psql("postgres", f'create database "{name}"')
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    if created:
        subprocess.run([*manage, "load_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    log(f"{name}: seeding up to {articles} articles")
    seed = [str(VENV_BIN / "python"), str(ROOT / "bench" / "seed.py"), "--articles", str(articles)]
    subprocess.run(seed, env=env, check=True, stdout=sys.stderr)  # stdout is for results
    subprocess.run(["psql", f"{PG}/{name}", "-qc", "VACUUM ANALYZE"], check=True)
    return created


def drop_database(name: str) -> None:
    _psql("postgres", f'drop database if exists "{name}"')


def redis_ping() -> None:
    """Fail early, with the reason, when Redis is not there."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        raise BenchError(f"Redis does not answer at {REDIS_URL} ({exc})", exit_code=2) from None


# --- the app server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(limit: int = 200) -> tuple[str, str]:
    """The log from its last traceback on (or its last lines), and that traceback's error."""
    try:
        lines = GUNICORN_LOG.read_text(errors="replace").splitlines()
    except OSError:
        return "(no app server log)", ""
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


def stop_gunicorn(process: subprocess.Popen) -> None:
    """Stop the app server (any, started in a session of its own) and its workers."""
    if process.poll() is None:
        process.terminate()  # SIGTERM: graceful shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # The master is not reaped yet, so its pid is still our group's id: this
            # reaches exactly the master and the workers it forked.
            log("the app server did not stop within 10 s; killing its process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    log(f"app server stopped (exit status {process.returncode})")


def wait_until_up(process: subprocess.Popen, port: int, deadline: Deadline) -> None:
    give_up = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise server_error(f"the app server exited at start-up (status {process.returncode})")
        try:
            get(port, "/", timeout=deadline.remaining(cap=5))
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    raise server_error(
        f"the app server did not answer on 127.0.0.1:{port} within {SERVER_START_TIMEOUT_S} s"
    )


# --- requests and what they must show ------------------------------------------------------


def next_client() -> str:
    n = next(_PYTHON_CLIENTS)
    return ".".join(str(n >> shift & 0xFF) for shift in (24, 16, 8, 0))


def get(
    port: int, path: str, timeout: float, cookie: str | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One GET as nginx would pass it on: https, and a client network never seen before."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = dict([PROXY_HEADER], **{"X-Forwarded-For": next_client()})
    if cookie:
        headers["Cookie"] = cookie
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


def describe_failure(path: str, status: int, headers: http.client.HTTPMessage) -> str:
    message = f"GET {path} answered {status}, expected 200"
    location = headers.get("Location")
    if location:
        message += f" (Location: {location})"
    if status >= 500:
        message += "; the server's traceback is in the log below"
    return message


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


def reader_cookie(set_cookies: list[str]) -> str | None:
    """The `Cookie` header value that sends back the reader cookie a response set."""
    for value in set_cookies:
        jar = http.cookies.SimpleCookie()
        jar.load(value)
        if READER_COOKIE in jar:
            return f"{READER_COOKIE}={jar[READER_COOKIE].coded_value}"
    return None


def keeping(cookie: str, headers: http.client.HTTPMessage) -> str:
    """The `Cookie` header value a browser sends next: `cookie` with what the response set."""
    jar = http.cookies.SimpleCookie()
    jar.load(cookie)
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return "; ".join(f"{name}={morsel.coded_value}" for name, morsel in jar.items())


def check_page(
    port: int,
    path: str,
    deadline: Deadline,
    *,
    what: str,
    cookie: str | None = None,
    paywall: bool,
    notice: bool | None = None,
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
    if problems:
        raise BenchError(
            f"GET {path}{' with a reader cookie' if cookie else ''} shows {' and '.join(problems)}"
            f"; that is not {what}, so it would not measure what it claims. Aborting."
        )
    return headers


# The metered articles a reader can reach on the default site, in page-tree order, and the
# anonymous allowance of that site's meter.
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


@dataclasses.dataclass(frozen=True)
class Article:
    pk: int
    path: str


def metered_articles(
    env: dict[str, str], deadline: Deadline, root: Path = ROOT
) -> tuple[Article, list[Article]]:
    """The article to measure, and `allowance` other metered articles that use up a
    reader's allowance before it."""
    found = django_snippet(FIND_METERED, "metered articles", env, deadline, root)
    articles = [Article(row["pk"], row["path"]) for row in found["articles"]]
    allowance = found["allowance"]
    if not articles:
        raise BenchError("the demo has no live metered article")
    target, others = articles[0], articles[1 : allowance + 1]
    if len(others) < allowance:
        raise BenchError(
            f"the exhausted reader needs {allowance} metered articles besides {target.path}; "
            f"the demo has {len(others)}"
        )
    log(f"article {target.path} (id {target.pk}); anonymous allowance {allowance}")
    return target, others


def exhausted_reader(port: int, others: list[Article], deadline: Deadline) -> str:
    """A reader who has spent the whole allowance on `others`: their `Cookie` header value,
    the one the site set last, as a browser keeps it. (A new reader's first cookie carries
    its first read unsettled; the second request settles it and sets the plain id. Sending
    the first cookie for ever would settle again on every request, which no browser does.)"""
    what = "a read within the allowance"
    headers = check_page(port, others[0].path, deadline, what=what, paywall=False, notice=True)
    cookie = reader_cookie(headers.get_all("Set-Cookie") or [])
    if cookie is None:
        raise BenchError(f"GET {others[0].path} set no {READER_COOKIE} cookie for a new reader")
    for article in others[1:]:
        headers = check_page(port, article.path, deadline, what=what, cookie=cookie, paywall=False)
        cookie = keeping(cookie, headers)
    log(f"reader has read {len(others)} other metered articles: {' '.join(a.path for a in others)}")
    return cookie


# --- wrk and the CPU time per part -------------------------------------------------------


def require_wrk() -> None:
    if not os.access(WRK, os.X_OK):
        raise BenchError(
            f"wrk not found at {WRK}. Install it with: apt-get install wrk "
            "(through sudo when not root)",
            exit_code=2,
        )


def wrk_command(
    url: str,
    threads: int,
    connections: int,
    seconds: int,
    headers: tuple[str, ...] = (),
    expect: str = "full",
    paths: Path | None = None,
) -> list[str]:
    """wrk with readers.lua: new readers behind the bench's proxy, every response checked
    for `expect` ("full", "teaser" or "any"); with `paths`, a path from that file at random
    per request instead of `url`'s."""
    return [
        WRK,
        "--latency",
        "--threads",
        str(threads),
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        # wrk's default 2 s would drop slow responses from the latency figures and count
        # them as socket errors; measure them instead.
        "--timeout",
        "10s",
        "--header",
        f"{PROXY_HEADER[0]}: {PROXY_HEADER[1]}",
        *(part for header in headers for part in ("--header", header)),
        "--script",
        str(READERS_LUA),
        url,
        "--",
        str(threads),
        expect,
        *([str(paths)] if paths else []),
    ]


def measure_wrk(
    args: argparse.Namespace,
    url: str,
    deadline: Deadline,
    headers: tuple[str, ...] = (),
    *,
    expect: str = "full",
) -> dict[str, object]:
    """wrk against `url` with readers.lua, every response checked for `expect` ("full" or
    "teaser"); its figures and the CPU milliseconds each part spent per request."""
    command = wrk_command(url, args.threads, args.connections, args.duration, headers, expect)
    log(f"running: {' '.join(shlex.quote(part) for part in command)}")
    before = cpu_sample()
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
    after = cpu_sample()
    sys.stderr.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise BenchError(f"wrk failed with exit status {result.returncode} (output above)")
    figures = parse_wrk(result.stdout, args.duration)
    if figures["non_2xx"] or figures["socket_errors"]:
        log(
            f"warning: {figures['non_2xx']} non-2xx/3xx responses and "
            f"{figures['socket_errors']} socket errors during the run"
        )
    unexpected = UNEXPECTED.search(result.stdout)
    if unexpected is None:
        raise BenchError("wrk did not report its check of the responses (readers.lua)")
    if int(unexpected.group(1)):
        raise BenchError(
            f"{unexpected.group(1)} of {figures['requests']} responses were not the {expect} "
            "text the scenario measures"
        )
    requests = max(1, int(figures.pop("requests")))
    figures["cpu_ms_per_request"] = {
        part: round(ms / requests, 3) for part, ms in cpu_ms(before, after).items()
    }
    return figures


@dataclasses.dataclass(frozen=True)
class CpuSample:
    ticks: dict[int, tuple[str, int]]  # pid -> (part, utime + stime)
    children: float  # seconds: what our reaped children (wrk) used
    busy: int  # ticks all CPUs spent on tasks (user, nice, system)
    interrupts: int  # ticks in interrupts, most of it loopback TCP on this machine


def _part(pid: int, comm: str, ours: set[int]) -> str | None:
    """Which part of the system a process is: nginx or the app (a process this script
    started, or one of theirs: the app server and its workers), redis-server (the machine's,
    or one this script started), PostgreSQL (the server's own processes and the backends
    connected to the benchmark's databases)."""
    if comm == "redis-server":
        return "redis"
    if pid in ours:
        return "nginx" if comm == "nginx" else "app"
    if comm == "postgres":
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return None
        backend = "(" in title or "[local]" in title
        ours = any(f" {name} " in title for name in (PG_DB, PG_BASELINE_DB))
        return "postgres" if not backend or ours else None
    return None


def cpu_sample() -> CpuSample:
    processes = {}  # pid -> (parent, command name, utime + stime)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(entry.path, "stat").read_text()
                comm = stat[stat.index("(") + 1 : stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2 :].split()  # from field 3, "state"
                used = int(fields[11]) + int(fields[12])  # utime + stime
                processes[int(entry.name)] = (int(fields[1]), comm, used)
    ours, parents = set(), {os.getpid()}
    while parents:  # wrk is ours too, but it runs only between the two samples
        parents = {pid for pid, (parent, *_rest) in processes.items() if parent in parents}
        ours |= parents
    ticks = {}
    for pid, (_parent, comm, used) in processes.items():
        part = _part(pid, comm, ours)
        if part:
            ticks[pid] = (part, used)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open("/proc/stat") as stat:  # cpu user nice system idle iowait irq softirq ...
        values = [int(v) for v in stat.readline().split()[1:8]]
    busy, interrupts = values[0] + values[1] + values[2], values[5] + values[6]
    return CpuSample(ticks, usage.ru_utime + usage.ru_stime, busy, interrupts)


def cpu_ms(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU milliseconds per part between two samples. A process that ended in between is
    missed (it counts from zero if it started in between). "kernel_irq" is the interrupt
    time no process is charged with (the loopback network's softirqs); "other" is every
    other process the machine ran meanwhile, the noise the figures carry."""
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    parts = dict.fromkeys(("app", "redis", "postgres"), 0.0)  # and "nginx" when it ran
    for pid, (part, used) in after.ticks.items():
        parts[part] = parts.get(part, 0.0) + (used - before.ticks.get(pid, (part, 0))[1]) * tick_ms
    parts["wrk"] = (after.children - before.children) * 1000
    parts["kernel_irq"] = (after.interrupts - before.interrupts) * tick_ms
    busy = (after.busy - before.busy) * tick_ms
    parts["other"] = max(0.0, busy - sum(parts.values()) + parts["kernel_irq"])
    return parts


def to_ms(value: str, unit: str) -> float:
    return round(float(value) * TIME_UNITS_MS[unit], 3)


def parse_wrk(output: str, duration_s: int) -> dict[str, float | int]:
    done = re.search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m|h),", output, re.MULTILINE)
    if done and to_ms(done.group(2), done.group(3)) < duration_s * 900:
        raise BenchError(f"wrk stopped early, after {done.group(2)}{done.group(3)}")
    rps = re.search(r"^Requests/sec:\s+([\d.]+)\s*$", output, re.MULTILINE)
    _, found, distribution = output.partition("Latency Distribution")
    percentiles = {
        m.group(1): to_ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", distribution, re.M)
    }
    if not done or not rps or not found or "50" not in percentiles or "99" not in percentiles:
        raise BenchError("could not parse wrk's output (above)")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests": int(done.group(1)),
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


def warn_if_busy() -> None:
    """wrk, the app and anything else running share the same CPUs: say so when it shows."""
    load = os.getloadavg()[0]
    cpus = len(os.sched_getaffinity(0))
    if load > cpus / 4:
        log(f"warning: load average {load:.2f} on {cpus} CPUs; figures will be noisy")
    else:
        log(f"load average {load:.2f} on {cpus} CPUs before the run")


def result_line(
    args: argparse.Namespace, scenario: str, figures: dict, path: str
) -> dict[str, object]:
    return {
        "scenario": scenario,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "load_average": round(os.getloadavg()[0], 2),
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
        **figures,
        "path": path,
    }
