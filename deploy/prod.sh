#!/usr/bin/env bash
# The production topology on one machine, all on 127.0.0.1, every byte of state under var/prod/:
#
#   nginx :8080 ──┬── granian :8001 ──┬── PostgreSQL :5433 (its own cluster, var/prod/pg)
#                 └── granian :8002 ──┴── Redis :6380 (its own server, var/prod/redis)
#   mail worker (manage.py db_worker --backend mail) ──┘ sends the queued e-mails
#
#   deploy/prod.sh up       start whatever is not running; migrate, collectstatic, load_demo
#   deploy/prod.sh down     stop what `up` started (by pid file); keep the data
#   deploy/prod.sh status   what runs, by pid file
#   deploy/prod.sh reload   SIGHUP the app servers: new workers on the current code, one at a
#                           time, the old ones finishing their requests (no downtime);
#                           restart the mail worker
#   deploy/prod.sh clean    down, then delete var/prod
#   deploy/prod.sh stop-app|start-app PORT, stop-redis|start-redis, stop-postgres|start-postgres
#                           one piece at a time, for the fault tests (tests/system/)
#
# `up` is idempotent: a second run starts nothing twice and only reloads nginx's config.
# It never touches the machine's own PostgreSQL (5432) or Redis (6379). Run as root, each
# service drops to its usual system user (postgres, redis, www-data for nginx and the app);
# run as anyone else, everything runs as that user. docs/production.md maps each piece to
# its systemd unit on a real host.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROD="$ROOT/var/prod"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT=5433
REDIS_PORT=6380
APP_PORTS=(8001 8002)
NGINX_PORT=8080
VENV="$ROOT/.venv"

if [ "$(id -u)" = 0 ]; then
    WEB_USER=www-data PG_USER=postgres REDIS_USER=redis APT_GET=apt-get
    id -u redis >/dev/null 2>&1 || REDIS_USER=www-data
    # The app drops to www-data too, unless its interpreter is out of www-data's reach (a
    # pyenv Python under /root, say); then it stays root and says so.
    APP_USER=www-data
    if ! runuser -u www-data -- "$VENV/bin/python" -c "" 2>/dev/null; then
        APP_USER=root
    fi
else
    WEB_USER="$(id -un)" PG_USER="$(id -un)" REDIS_USER="$(id -un)" APT_GET="sudo apt-get"
    APP_USER="$(id -un)"
fi

log() { echo "prod: $*" >&2; }
die() { log "$*"; exit 1; }

as_user() {
    local user="$1"
    shift
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

# The pid in $1 is alive and its command line contains $2 (a reused pid is not ours).
running() {
    local pid_file="$1" name="$2" pid
    [ -s "$pid_file" ] || return 1
    pid="$(head -n1 "$pid_file")"
    [ -r "/proc/$pid/cmdline" ] && grep -qa -- "$name" "/proc/$pid/cmdline"
}

# chown when running as root; as anyone else the files are theirs already.
give() {
    local user="$1"
    shift
    if [ "$(id -u)" = 0 ]; then
        chown -R "$user:" "$@"
    fi
}

port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Wait up to $2 seconds for `$3...` to succeed.
wait_for() {
    local what="$1" seconds="$2"
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
    log "$what is up"
}

http_status() {
    curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Host: 127.0.0.1" "$1" || true
}

app_answers() { [ "$(http_status "http://127.0.0.1:$1/")" = 200 ]; }

# Through nginx: /healthz once the app has it; until then the home page.
site_healthy() {
    local status
    status="$(http_status "http://127.0.0.1:$NGINX_PORT/healthz")"
    [ "$status" = 200 ] && return 0
    [ "$status" = 404 ] && [ "$(http_status "http://127.0.0.1:$NGINX_PORT/")" = 200 ]
}

install_packages() {
    local missing=()
    command -v nginx >/dev/null || missing+=(nginx-light)
    command -v redis-server >/dev/null || missing+=(redis-server)
    [ -x "$PG_BIN/initdb" ] || missing+=(postgresql-15)
    command -v curl >/dev/null || missing+=(curl)
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        $APT_GET update -qq
        DEBIAN_FRONTEND=noninteractive $APT_GET install -y -qq "${missing[@]}"
    fi
    if [ ! -e /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so ]; then
        # Optional: without the modules nginx compresses with gzip only.
        DEBIAN_FRONTEND=noninteractive $APT_GET install -y -qq \
            libnginx-mod-http-brotli-filter libnginx-mod-http-brotli-static \
            || log "brotli modules not available; gzip only"
    fi
    [ -x "$VENV/bin/granian" ] || die "$VENV/bin/granian missing: run 'make install' first"
}

make_dirs() {
    mkdir -p "$PROD"/{run,log,nginx/conf,nginx/logs,nginx/tmp,static,media,redis}
    give "$APP_USER" "$PROD"/{run,log,static,media}
    give "$WEB_USER" "$PROD/nginx"
    give "$REDIS_USER" "$PROD/redis"
}

# var/prod/env: every variable the app servers get, in a format both bash and systemd's
# EnvironmentFile read. Rewritten on each `up`, except SECRET_KEY and STRIPE_WEBHOOK_SECRET,
# generated once. The webhook secret lets signed events be posted to the local site (the
# fault tests do; so can `stripe listen --forward-to` given the same secret); set
# STRIPE_WEBHOOK_SECRET when running `up` to use another.
write_env() {
    local secret="" whsec="${STRIPE_WEBHOOK_SECRET:-}"
    [ -f "$PROD/env" ] && secret="$(sed -n 's/^SECRET_KEY=//p' "$PROD/env")"
    [ -n "$secret" ] || secret="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(64))')"
    [ -n "$whsec" ] || [ ! -f "$PROD/env" ] || whsec="$(sed -n 's/^STRIPE_WEBHOOK_SECRET=//p' "$PROD/env")"
    [ -n "$whsec" ] || whsec="whsec_$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')"
    (umask 077 && cat >"$PROD/env.new") <<EOF
# Written by deploy/prod.sh; edits are lost on the next 'make prod-up' (except SECRET_KEY
# and STRIPE_WEBHOOK_SECRET).
DJANGO_SETTINGS_MODULE=masthead.settings.production
SECRET_KEY=$secret
ALLOWED_HOSTS=127.0.0.1,localhost
DATABASE_URL=postgres://masthead@127.0.0.1:$PG_PORT/masthead
DATABASE_CONN_MAX_AGE=60
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
MASTHEAD_METER_STORE=masthead.access.meter.redis
MASTHEAD_METER_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/1
MASTHEAD_TRUSTED_PROXY_HOPS=1
# A demo on the production topology: the test payment provider (the default) and load_demo's
# accounts; production settings refuse both without this opt-in.
MASTHEAD_DEMO=true
# nginx writes the access log (with the request id it hands the app); the app logs errors.
MASTHEAD_ACCESS_LOG=false
MASTHEAD_SSL_REDIRECT=false
MASTHEAD_VAR_DIR=$PROD
MEDIA_ROOT=$PROD/media
WAGTAILADMIN_BASE_URL=http://127.0.0.1:$NGINX_PORT
# Two app servers share this machine's cores (deploy/granian.sh has the other defaults).
GRANIAN_WORKERS=$(nproc)
STRIPE_WEBHOOK_SECRET=$whsec
EOF
    give "$APP_USER" "$PROD/env.new"
    mv "$PROD/env.new" "$PROD/env"
}

start_postgres() {
    local data="$PROD/pg/data"
    if [ ! -f "$data/PG_VERSION" ]; then
        log "initdb $data"
        mkdir -p "$data"
        give "$PG_USER" "$PROD/pg"
        chmod 700 "$data"
        as_user "$PG_USER" "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth=reject >"$PROD/log/initdb.log"
        # TCP on 127.0.0.1 only, trusted; no Unix socket, so nothing else can connect.
        echo "host all all 127.0.0.1/32 trust" >"$data/pg_hba.conf"
        cat >>"$data/postgresql.conf" <<EOF

# deploy/prod.sh
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
EOF
        give "$PG_USER" "$data/pg_hba.conf"
    fi
    if as_user "$PG_USER" "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "PostgreSQL :$PG_PORT already running"
    else
        port_busy "$PG_PORT" && die "127.0.0.1:$PG_PORT is taken by something else"
        as_user "$PG_USER" "$PG_BIN/pg_ctl" -D "$data" -l "$PROD/pg/postgresql.log" -w -t 60 \
            start >/dev/null
        log "PostgreSQL :$PG_PORT started"
    fi
    local psql=("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qtAX -d postgres)
    [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname = 'masthead'")" = 1 ] \
        || "${psql[@]}" -c "create role masthead login"
    [ "$("${psql[@]}" -c "select 1 from pg_database where datname = 'masthead'")" = 1 ] \
        || "${psql[@]}" -c "create database masthead owner masthead"
}

start_redis() {
    local pid_file="$PROD/redis/redis.pid"
    cat >"$PROD/redis/redis.conf" <<EOF
# Written by deploy/prod.sh. Cache in db 0, the meter in db 1 (on a real host: two instances,
# the cache one with maxmemory + allkeys-lru, the meter one noeviction; see docs/production.md).
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $pid_file
logfile $PROD/redis/redis.log
dir $PROD/redis
save ""
appendonly yes
appendfsync everysec
EOF
    if running "$pid_file" redis-server; then
        log "Redis :$REDIS_PORT already running"
        return
    fi
    port_busy "$REDIS_PORT" && die "127.0.0.1:$REDIS_PORT is taken by something else"
    as_user "$REDIS_USER" redis-server "$PROD/redis/redis.conf"
    wait_for "Redis :$REDIS_PORT" 20 redis-cli -p "$REDIS_PORT" ping
}

django() {
    (
        set -a
        . "$PROD/env"
        set +a
        cd "$ROOT"
        as_user "$APP_USER" "$VENV/bin/python" manage.py "$@"
    )
}

prepare_app() {
    log "migrate, collectstatic, load_demo"
    django migrate --noinput >"$PROD/log/migrate.log"
    django collectstatic --noinput >"$PROD/log/collectstatic.log"
    django load_demo >"$PROD/log/load_demo.log"
}

# granian (deploy/granian.sh) in its own session, so it outlives this script and no terminal
# signal reaches it; its master writes the pid file and is stopped by it. The master and its
# workers form one process group.
start_app() {
    local port="$1" pid_file="$PROD/run/app-$1.pid"
    if running "$pid_file" granian; then
        log "app server :$port already running"
        return
    fi
    port_busy "$port" && die "127.0.0.1:$port is taken by something else"
    rm -f "$pid_file" # stale: granian refuses a pid file whose pid is alive, whatever it is
    local run=("$ROOT/deploy/granian.sh" "$port" --pid-file "$pid_file")
    # setpriv execs, so the pid in the file is granian's master and its signals reach it.
    [ "$(id -u)" = 0 ] && run=(setpriv --reuid="$APP_USER" --regid="$APP_USER" --init-groups \
        "${run[@]}")
    (
        set -a
        . "$PROD/env"
        set +a
        setsid "${run[@]}" >>"$PROD/log/app-$port.log" 2>&1 </dev/null &
    )
    wait_for "app server :$port" 60 app_answers "$port" \
        || { tail -n 30 "$PROD/log/app-$port.log" >&2; die "app server :$port did not answer"; }
}

# The mail queue's worker: sends what the app servers queued (masthead.core.mail). In its own
# session, so it outlives this script and no terminal signal reaches it; stopped by pid file.
start_worker() {
    local pid_file="$PROD/run/mail-worker.pid"
    if running "$pid_file" db_worker; then
        log "mail worker already running"
        return
    fi
    local run=("$VENV/bin/python" manage.py db_worker --backend mail --queue-name default,search --no-reload)
    # setpriv execs (runuser would stay in between and SIGKILL the worker 2 s after a TERM).
    [ "$(id -u)" = 0 ] && run=(setpriv --reuid="$APP_USER" --regid="$APP_USER" --init-groups \
        "${run[@]}")
    (
        set -a
        . "$PROD/env"
        set +a
        cd "$ROOT"
        setsid "${run[@]}" >>"$PROD/log/mail-worker.log" 2>&1 </dev/null &
        echo $! >"$pid_file"
    )
    sleep 1
    running "$pid_file" db_worker \
        || { tail -n 30 "$PROD/log/mail-worker.log" >&2; die "the mail worker did not start"; }
    log "mail worker started"
}

# SIGTERM: the worker finishes the message it is sending (EMAIL_TIMEOUT, 10 s), then exits.
stop_worker() {
    if stop_pid "$PROD/run/mail-worker.pid" db_worker 30; then log "mail worker stopped"; fi
}

nginx_conf() {
    "$ROOT/deploy/nginx/render.sh" "$PROD/nginx/conf" "$PROD/nginx" "$PROD" "$NGINX_PORT" \
        "${APP_PORTS[@]}"
}

nginx_cmd() {
    as_user "$WEB_USER" nginx -p "$PROD/nginx" -c "$PROD/nginx/conf/nginx.conf" \
        -e "$PROD/nginx/logs/error.log" "$@"
}

start_nginx() {
    nginx_conf
    nginx_cmd -t -q
    if running "$PROD/nginx/nginx.pid" nginx; then
        nginx_cmd -s reload
        log "nginx :$NGINX_PORT already running (configuration reloaded)"
    else
        port_busy "$NGINX_PORT" && die "127.0.0.1:$NGINX_PORT is taken by something else"
        nginx_cmd
        log "nginx :$NGINX_PORT started"
    fi
}

# SIGTERM the process in $1 (if it is a $2) and wait up to $3 seconds for it to exit.
stop_pid() {
    local pid_file="$1" name="$2" seconds="$3" pid
    if ! running "$pid_file" "$name"; then
        rm -f "$pid_file"
        return 1
    fi
    pid="$(head -n1 "$pid_file")"
    kill -TERM "$pid"
    local deadline=$((SECONDS + seconds))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "$name ($pid) still running after ${seconds}s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$pid_file"
}

up() {
    install_packages
    [ "$APP_USER" = root ] && log "the app servers run as root: www-data cannot run $VENV/bin/python"
    make_dirs
    write_env
    start_postgres
    start_redis
    # Migrations run before any app server starts (or while the old ones still serve), as on
    # a real deploy; they must therefore be backwards compatible with the running code.
    prepare_app
    local port
    for port in "${APP_PORTS[@]}"; do
        start_app "$port"
    done
    start_worker
    start_nginx
    wait_for "the site through nginx" 60 site_healthy || die "nginx does not answer healthily"
    cat <<EOF

Masthead's production topology is up (state in var/prod/, logs in var/prod/log/):
  site         http://127.0.0.1:$NGINX_PORT/
  admin        http://127.0.0.1:$NGINX_PORT/admin/   (admin / masthead-demo)
  health       http://127.0.0.1:$NGINX_PORT/healthz   http://127.0.0.1:$NGINX_PORT/readyz
  app servers  http://127.0.0.1:${APP_PORTS[0]}/   http://127.0.0.1:${APP_PORTS[1]}/
  PostgreSQL   postgres://masthead@127.0.0.1:$PG_PORT/masthead
  Redis        redis://127.0.0.1:$REDIS_PORT/0 (cache), /1 (meter)
  mail worker  manage.py db_worker --backend mail, log var/prod/log/mail-worker.log
               (SMTP: EMAIL_HOST, EMAIL_PORT in var/prod/env; default localhost:25)
Stop with 'make prod-down'.
EOF
}

down() {
    stop_pid "$PROD/nginx/nginx.pid" nginx 10 && log "nginx stopped"
    local port
    for port in "${APP_PORTS[@]}"; do
        # granian lets workers finish their requests for GRANIAN_WORKERS_KILL_TIMEOUT (30 s).
        stop_app "$port"
    done
    stop_worker
    stop_redis
    stop_postgres
    log "down (data kept in var/prod/)"
}

# The port in $1 must be one of ours.
app_port() {
    local port
    for port in "${APP_PORTS[@]}"; do
        [ "${1:-}" = "$port" ] && return 0
    done
    die "usage: $0 stop-app|start-app ${APP_PORTS[*]}"
}

# Each stop_* succeeds whether or not the piece was running, so `down` goes on to the next.
stop_app() {
    if stop_pid "$PROD/run/app-$1.pid" granian 40; then log "app server :$1 stopped"; fi
}

stop_redis() {
    if stop_pid "$PROD/redis/redis.pid" redis-server 20; then log "Redis :$REDIS_PORT stopped"; fi
}

stop_postgres() {
    if [ -f "$PROD/pg/data/postmaster.pid" ] \
        && as_user "$PG_USER" "$PG_BIN/pg_ctl" -D "$PROD/pg/data" status >/dev/null 2>&1; then
        as_user "$PG_USER" "$PG_BIN/pg_ctl" -D "$PROD/pg/data" -m fast -w stop >/dev/null
        log "PostgreSQL :$PG_PORT stopped"
    fi
}

# A rolling reload: one app server after the other, each on new workers only and answering
# before the next one's turn (deploy/granian-reload.sh), so nginx always has one to send
# requests to.
reload() {
    local port pid_file
    for port in "${APP_PORTS[@]}"; do
        pid_file="$PROD/run/app-$port.pid"
        if ! running "$pid_file" granian; then
            log "app server :$port is not running"
            continue
        fi
        log "app server :$port reloading"
        "$ROOT/deploy/granian-reload.sh" "$(head -n1 "$pid_file")" 180 \
            || die "app server :$port has not replaced its workers"
        wait_for "app server :$port (new workers)" 60 app_answers "$port" \
            || die "app server :$port does not answer after its reload"
    done
    # The worker has no reload: a restart puts it on the current code.
    if running "$PROD/run/mail-worker.pid" db_worker; then
        stop_worker
        start_worker
    fi
}

# Exit status 0 only when everything runs.
status() {
    local down=0 port
    report() {
        local label="$1"
        shift
        if "$@"; then
            printf '%-18s up (pid %s)\n' "$label" "$(head -n1 "$2")"
        else
            printf '%-18s down\n' "$label"
            down=1
        fi
    }
    report "nginx :$NGINX_PORT" running "$PROD/nginx/nginx.pid" nginx
    for port in "${APP_PORTS[@]}"; do
        report "app server :$port" running "$PROD/run/app-$port.pid" granian
    done
    report "mail worker" running "$PROD/run/mail-worker.pid" db_worker
    report "Redis :$REDIS_PORT" running "$PROD/redis/redis.pid" redis-server
    report "PostgreSQL :$PG_PORT" running "$PROD/pg/data/postmaster.pid" postgres
    return "$down"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    reload) reload ;;
    clean)
        down
        rm -rf "$PROD"
        log "removed var/prod"
        ;;
    # One piece at a time (tests/system/test_faults.py). The start-* commands expect the
    # rest of the topology to have been set up by `up` (var/prod/env, the database).
    stop-app) app_port "${2:-}" && stop_app "$2" ;;
    start-app) app_port "${2:-}" && start_app "$2" ;;
    stop-redis) stop_redis ;;
    start-redis) start_redis ;;
    stop-postgres) stop_postgres ;;
    start-postgres) start_postgres ;;
    *)
        echo "usage: $0 up|down|status|reload|clean" >&2
        echo "       $0 stop-app|start-app PORT, stop-redis|start-redis, stop-postgres|start-postgres" >&2
        exit 2
        ;;
esac
