"""gunicorn settings for one Masthead app server behind nginx.

    gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:8001 masthead.wsgi:application

Every value can be overridden from the environment (GUNICORN_*) or the command line.

Worker class: gthread. The app is synchronous Django, so the request work is done by
processes; threads only overlap the short waits on PostgreSQL and Redis. What decides it is
the connection to nginx: sync workers close the connection after every response, so at a few
thousand requests a second nginx would open as many TCP connections to the app per second and
leave each in TIME_WAIT for a minute, which runs 127.0.0.1 out of ephemeral ports within
seconds. gthread workers keep the upstream connections of nginx's `keepalive` pool alive.
Slow clients are no reason for async workers here: nginx buffers whole requests and responses
(masthead-proxy.conf), so a worker only ever talks to nginx on the same machine.
"""

import json
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# One machine, one app server: the usual 2 x cores + 1. Several app servers on one machine
# (make prod-up runs two) share the cores, so set GUNICORN_WORKERS per instance.
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 2)
# Idle keep-alive connections a worker holds for nginx, beyond the busy threads.
worker_connections = 100
# Longer than nginx's upstream keepalive_timeout (60 s), so nginx closes an idle connection
# first and never sends a request into one gunicorn is closing.
keepalive = 75

# A worker that has not reported to the master for this long is killed and replaced; a
# request that takes this long is a bug (nginx gives up after proxy_read_timeout = 30 s).
timeout = _int("GUNICORN_TIMEOUT", 30)
# SIGTERM or SIGHUP: workers finish their requests within this before being killed.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Recycle workers now and then, staggered, so a slow leak cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20_000)
max_requests_jitter = max_requests // 10
# Not preloaded: SIGHUP (systemctl reload) then starts workers on the newly deployed code.
preload_app = False
# The heartbeat file on tmpfs, so a slow disk cannot make healthy workers look dead
# (gunicorn creates it with mkstemp, so a shared directory is safe).
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

# Slightly above nginx's large_client_header_buffers (4 x 8k): nginx answers oversized
# requests with 400/414 itself, these only guard a request that bypassed nginx.
limit_request_line = 8190
limit_request_field_size = 16_384
limit_request_fields = 100

# nginx on this machine is the only client; the app reads the client address from
# X-Forwarded-For itself (MASTHEAD_TRUSTED_PROXY_HOPS).
forwarded_allow_ips = "127.0.0.1,::1"
proxy_protocol = False

# nginx writes the access log (JSON, with the upstream that answered). Set
# GUNICORN_ACCESS_LOG=- to have gunicorn write one JSON object per request as well.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = json.dumps(
    {
        "time": "%(t)s",
        "remote_addr": "%({x-forwarded-for}i)s",
        "request_id": "%({x-request-id}i)s",
        "method": "%(m)s",
        "path": "%(U)s",
        "status": "%(s)s",
        "bytes": "%(B)s",
        "duration_us": "%(D)s",
        "pid": "%(p)s",
    }
)
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
capture_output = True
proc_name = "masthead"
# gunicorn's control socket (gunicornc) defaults to one path per user, which two instances
# on one host would fight over; they are managed by signals (systemctl reload/restart).
control_socket_disable = True
