#!/usr/bin/env bash
# Stops the local infrastructure started by start.sh (this clone's servers
# only): SIGTERM via the pid files, wait, SIGKILL after a timeout;
# PostgreSQL with `pg_ctl stop -m fast`.
#   stop.sh [smtp-sink|kafka|ferretdb|postgresql ...]   # only those (default: all four)
#   stop.sh kafka-2                                     # one node of the 3-node cluster
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

any_alive() {
    local pid
    for pid in "$@"; do pid_alive "$pid" && return 0; done
    return 1
}

# stop_together NAME MARKER [NAME MARKER ...]: SIGTERM to all at once, then wait (the nodes
# of the Kafka cluster: stopped one after the other, the last ones would wait for a quorum).
stop_together() {
    local names=() pids=() pid i
    while (($#)); do
        if pid="$(running_pid "$1" "$2")"; then
            log "$1: stopping (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            names+=("$1") pids+=("$pid")
        else
            log "$1: not running"
            rm -f "$RUN_DIR/$1.pid"
        fi
        shift 2
    done
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        any_alive "${pids[@]}" || break
        sleep 0.1
    done
    for i in "${!pids[@]}"; do
        if pid_alive "${pids[$i]}"; then
            log "${names[$i]}: still running after ${STOP_TIMEOUT}s, sending SIGKILL"
            kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
        rm -f "$RUN_DIR/${names[$i]}.pid"
        log "${names[$i]}: stopped"
    done
}

# The Kafka of this instance: the single node and any node of the 3-node cluster that has a
# pid file (whatever KAFKA_BROKERS says now).
stop_kafka() {
    local n nodes=()
    if [[ $KAFKA_BROKERS == 1 || -f $RUN_DIR/kafka.pid ]]; then stop_process kafka "$KAFKA_MARKER"; fi
    for n in "${KAFKA_NODES[@]}"; do
        [[ -f $RUN_DIR/kafka-$n.pid ]] && nodes+=("kafka-$n" "$(kafka_node_marker "$n")")
    done
    ((${#nodes[@]} == 0)) || stop_together "${nodes[@]}"
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
        kafka) stop_kafka ;;
        kafka-[123]) stop_process "$name" "$(kafka_node_marker "${name#kafka-}")" ;;
        ferretdb) stop_process ferretdb "$FERRETDB_MARKER" ;;
        postgresql) stop_postgres ;;
        *) die "unknown server '$name' (smtp-sink, kafka, kafka-1|2|3, ferretdb, postgresql)" ;;
    esac
done
