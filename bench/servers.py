"""The app servers bench/hotpath compares, each started on the same code and the same
environment: granian (what deploy/ runs), uWSGI and gunicorn.

Each runs ``masthead.wsgi:application`` as a process group of its own (a master and its
forked workers) on 127.0.0.1, without an access log (deploy/ lets nginx write it), and is
stopped by SIGTERM to the master, then SIGKILL to the group after 10 s (harness.stop_gunicorn).
The settings mirror deploy/ where the comparison allows; what differs is said at each one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
from collections.abc import Iterator

import harness as bench

SERVERS = ("granian", "uwsgi", "gunicorn")
BACKLOG = "2048"


@dataclasses.dataclass(frozen=True)
class Options:
    """How many processes, and each server's own knob for threads within one."""

    workers: int
    # granian: threads per worker that run the WSGI app (--blocking-threads).
    blocking_threads: int = 1
    # gunicorn: worker class and threads per worker.
    worker_class: str = "sync"
    gthreads: int = 1


def granian_command(options: Options, port: int) -> list[str]:
    """As deploy/granian.sh runs it: WSGI over HTTP/1.1, keep-alive on (nginx reuses its
    upstream connections; granian's I/O is in Rust, so an idle connection holds no Python
    thread). Its recycling and reload settings do not matter within a run."""
    return [
        str(bench.VENV_BIN / "granian"),
        "--interface",
        "wsgi",
        "--http",
        "1",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(options.workers),
        "--blocking-threads",
        str(options.blocking_threads),
        "--backlog",
        BACKLOG,
        "--no-ws",
        "--respawn-failed-workers",
        "--working-dir",
        str(bench.ROOT),
        "masthead.wsgi:application",
    ]


def uwsgi_command(options: Options, port: int) -> list[str]:
    """uWSGI (the pyuwsgi wheel, a dev dependency) in prefork mode, one request per
    connection like gunicorn's sync workers: uWSGI's --http11-socket keeps a worker on an
    idle keep-alive connection (about a second), so 32 connections on 4 workers would really
    measure 4."""
    return [
        str(bench.VENV_BIN / "uwsgi"),
        "--module",
        "masthead.wsgi:application",
        "--http-socket",
        f"127.0.0.1:{port}",
        "--add-header",
        "Connection: close",
        "--master",
        "--processes",
        str(options.workers),
        "--lazy-apps",
        "--need-app",
        "--die-on-term",
        "--thunder-lock",
        "--listen",
        BACKLOG,
        "--disable-logging",
        "--chdir",
        str(bench.ROOT),
    ]


def gunicorn_command(options: Options, port: int) -> list[str]:
    """gunicorn (a dev dependency since deploy/ moved to granian), sync workers by default."""
    return [
        str(bench.VENV_BIN / "gunicorn"),
        "masthead.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(options.workers),
        "--worker-class",
        options.worker_class,
        "--threads",
        str(options.gthreads),
        "--backlog",
        BACKLOG,
        "--chdir",
        str(bench.ROOT),
        "--graceful-timeout",
        "5",
        "--no-control-socket",  # its default path is shared by every gunicorn of this user
        "--error-logfile",
        "-",
    ]


COMMANDS = {"granian": granian_command, "uwsgi": uwsgi_command, "gunicorn": gunicorn_command}


def describe(server: str, options: Options) -> str:
    if server == "granian":
        return f"granian, {options.workers} workers x {options.blocking_threads} blocking threads"
    if server == "uwsgi":
        return f"uWSGI, {options.workers} processes"
    return (
        f"gunicorn, {options.workers} {options.worker_class} workers x {options.gthreads} threads"
    )


def settings(server: str, options: Options) -> dict[str, object]:
    """The server's fields of a result line."""
    return {
        "server": server,
        "blocking_threads": options.blocking_threads if server == "granian" else None,
        "worker_class": options.worker_class if server == "gunicorn" else None,
        "gthreads": options.gthreads if server == "gunicorn" else None,
    }


def start(server: str, options: Options, port: int, env: dict[str, str]) -> subprocess.Popen:
    command = COMMANDS[server](options, port)
    if not (bench.VENV_BIN / command[0].rsplit("/", 1)[-1]).exists():
        raise bench.BenchError(
            f"{command[0]} not found; run 'make install' (the lock file holds them)",
            exit_code=2,
        )
    with bench.GUNICORN_LOG.open("w") as log_file:
        # A session of its own: its master and workers form one process group, which
        # stop_gunicorn can kill as a whole if the master does not stop in time.
        return subprocess.Popen(
            command,
            cwd=bench.ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextlib.contextmanager
def serving(
    server: str, options: Options, env: dict[str, str], deadline: bench.Deadline
) -> Iterator[int]:
    """`server` on a free port, answering; stopped on the way out. Yields the port."""
    port = bench.free_port()
    bench.log(f"127.0.0.1:{port}: {describe(server, options)}, {env['MASTHEAD_METER_STORE']}")
    process = start(server, options, port, env)
    try:
        bench.wait_until_up(process, port, deadline)
        yield port
    finally:
        bench.stop_gunicorn(process)
