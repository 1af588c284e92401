#!/usr/bin/env bash
# Starts the local infrastructure (each one only if not already listening)
# and waits until each server really answers:
#   PostgreSQL 15  127.0.0.1:5432   (own cluster; database/role ferretdb)
#   FerretDB       127.0.0.1:27017  (MongoDB protocol, PostgreSQL backend)
#   Kafka (KRaft)  127.0.0.1:9092   (controller on 9093; KAFKA_BROKERS=3: three nodes on
#                                    9092/9094/9096, controllers 9093/9095/9097)
#   SMTP sink      127.0.0.1:1025   (web listing on 8025)
# Data, logs and pid files go to var/ (INFRA_VAR_DIR). Run `make install` first
# (install.sh and `uv sync`: the SMTP sink and the readiness checks use .venv/bin/python).
#   start.sh [postgresql|ferretdb|kafka|smtp-sink ...]   # only those (default: all four)
#   start.sh kafka-2                                      # one node of the 3-node cluster
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_TIMEOUT="${INFRA_PG_TIMEOUT:-30}"
FERRETDB_TIMEOUT="${INFRA_FERRETDB_TIMEOUT:-30}"
KAFKA_TIMEOUT="${INFRA_KAFKA_TIMEOUT:-60}"
SMTP_TIMEOUT="${INFRA_SMTP_TIMEOUT:-15}"

# Prints the end of the given log files and exits non-zero.
fail() {
    local msg="$1" file
    shift
    echo "[infra] ERROR: $msg" >&2
    for file in "$@"; do
        [[ -f $file ]] || continue
        echo "[infra] --- last 30 lines of $file" >&2
        tail -n 30 "$file" >&2
    done
    exit 1
}

# --- PostgreSQL ---------------------------------------------------------------
start_postgres() {
    local logfile="$LOG_DIR/postgresql.log"
    pg_resolve_dirs
    [[ $PG_BASE == "$VAR_DIR/pg" ]] || log "postgresql: the postgres user cannot reach $VAR_DIR, using $PG_BASE"
    mkdir -p "$PG_BASE"
    [[ $EUID -ne 0 ]] || chown postgres: "$PG_BASE"

    if [[ ! -f $PGDATA/PG_VERSION ]]; then
        log "postgresql: initdb $PGDATA"
        rm -rf "$PGDATA"
        as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >>"$logfile" 2>&1 ||
            fail "initdb failed" "$logfile"
    fi

    if pg_pid >/dev/null; then
        log "postgresql: already running (pid $(pg_pid)), data $PGDATA"
    elif port_open "$PG_PORT"; then
        log "postgresql: port $PG_PORT already in use by another server, using it"
    else
        if [[ -f $PGDATA/postmaster.pid ]]; then
            log "postgresql: removing stale postmaster.pid"
            rm -f "$PGDATA/postmaster.pid"
        fi
        log "postgresql: starting on 127.0.0.1:$PG_PORT, data $PGDATA"
        # The server keeps pg_ctl's stdout/stderr, i.e. our log file (opened here,
        # so it works even when the postgres user cannot reach var/).
        # synchronous_commit=off: a commit does not wait for its WAL flush (2.2 ms against
        # 0.4 ms a commit on the shared VM, and FerretDB commits every write). A crash of the
        # machine may lose the last ~0.6 s of writes: acceptable for this stack (development,
        # CI, benchmarks); production runs MongoDB with its own write concern (issue 24).
        # plan_cache_mode=force_custom_plan: FerretDB sends a lookup as the prepared
        # `_jsonb -> $1 @> $2`; after five runs PostgreSQL may keep a generic plan, in which
        # `$1` cannot match an index's `_jsonb -> 'field'`, so every lookup became a sequential
        # scan (10 ms, 734 blocks a find_one at 3,000 applications) until the next ANALYZE.
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -w -t "$PG_TIMEOUT" start \
            -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PG_SOCKET_DIR' -c synchronous_commit=off -c plan_cache_mode=force_custom_plan -c max_connections=$((FERRETDB_PG_CONNS + 60))" >>"$logfile" 2>&1 ||
            fail "postgresql did not start" "$logfile"
    fi
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t "$PG_TIMEOUT" ||
        fail "postgresql not ready on port $PG_PORT" "$logfile"

    # Role and database for FerretDB (trust auth on localhost; password set anyway).
    local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tA)
    if [[ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'ferretdb'")" ]]; then
        log "postgresql: creating role ferretdb"
        "${psql[@]}" -c "CREATE ROLE ferretdb LOGIN PASSWORD 'ferretdb'"
    fi
    if [[ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'")" ]]; then
        log "postgresql: creating database ferretdb"
        "${psql[@]}" -c "CREATE DATABASE ferretdb OWNER ferretdb"
    fi
    log "postgresql: ready (postgres://ferretdb:ferretdb@127.0.0.1:$PG_PORT/ferretdb)"
}

# --- FerretDB -----------------------------------------------------------------
# FerretDB 1.24 takes its registry's write lock (a new database or collection) and then waits
# for a PostgreSQL connection, while requests holding connections wait for that lock: with its
# pool (50 by default) exhausted it stopped answering for good (50 idle connections, no ping;
# issue 24). A larger pool, and a bounded pool on our side (MONGODB_MAX_POOL_SIZE per
# process), keep a connection free for the lock's holder.
FERRETDB_PG_CONNS=${INFRA_FERRETDB_PG_CONNS:-400}

start_ferretdb() {
    local logfile="$LOG_DIR/ferretdb.log" pid
    [[ -x $FERRETDB_BIN ]] || die "$FERRETDB_BIN missing: run deploy/local/install.sh"
    if pid="$(running_pid ferretdb "$FERRETDB_MARKER")"; then
        log "ferretdb: already running (pid $pid)"
    elif port_open "$FERRETDB_PORT"; then
        log "ferretdb: port $FERRETDB_PORT already in use by another server, using it"
        pid=""
    else
        log "ferretdb: starting on 127.0.0.1:$FERRETDB_PORT"
        nohup "$FERRETDB_BIN" --listen-addr "127.0.0.1:$FERRETDB_PORT" \
            --postgresql-url "postgres://ferretdb:ferretdb@127.0.0.1:$PG_PORT/ferretdb?pool_max_conns=$FERRETDB_PG_CONNS" \
            >>"$logfile" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$RUN_DIR/ferretdb.pid"
    fi
    "$VENV_PYTHON" "$LOCAL_DIR/wait_ready.py" mongo "127.0.0.1:$FERRETDB_PORT" --timeout "$FERRETDB_TIMEOUT" ${pid:+--pid "$pid"} ||
        fail "ferretdb not answering on port $FERRETDB_PORT" "$logfile"
    log "ferretdb: ready (mongodb://127.0.0.1:$FERRETDB_PORT/)"
}

# --- Kafka (single node, KRaft) -----------------------------------------------
write_kafka_config() {
    cat >"$VAR_DIR/kafka/server.properties" <<EOF
# Generated by deploy/local/start.sh (rewritten on every start).
# Changing the controller port needs a fresh var/kafka/data (it is stored there).
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$VAR_DIR/kafka/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
EOF
}

# Short-lived Kafka tools (storage format, health check): quick JVM start.
kafka_java() {
    java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dkafka.logs.dir="$LOG_DIR" -Dlog4j2.configurationFile="$LOCAL_DIR/kafka-log4j2.properties" "$@"
}

start_kafka_single() {
    local logfile="$LOG_DIR/kafka.log" outfile="$LOG_DIR/kafka.out" pid
    local config="$VAR_DIR/kafka/server.properties" data="$VAR_DIR/kafka/data"
    [[ -f $KAFKA_LIBS/.complete && -f $KAFKA_HEALTHCHECK_DIR/KafkaHealthCheck.class ]] ||
        die "Kafka jars missing: run deploy/local/install.sh"
    if pid="$(running_pid kafka "$KAFKA_MARKER")"; then
        log "kafka: already running (pid $pid)"
    elif port_open "$KAFKA_PORT"; then
        log "kafka: port $KAFKA_PORT already in use by another server, using it"
        pid=""
    else
        mkdir -p "$VAR_DIR/kafka"
        write_kafka_config
        if [[ ! -f $data/meta.properties ]]; then
            if [[ -e $data ]]; then
                log "kafka: $data has no meta.properties, wiping it"
                rm -rf "$data"
            fi
            local cluster_id
            cluster_id="$(kafka_java -Dkafka.log.file=kafka-tools.log -cp "$KAFKA_CP" kafka.tools.StorageTool random-uuid)"
            log "kafka: formatting storage (cluster id $cluster_id)"
            kafka_java -Dkafka.log.file=kafka-tools.log -cp "$KAFKA_CP" kafka.tools.StorageTool \
                format --standalone -t "$cluster_id" -c "$config" >>"$outfile" 2>&1 ||
                fail "kafka storage format failed" "$outfile"
        fi
        log "kafka: starting on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
        nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
            -Dkafka.logs.dir="$LOG_DIR" -Dlog4j2.configurationFile="$LOCAL_DIR/kafka-log4j2.properties" \
            -cp "$KAFKA_CP" kafka.Kafka "$config" >>"$outfile" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$RUN_DIR/kafka.pid"
    fi
    local started=$SECONDS
    "$VENV_PYTHON" "$LOCAL_DIR/wait_ready.py" tcp "127.0.0.1:$KAFKA_PORT" --timeout "$KAFKA_TIMEOUT" ${pid:+--pid "$pid"} ||
        fail "kafka not listening on port $KAFKA_PORT" "$logfile" "$outfile"
    log "kafka: listening, checking metadata + produce/consume on topic _healthcheck"
    local left=$((KAFKA_TIMEOUT - (SECONDS - started)))
    ((left >= 20)) || left=20
    kafka_java -Dkafka.log.file=kafka-tools.log -Dkafka.log.level=WARN -cp "$KAFKA_HEALTHCHECK_DIR:$KAFKA_CP" \
        KafkaHealthCheck "127.0.0.1:$KAFKA_PORT" "$left" ||
        fail "kafka health check failed" "$logfile" "$outfile" "$LOG_DIR/kafka-tools.log"
    log "kafka: ready (bootstrap 127.0.0.1:$KAFKA_PORT)"
}

# --- Kafka (three nodes, KRaft, KAFKA_BROKERS=3) ------------------------------
write_kafka_node_config() {
    local n="$1" voters=() m port controller
    for m in "${KAFKA_NODES[@]}"; do voters+=("$m@127.0.0.1:$(kafka_node_controller_port "$m")"); done
    port="$(kafka_node_port "$n")"
    controller="$(kafka_node_controller_port "$n")"
    cat >"$(kafka_node_marker "$n")" <<EOF
# Generated by deploy/local/start.sh (rewritten on every start): node $n of 3 (KAFKA_BROKERS=3).
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(IFS=,; echo "${voters[*]}")
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$VAR_DIR/kafka-$n/data
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
auto.create.topics.enable=false
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
log.retention.hours=168
num.network.threads=2
num.io.threads=4
EOF
}

# start_kafka_cluster [NODE ...]: the given nodes (default all three). All are launched first
# and waited for afterwards: a node serves clients only once a quorum (2 of 3) has formed.
start_kafka_cluster() {
    local n pid port name dir outfile cluster_id bootstrap=() logs=()
    local cluster_id_file="$VAR_DIR/kafka-cluster-id"
    local -A pids=()
    (($#)) || set -- "${KAFKA_NODES[@]}"
    [[ -f $KAFKA_LIBS/.complete && -f $KAFKA_HEALTHCHECK_DIR/KafkaHealthCheck.class ]] ||
        die "Kafka jars missing: run deploy/local/install.sh"
    if [[ ! -s $cluster_id_file ]]; then
        kafka_java -Dkafka.log.file=kafka-tools.log -cp "$KAFKA_CP" kafka.tools.StorageTool random-uuid >"$cluster_id_file"
    fi
    cluster_id="$(cat "$cluster_id_file")"
    for n in "$@"; do
        name="kafka-$n" dir="$VAR_DIR/kafka-$n" outfile="$LOG_DIR/kafka-$n.out"
        port="$(kafka_node_port "$n")"
        bootstrap+=("127.0.0.1:$port")
        logs+=("$LOG_DIR/$name.log" "$outfile")
        if pid="$(running_pid "$name" "$(kafka_node_marker "$n")")"; then
            log "$name: already running (pid $pid)"
        elif port_open "$port"; then
            log "$name: port $port already in use by another server, using it"
            pid=""
        else
            mkdir -p "$dir"
            write_kafka_node_config "$n"
            if [[ ! -f $dir/data/meta.properties ]]; then
                rm -rf "$dir/data"
                log "$name: formatting storage (cluster id $cluster_id)"
                kafka_java -Dkafka.log.file=kafka-tools.log -cp "$KAFKA_CP" kafka.tools.StorageTool \
                    format -t "$cluster_id" -c "$(kafka_node_marker "$n")" >>"$outfile" 2>&1 ||
                    fail "$name storage format failed" "$outfile"
            fi
            log "$name: starting on 127.0.0.1:$port (controller $(kafka_node_controller_port "$n"))"
            # shellcheck disable=SC2086  # KAFKA_NODE_HEAP holds several JVM options
            nohup java $KAFKA_NODE_HEAP -XX:+UseG1GC -Djava.awt.headless=true \
                -Dkafka.logs.dir="$LOG_DIR" -Dkafka.log.file="$name.log" \
                -Dlog4j2.configurationFile="$LOCAL_DIR/kafka-log4j2.properties" \
                -cp "$KAFKA_CP" kafka.Kafka "$(kafka_node_marker "$n")" >>"$outfile" 2>&1 </dev/null &
            pid=$!
            echo "$pid" >"$RUN_DIR/$name.pid"
        fi
        pids[$n]="$pid"
    done
    local started=$SECONDS
    for n in "$@"; do
        pid="${pids[$n]}"
        port="$(kafka_node_port "$n")"
        "$VENV_PYTHON" "$LOCAL_DIR/wait_ready.py" tcp "127.0.0.1:$port" --timeout "$KAFKA_TIMEOUT" ${pid:+--pid "$pid"} ||
            fail "kafka-$n not listening on port $port" "$LOG_DIR/kafka-$n.log" "$LOG_DIR/kafka-$n.out"
    done
    log "kafka: listening, checking metadata + produce/consume on topic _healthcheck"
    local left=$((KAFKA_TIMEOUT - (SECONDS - started)))
    ((left >= 20)) || left=20
    kafka_java -Dkafka.log.file=kafka-tools.log -Dkafka.log.level=WARN -cp "$KAFKA_HEALTHCHECK_DIR:$KAFKA_CP" \
        KafkaHealthCheck "$(IFS=,; echo "${bootstrap[*]}")" "$left" ||
        fail "kafka health check failed" "$LOG_DIR/kafka-tools.log" "${logs[@]}"
    log "kafka: ready (nodes $*; bootstrap $(kafka_bootstrap))"
}

start_kafka() {
    if [[ $KAFKA_BROKERS == 3 ]]; then start_kafka_cluster; else start_kafka_single; fi
}

# --- SMTP sink ----------------------------------------------------------------
start_smtp_sink() {
    local logfile="$LOG_DIR/smtp-sink.log" pid
    if pid="$(running_pid smtp-sink "$SMTP_MARKER")"; then
        log "smtp-sink: already running (pid $pid)"
    elif port_open "$SMTP_PORT"; then
        log "smtp-sink: port $SMTP_PORT already in use by another server, using it"
        pid=""
    else
        log "smtp-sink: starting on 127.0.0.1:$SMTP_PORT (web $SMTP_HTTP_PORT)"
        nohup "$VENV_PYTHON" "$LOCAL_DIR/smtp_sink.py" --smtp-port "$SMTP_PORT" --http-port "$SMTP_HTTP_PORT" \
            --maildir "$VAR_DIR/mail" >>"$logfile" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$RUN_DIR/smtp-sink.pid"
    fi
    "$VENV_PYTHON" "$LOCAL_DIR/wait_ready.py" smtp "127.0.0.1:$SMTP_PORT" --timeout "$SMTP_TIMEOUT" ${pid:+--pid "$pid"} ||
        fail "smtp-sink not answering on port $SMTP_PORT" "$logfile"
    "$VENV_PYTHON" "$LOCAL_DIR/wait_ready.py" http "http://127.0.0.1:$SMTP_HTTP_PORT/api/messages" --timeout "$SMTP_TIMEOUT" ||
        fail "smtp-sink web not answering on port $SMTP_HTTP_PORT" "$logfile"
    log "smtp-sink: ready (smtp://127.0.0.1:$SMTP_PORT, mail in $VAR_DIR/mail, http://127.0.0.1:$SMTP_HTTP_PORT/)"
}

main() {
    mkdir -p "$LOG_DIR" "$RUN_DIR" "$VAR_DIR/mail"
    [[ -x $VENV_PYTHON ]] || die "$VENV_PYTHON missing: run make install (uv sync)"
    local t0=$SECONDS name
    (($#)) || set -- postgresql ferretdb kafka smtp-sink
    for name in "$@"; do
        case $name in
            postgresql) start_postgres ;;
            ferretdb) start_ferretdb ;;
            kafka) start_kafka ;;
            kafka-[123]) start_kafka_cluster "${name#kafka-}" ;;
            smtp-sink) start_smtp_sink ;;
            *) die "unknown server '$name' (postgresql, ferretdb, kafka, kafka-1|2|3, smtp-sink)" ;;
        esac
    done
    log "up in $((SECONDS - t0)) s: $*"
}

main "$@"
