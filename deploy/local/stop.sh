#!/usr/bin/env bash
# Stops the local infrastructure started by start.sh (this clone's servers
# only): SIGTERM via the pid files, wait, SIGKILL after a timeout;
# PostgreSQL with `pg_ctl stop -m fast`.
#   stop.sh [smtp-sink|kafka|ferretdb|postgresql ...]   # only those (default: all four)
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STOP_TIMEOUT="${INFRA_STOP_TIMEOUT:-30}"

# stop_process NAME MARKER
stop_process() {
    local name="$1" pid i
    if ! pid="$(running_pid "$name" "$2")"; then
        log "$name: not running"
        rm -f "$RUN_DIR/$name.pid"
        return
    fi
    log "$name: stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        pid_alive "$pid" || break
        sleep 0.1
    done
    if pid_alive "$pid"; then
        log "$name: still running after ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$name.pid"
    log "$name: stopped"
}

stop_postgres() {
    pg_resolve_dirs
    if ! pg_pid >/dev/null; then
        log "postgresql: not running"
        return
    fi
    log "postgresql: stopping (pid $(pg_pid), data $PGDATA)"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t "$STOP_TIMEOUT" stop >>"$LOG_DIR/postgresql.log" 2>&1 ||
        die "pg_ctl stop failed, see $LOG_DIR/postgresql.log"
    log "postgresql: stopped"
}

mkdir -p "$LOG_DIR" "$RUN_DIR"
(($#)) || set -- smtp-sink kafka ferretdb postgresql
for name in "$@"; do
    case $name in
        smtp-sink) stop_process smtp-sink "$SMTP_MARKER" ;;
        kafka) stop_process kafka "$KAFKA_MARKER" ;;
        ferretdb) stop_process ferretdb "$FERRETDB_MARKER" ;;
        postgresql) stop_postgres ;;
        *) die "unknown server '$name' (smtp-sink, kafka, ferretdb, postgresql)" ;;
    esac
done
