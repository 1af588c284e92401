#!/usr/bin/env bash
# Prints the state of each local server: listening or not, and our pid.
# Exit code 0 if all ports are listening, 1 otherwise.
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

all_up=true

# show NAME PORT PID URL
show() {
    local state="down" owner="-"
    if port_open "$2"; then state="listening"; else all_up=false; fi
    if [[ -n $3 ]]; then
        owner="pid $3"
    elif [[ $state == listening ]]; then
        owner="not started by this clone"
    fi
    printf '[infra] %-11s %-9s %-6s %-26s %s\n' "$1" "$state" "$2" "$owner" "$4"
}

pg_resolve_dirs
show postgresql "$PG_PORT" "$(pg_pid || true)" "postgres://ferretdb:ferretdb@127.0.0.1:$PG_PORT/ferretdb  (data $PGDATA)"
show ferretdb "$FERRETDB_PORT" "$(running_pid ferretdb "$FERRETDB_MARKER" || true)" "mongodb://127.0.0.1:$FERRETDB_PORT/"
if [[ $KAFKA_BROKERS == 3 ]]; then
    for n in "${KAFKA_NODES[@]}"; do
        show "kafka-$n" "$(kafka_node_port "$n")" "$(running_pid "kafka-$n" "$(kafka_node_marker "$n")" || true)" \
            "controller $(kafka_node_controller_port "$n"), data $VAR_DIR/kafka-$n/data"
    done
    log "kafka: bootstrap $(kafka_bootstrap)"
else
    show kafka "$KAFKA_PORT" "$(running_pid kafka "$KAFKA_MARKER" || true)" "bootstrap 127.0.0.1:$KAFKA_PORT"
fi
show smtp-sink "$SMTP_PORT" "$(running_pid smtp-sink "$SMTP_MARKER" || true)" "smtp 127.0.0.1:$SMTP_PORT, http://127.0.0.1:$SMTP_HTTP_PORT/"
show smtp-web "$SMTP_HTTP_PORT" "$(running_pid smtp-sink "$SMTP_MARKER" || true)" "mail files in $VAR_DIR/mail/"
log "logs in $LOG_DIR"
$all_up
