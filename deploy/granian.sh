#!/usr/bin/env bash
# One Masthead app server: granian serving masthead.wsgi:application (WSGI) behind nginx.
#
#   deploy/granian.sh PORT [granian options...]
#
# What `make prod-up` (deploy/prod.sh, with --pid-file) and deploy/systemd/masthead@.service
# both run. It runs in the foreground; logs go to stdout/stderr (the journal under systemd).
# Every setting is an environment variable that granian reads itself (GRANIAN_*, see
# `granian --help`): set it in /etc/masthead/env (var/prod/env) to override a default below.
#
#   kill -HUP <master pid>     graceful reload: each worker in turn is replaced by one on the
#                              code now on disk, the old one finishing its requests first
#                              (systemctl reload masthead@PORT; deploy/prod.sh reload)
#   kill -TERM <master pid>    graceful stop: workers finish their requests, at most
#                              GRANIAN_WORKERS_KILL_TIMEOUT seconds
#
# docs/production.md, "The app servers", explains each choice and the timeout story.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${1:-}"
case "$PORT" in
    '' | *[!0-9]*)
        echo "usage: $0 PORT [granian options...]" >&2
        exit 2
        ;;
esac
shift
GRANIAN="$ROOT/.venv/bin/granian"
[ -x "$GRANIAN" ] || { echo "$0: $GRANIAN missing: run 'make install' first" >&2; exit 1; }

# nginx on this machine is the only client; a host of its own behind a private address
# sets GRANIAN_HOST. Headers pass through untouched (granian has no forwarded-ips logic):
# Django reads X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER) and the app X-Forwarded-For
# (MASTHEAD_TRUSTED_PROXY_HOPS), both written by nginx.
export GRANIAN_INTERFACE=wsgi
export GRANIAN_HOST="${GRANIAN_HOST:-127.0.0.1}"
export GRANIAN_PORT="$PORT"
# nginx speaks HTTP/1.1 with keep-alive to its upstreams; no WebSockets here.
export GRANIAN_HTTP="${GRANIAN_HTTP:-1}"
export GRANIAN_WEBSOCKETS=false

# Processes do the work (the app is synchronous Django); each runs the app on
# GRANIAN_BLOCKING_THREADS threads, while granian's own HTTP handling runs in Rust, outside
# the GIL. One thread: a second one overlapped the short waits on PostgreSQL and Redis but
# waited for the GIL behind the first (Python hands it over every 5 ms), which cost more than
# it saved (docs/production.md: p99 56 -> 27 ms, +44 % requests/s). An idle keep-alive
# connection from nginx costs no thread. One app server per host: one worker per core. Two
# on one host (make prod-up) share its cores: set GRANIAN_WORKERS per instance.
export GRANIAN_WORKERS="${GRANIAN_WORKERS:-$(nproc)}"
export GRANIAN_BLOCKING_THREADS="${GRANIAN_BLOCKING_THREADS:-1}"
# Idle threads are kept (600 s, the most granian allows) with their persistent database
# connections (DATABASE_CONN_MAX_AGE), rather than reconnecting after every lull.
export GRANIAN_BLOCKING_THREADS_IDLE_TIMEOUT="${GRANIAN_BLOCKING_THREADS_IDLE_TIMEOUT:-600}"

# A worker that exits unexpectedly (killed, crashed) is replaced at once. One that dies
# again within 5.5 s of being replaced is a crash loop: the master exits, and systemd
# restarts the whole server (Restart=on-failure).
export GRANIAN_RESPAWN_FAILED_WORKERS=true
# A graceful replacement (reload, recycling) starts the new worker, waits this long, then
# stops the old one. granian does not wait for the new one to be ready, and each worker
# listens on a socket of its own (SO_REUSEPORT) that it opens once the app is imported: this
# must exceed the import time (about 2 s on an idle host, up to 20 s measured on a 2-core
# machine at load 12), or a reload leaves moments with no worker listening.
export GRANIAN_RESPAWN_INTERVAL="${GRANIAN_RESPAWN_INTERVAL:-5}"
# Recycling, in place of gunicorn's max_requests: a worker is replaced gracefully after
# GRANIAN_WORKERS_LIFETIME, or sooner when its resident memory stays over
# GRANIAN_WORKERS_MAX_RSS MiB (a worker serving the demo holds 120-220), so a slow leak
# cannot grow without bound.
export GRANIAN_WORKERS_LIFETIME="${GRANIAN_WORKERS_LIFETIME:-6h}"
export GRANIAN_WORKERS_MAX_RSS="${GRANIAN_WORKERS_MAX_RSS:-600}"
# A worker being stopped (reload, recycling, SIGTERM) finishes its requests for at most this
# long, then is killed: as long as nginx waits for an answer (proxy_read_timeout 30 s).
export GRANIAN_WORKERS_KILL_TIMEOUT="${GRANIAN_WORKERS_KILL_TIMEOUT:-30}"

# The per-request timeout. granian cannot interrupt a request the way gunicorn's `timeout`
# killed its worker: nginx answers 504 after proxy_read_timeout (30 s), and what a request
# waits on is bounded in the app itself: PostgreSQL cancels a statement after
# DATABASE_STATEMENT_TIMEOUT_MS (set here for the app servers only, so migrations and other
# management commands are not cut short), Redis calls time out after 0.5 s, Stripe after
# STRIPE_TIMEOUT_SECONDS, the database connection after DATABASE_CONNECT_TIMEOUT.
export DATABASE_STATEMENT_TIMEOUT_MS="${DATABASE_STATEMENT_TIMEOUT_MS:-25000}"

# Request headers: nginx answers oversized ones itself (large_client_header_buffers 4 x 8k);
# this only bounds a request that bypassed nginx.
export GRANIAN_HTTP1_BUFFER_SIZE="${GRANIAN_HTTP1_BUFFER_SIZE:-65536}"
# An idle keep-alive connection is closed after this (ms); nginx's upstream keepalive_timeout
# (20 s) is shorter, so nginx closes first and never sends a request into a closing one.
export GRANIAN_HTTP1_HEADER_READ_TIMEOUT="${GRANIAN_HTTP1_HEADER_READ_TIMEOUT:-30000}"

# nginx writes the access log (JSON, with the request id it hands the app and the upstream
# that answered). GRANIAN_LOG_ACCESS_ENABLED=true adds granian's own line per request.
export GRANIAN_LOG_LEVEL="${GRANIAN_LOG_LEVEL:-info}"

cd "$ROOT"
exec "$GRANIAN" --working-dir "$ROOT" "$@" masthead.wsgi:application
