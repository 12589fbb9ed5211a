"""Benchmark the anonymous article page: gunicorn (production settings) driven by wrk.

Run it as ``bench/article`` from the repository root (the wrapper execs this file with the
virtualenv's Python). Standard library only. Everything happens on 127.0.0.1, in a fresh
SQLite database under var/bench/, and the run is bounded in time. The result is one JSON
line on stdout; progress and diagnostics go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

SCENARIO = "anonymous_article"
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
    "MASTHEAD_SSL_REDIRECT",
    "REDIS_URL",
)

SERVER_START_TIMEOUT_S = 30
# Everything but the wrk run itself must fit in this; with the default 10 s run the
# whole script stays under two minutes even when every step is slow.
FIXED_BUDGET_S = 95
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
        "(production settings, fresh SQLite demo database), measured with wrk on 127.0.0.1.",
    )
    parser.add_argument("--workers", type=positive_int, default=2, help="gunicorn sync workers")
    parser.add_argument("--connections", type=positive_int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=positive_int, default=2, help="wrk threads")
    parser.add_argument(
        "--duration", type=duration_seconds, default=10, help="wrk run time (10s, 1m; default 10s)"
    )
    parser.add_argument(
        "--path", type=article_path, help="article to request (default: first /world/ link on /)"
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
    return args


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
    for name in (DB_PATH.name, f"{DB_PATH.name}-journal", f"{DB_PATH.name}-wal"):
        (BENCH_DIR / name).unlink(missing_ok=True)
    (BENCH_DIR / f"{DB_PATH.name}-shm").unlink(missing_ok=True)
    for directory in (MEDIA_DIR, STATIC_DIR):
        shutil.rmtree(directory, ignore_errors=True)


def manage(args: list[str], env: dict[str, str], deadline: Deadline) -> None:
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    label = "manage.py " + " ".join(args)
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
    if args[0] == "load_demo" and len(lines) > 1:
        summary = lines[0].strip()  # "Created N objects."; the next line is the admin login
    log(f"{label}: {summary} ({time.monotonic() - started:.1f} s)")


# --- gunicorn --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(lines: int = 60) -> str:
    try:
        text = GUNICORN_LOG.read_text(errors="replace")
    except OSError:
        return "(no gunicorn log)"
    return "\n".join(text.splitlines()[-lines:])


def server_error(message: str) -> BenchError:
    return BenchError(f"{message}\n--- last lines of {GUNICORN_LOG} ---\n{log_tail()}\n---")


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
            log("gunicorn did not stop within 10 s; killing its process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    # Workers that outlived their master (killed master) are in the same group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    log(f"gunicorn stopped (exit status {process.returncode})")


def get(port: int, path: str, timeout: float = 10) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=dict([PROXY_HEADER]))
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


def wait_until_up(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise server_error(f"gunicorn exited during start-up (status {process.returncode})")
        try:
            get(port, "/", timeout=5)
            return
        except (ConnectionError, TimeoutError, http.client.HTTPException, OSError):
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


def pick_article(port: int) -> str:
    status, headers, body = get(port, "/")
    if status != 200:
        raise server_error(describe_failure("/", status, headers) + " (needed to find an article)")
    match = ARTICLE_LINK.search(body.decode("utf-8", errors="replace"))
    if not match:
        raise BenchError("no /world/<slug>/ link on the home page; pass --path /world/<slug>/")
    return match.group(1)


def warm_up(port: int, path: str, count: int) -> None:
    for _ in range(count):
        status, headers, body = get(port, path)
        if status != 200:
            raise server_error(describe_failure(path, status, headers))
    notes = [f"{len(body)} bytes"]
    for name in ("Cache-Control", "Vary", "Set-Cookie"):
        notes.append(f"{name}: {headers.get(name, '-')}")
    log(f"GET {path} -> 200 after {count} warm-up requests ({'; '.join(notes)})")


# --- wrk -------------------------------------------------------------------------------


def run_wrk(args: argparse.Namespace, url: str, deadline: Deadline) -> str:
    if not os.access(WRK, os.X_OK):
        raise BenchError(
            f"wrk not found at {WRK}. Install it with: sudo apt-get install wrk", exit_code=2
        )
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
        url,
    ]
    log(f"running: {' '.join(command)}")
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=min(args.duration + 30, args.duration + deadline.remaining()),
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


def parse_wrk(output: str) -> dict[str, float | int]:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)\s*$", output, re.MULTILINE)
    _, found, distribution = output.partition("Latency Distribution")
    percentiles = dict(
        (m.group(1), to_ms(m.group(2), m.group(3)))
        for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", distribution, re.M)
    )
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
    return f"{cpus} CPU, {model}, Python {platform.python_version()}"


def benchmark(args: argparse.Namespace) -> dict[str, object]:
    deadline = Deadline(FIXED_BUDGET_S + args.duration)
    if not os.access(WRK, os.X_OK):  # fail before spending time on the setup
        run_wrk(args, "", deadline)
    env = bench_env(args.settings)
    log(f"fresh database {DB_PATH.relative_to(ROOT)} with {args.settings}")
    reset_bench_dir()
    manage(["migrate", "--noinput"], env, deadline)
    manage(["load_demo"], env, deadline)
    manage(["collectstatic", "--noinput"], env, deadline)

    port = free_port()
    log(f"starting gunicorn on 127.0.0.1:{port}, {args.workers} sync workers")
    process = start_gunicorn(port, args.workers, env)
    try:
        wait_until_up(process, port)
        path = args.path or pick_article(port)
        warm_up(port, path, args.warmup)
        output = run_wrk(args, f"http://127.0.0.1:{port}{path}", deadline)
        if process.poll() is not None:
            raise server_error(f"gunicorn exited during the run (status {process.returncode})")
    finally:
        stop_gunicorn(process)
    figures = parse_wrk(output)
    if figures["non_2xx"] or figures["socket_errors"]:
        log(
            f"warning: {figures['non_2xx']} non-2xx/3xx responses and "
            f"{figures['socket_errors']} socket errors during the run"
        )
    return {
        "scenario": SCENARIO,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
        **figures,
        "path": path,
    }


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    started = time.monotonic()
    try:
        with bench_lock():
            result = benchmark(args)
    except BenchError as exc:
        log(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    log(f"done in {time.monotonic() - started:.0f} s")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
