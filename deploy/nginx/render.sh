#!/usr/bin/env bash
# local.conf.template filled in: CONF_DIR/nginx.conf, with this directory's snippets copied
# beside it (nginx reads `include snippets/...` from the configuration's directory).
#
#   deploy/nginx/render.sh CONF_DIR PREFIX VAR_DIR NGINX_PORT APP_PORT...
#
# PREFIX holds nginx's pid file, logs/ and tmp/; VAR_DIR the static/ and media/ it serves;
# the app ports are the upstreams, in order (@APP_PORT_1@, @APP_PORT_2@, ...). Brotli where
# its modules are installed (in NGINX_MODULES_DIR, default /usr/lib/nginx/modules), gzip only
# otherwise. A placeholder left unfilled (more upstreams than ports) is an error. Used by
# deploy/prod.sh (make prod-up) and bench/hotpath --topology prod.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$#" -lt 5 ]; then
    echo "usage: $0 CONF_DIR PREFIX VAR_DIR NGINX_PORT APP_PORT..." >&2
    exit 2
fi
conf_dir="$1" prefix="$2" var_dir="$3" nginx_port="$4"
shift 4

modules_dir="${NGINX_MODULES_DIR:-/usr/lib/nginx/modules}"
modules="" brotli=""
for mod in brotli_filter brotli_static; do
    if [ -e "$modules_dir/ngx_http_${mod}_module.so" ]; then
        modules+="load_module $modules_dir/ngx_http_${mod}_module.so;"$'\n'
    fi
done
[ -z "$modules" ] || brotli="include snippets/masthead-brotli.conf;"

fill=(-e "s|@PREFIX@|$prefix|g" -e "s|@VAR_DIR@|$var_dir|g"
    -e "s|@NGINX_PORT@|$nginx_port|g" -e "s|@INCLUDE_BROTLI@|$brotli|g")
n=1
for port in "$@"; do
    fill+=(-e "s|@APP_PORT_$n@|$port|g")
    n=$((n + 1))
done
conf="$(sed "${fill[@]}" "$here/local.conf.template" \
    | MODULES="$modules" awk '/@LOAD_MODULES@/ { printf "%s", ENVIRON["MODULES"]; next } { print }')"
left="$(grep -o '@[A-Z0-9_][A-Z0-9_]*@' <<<"$conf" | sort -u | tr '\n' ' ' || true)"
if [ -n "$left" ]; then
    echo "$0: $here/local.conf.template has ${left% }, which were not filled in" >&2
    exit 1
fi

mkdir -p "$conf_dir"
rm -rf "$conf_dir/snippets"
cp -r "$here/snippets" "$conf_dir/snippets"
printf '%s\n' "$conf" >"$conf_dir/nginx.conf.new"
mv "$conf_dir/nginx.conf.new" "$conf_dir/nginx.conf"
