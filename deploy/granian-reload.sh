#!/usr/bin/env bash
# Reload one granian app server and return once it is done:
#
#   deploy/granian-reload.sh MASTER_PID [SECONDS]
#
# SIGHUP makes granian's master replace its workers one at a time (a new worker started,
# GRANIAN_RESPAWN_INTERVAL, the old one stopped after its requests), but the signal returns at
# once. This waits until none of the workers from before the signal is left (at most SECONDS,
# default 180), so that reloading app servers one after the other is a rolling reload: the
# next one starts only when this one runs entirely on new workers. systemd's ExecReload for
# masthead@.service and `deploy/prod.sh reload` both use it.
set -euo pipefail

master="${1:-}"
seconds="${2:-180}"
case "$master" in
    '' | *[!0-9]*)
        echo "usage: $0 MASTER_PID [SECONDS]" >&2
        exit 2
        ;;
esac
grep -qa granian "/proc/$master/cmdline" 2>/dev/null \
    || { echo "$0: $master is not a running granian" >&2; exit 1; }

old="$(cat /proc/"$master"/task/*/children)"
kill -HUP "$master"
deadline=$((SECONDS + seconds))
for pid in $old; do
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "$0: worker $pid of $master still running after ${seconds}s" >&2
            exit 1
        fi
        sleep 0.5
    done
done
