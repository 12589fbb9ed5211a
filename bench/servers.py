"""The app servers bench/hotpath compares, each started on the same code and the same
environment: granian (what deploy/ runs), uWSGI and gunicorn; and "deploy", deploy/granian.sh
itself, for the production topology.

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
from pathlib import Path

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
    # The checkout whose code runs, with its own virtualenv's server (another revision's for
    # bench/hotpath --baseline).
    root: Path = bench.ROOT

    @property
    def bin(self) -> Path:
        return self.root / ".venv" / "bin"


def granian_command(options: Options, port: int) -> list[str]:
    """As deploy/granian.sh runs it: WSGI over HTTP/1.1, keep-alive on (nginx reuses its
    upstream connections; granian's I/O is in Rust, so an idle connection holds no Python
    thread). Its recycling and reload settings do not matter within a run."""
    return [
        str(options.bin / "granian"),
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
        str(options.root),
        "masthead.wsgi:application",
    ]


def uwsgi_command(options: Options, port: int) -> list[str]:
    """uWSGI (the pyuwsgi wheel, a dev dependency) in prefork mode, one request per
    connection like gunicorn's sync workers: uWSGI's --http11-socket keeps a worker on an
    idle keep-alive connection (about a second), so 32 connections on 4 workers would really
    measure 4."""
    return [
        str(options.bin / "uwsgi"),
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
        str(options.root),
    ]


def gunicorn_command(options: Options, port: int) -> list[str]:
    """gunicorn (a dev dependency since deploy/ moved to granian), sync workers by default."""
    return [
        str(options.bin / "gunicorn"),
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
        str(options.root),
        "--graceful-timeout",
        "5",
        "--no-control-socket",  # its default path is shared by every gunicorn of this user
        "--error-logfile",
        "-",
    ]


def deploy_command(options: Options, port: int) -> list[str]:
    """deploy/granian.sh, as `make prod-up` runs each app server: every setting of its own
    (blocking threads, recycling, timeouts, the statement timeout), the workers from
    `options` as var/prod/env's GRANIAN_WORKERS gives them."""
    return [
        str(options.root / "deploy" / "granian.sh"),
        str(port),
        "--workers",
        str(options.workers),
    ]


COMMANDS = {
    "granian": granian_command,
    "uwsgi": uwsgi_command,
    "gunicorn": gunicorn_command,
    "deploy": deploy_command,
}


def describe(server: str, options: Options) -> str:
    if options.root != bench.ROOT:
        return f"{describe(server, dataclasses.replace(options, root=bench.ROOT))}, {options.root}"
    if server == "deploy":
        return f"deploy/granian.sh, {options.workers} workers"
    if server == "granian":
        return f"granian, {options.workers} workers x {options.blocking_threads} blocking threads"
    if server == "uwsgi":
        return f"uWSGI, {options.workers} processes"
    return (
        f"gunicorn, {options.workers} {options.worker_class} workers x {options.gthreads} threads"
    )


def settings(server: str, options: Options) -> dict[str, object]:
    """The server's fields of a result line."""
    if server == "deploy":  # granian with deploy/granian.sh's one blocking thread
        return settings("granian", Options(workers=options.workers))
    return {
        "server": server,
        "blocking_threads": options.blocking_threads if server == "granian" else None,
        "worker_class": options.worker_class if server == "gunicorn" else None,
        "gthreads": options.gthreads if server == "gunicorn" else None,
    }


def start(server: str, options: Options, port: int, env: dict[str, str]) -> subprocess.Popen:
    command = COMMANDS[server](options, port)
    binary = options.bin / ("granian" if server == "deploy" else server)
    if not binary.exists():
        raise bench.BenchError(
            f"{binary} not found; run 'make install' in {options.root} (the lock file holds them)",
            exit_code=2,
        )
    # Appended to: the servers of one serving_each() share the log.
    with bench.GUNICORN_LOG.open("a") as log_file:
        # A session of its own: its master and workers form one process group, which
        # stop_gunicorn can kill as a whole if the master does not stop in time.
        return subprocess.Popen(
            command,
            cwd=options.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextlib.contextmanager
def serving_each(
    server: str,
    options: Options,
    env: dict[str, str],
    deadline: bench.Deadline,
    count: int,
    *,
    new_log: bool = True,
) -> Iterator[list[int]]:
    """`count` servers, each on a free port of its own and answering, their output in one
    log (emptied first unless `new_log` is false: another server writes there too); all
    stopped on the way out. Yields their ports."""
    if new_log:
        bench.GUNICORN_LOG.write_bytes(b"")
    ports: list[int] = []
    while len(ports) < count:
        port = bench.free_port()
        if port not in ports:
            ports.append(port)
    with contextlib.ExitStack() as stack:
        processes = []
        for port in ports:
            store = env["MASTHEAD_METER_STORE"]
            bench.log(f"127.0.0.1:{port}: {describe(server, options)}, {store}")
            processes.append(start(server, options, port, env))
            stack.callback(bench.stop_gunicorn, processes[-1])
        for process, port in zip(processes, ports, strict=True):
            bench.wait_until_up(process, port, deadline)
        yield ports


@contextlib.contextmanager
def serving(
    server: str,
    options: Options,
    env: dict[str, str],
    deadline: bench.Deadline,
    *,
    new_log: bool = True,
) -> Iterator[int]:
    """`server` on a free port, answering; stopped on the way out. Yields the port."""
    with serving_each(server, options, env, deadline, 1, new_log=new_log) as (port,):
        yield port
