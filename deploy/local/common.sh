# shellcheck shell=bash disable=SC2034  # variables are used by the scripts sourcing this
# Shared settings and helpers for deploy/local/*.sh (sourced, not run).
# Everything is found relative to this file, so any clone path works.

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LOCAL_DIR/../.." && pwd)"
DEPS_DIR="$REPO_ROOT/.deps"   # downloads and builds (git-ignored)
# Runtime data, logs, pid files (git-ignored). INFRA_VAR_DIR gives a second, private
# instance its own directory (with other INFRA_*_PORT values), e.g. the fault suite's var/faults.
VAR_DIR="${INFRA_VAR_DIR:-$REPO_ROOT/var}"
mkdir -p "$VAR_DIR" 2>/dev/null || true
VAR_DIR="$(cd "$VAR_DIR" 2>/dev/null && pwd || echo "$VAR_DIR")"
LOG_DIR="$VAR_DIR/log"
RUN_DIR="$VAR_DIR/run"

# Pinned versions (FerretDB is pinned in ferretdb/go.mod).
KAFKA_VERSION="4.1.1"
LOG4J_VERSION="2.24.3"
PG_BIN="/usr/lib/postgresql/15/bin"
# The project's Python environment (`make install` = `uv sync`): the SMTP sink (aiosmtpd)
# and the readiness checks (pymongo) run with it.
VENV_PYTHON="$REPO_ROOT/.venv/bin/python"

KAFKA_LIBS="$DEPS_DIR/kafka/libs"
KAFKA_CP="$KAFKA_LIBS/*"
KAFKA_HEALTHCHECK_DIR="$DEPS_DIR/kafka/healthcheck"
FERRETDB_BIN="$DEPS_DIR/bin/ferretdb-local"
# promtool, taken out of Debian's `prometheus` package (2.42 on Debian 12) for the checks of
# deploy/prometheus/ (tests/deploy); the daemon itself is not installed.
PROMTOOL_BIN="$DEPS_DIR/bin/promtool"
# The offline checks of deploy/k8s/ (tests/deploy/test_k8s.py): kubeconform (go install), the
# Kubernetes JSON schemas bundled in PyPI's kubernetes-validate (made loadable from disk by
# scripts/k8s_schemas.py), and kustomize (go install) where no kubectl renders the overlays.
KUBECONFORM_VERSION="v0.8.0"
KUBECONFORM_BIN="$DEPS_DIR/bin/kubeconform"
KUBERNETES_VALIDATE_VERSION="1.37.0"
K8S_SCHEMA_VERSION="1.32.0"
K8S_SCHEMAS_DIR="$DEPS_DIR/k8s-schemas"
KUSTOMIZE_VERSION="v5.5.0"
KUSTOMIZE_BIN="$DEPS_DIR/bin/kustomize"

# Ports (override with environment variables).
PG_PORT="${INFRA_PG_PORT:-5432}"
FERRETDB_PORT="${INFRA_FERRETDB_PORT:-27017}"
KAFKA_PORT="${INFRA_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${INFRA_KAFKA_CONTROLLER_PORT:-9093}"
SMTP_PORT="${INFRA_SMTP_PORT:-1025}"
SMTP_HTTP_PORT="${INFRA_SMTP_HTTP_PORT:-8025}"

# Kafka nodes: 1 (default: one combined broker+controller in var/kafka, as always) or 3 (an
# opt-in cluster, `make infra-up KAFKA_BROKERS=3`: three combined nodes, a 3-voter KRaft
# quorum, replication 3, min.insync.replicas 2). Node N (1..3) listens on KAFKA_PORT + 2(N-1)
# (controller KAFKA_CONTROLLER_PORT + 2(N-1)), keeps its data in var/kafka-N/ and its pid in
# var/run/kafka-N.pid; start.sh/stop.sh take `kafka-N` to start or stop one node.
KAFKA_BROKERS="${KAFKA_BROKERS:-1}"
KAFKA_NODES=(1 2 3)
# Heap of each cluster node (the machine is small and shared; the single node keeps its own).
KAFKA_NODE_HEAP="${INFRA_KAFKA_NODE_HEAP:--Xms128m -Xmx384m}"
kafka_node_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
kafka_node_controller_port() { echo $((KAFKA_CONTROLLER_PORT + 2 * ($1 - 1))); }
kafka_node_marker() { echo "$VAR_DIR/kafka-$1/server.properties"; }
# The clients' bootstrap list: every node of the cluster, or the single node.
kafka_bootstrap() {
    if [[ $KAFKA_BROKERS == 3 ]]; then
        local n list=()
        for n in "${KAFKA_NODES[@]}"; do list+=("127.0.0.1:$(kafka_node_port "$n")"); done
        (IFS=,; echo "${list[*]}")
    else
        echo "127.0.0.1:$KAFKA_PORT"
    fi
}

log() { echo "[infra] $*"; }
die() { echo "[infra] ERROR: $*" >&2; exit 1; }

[[ $KAFKA_BROKERS == 1 || $KAFKA_BROKERS == 3 ]] || die "KAFKA_BROKERS=$KAFKA_BROKERS: 1 or 3"

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True if process $1 exists and is not a zombie (exited, not yet reaped).
pid_alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ ${stat:0:1} != Z && ${stat:0:1} != X ]]
}

# True if process $1 is alive and has $2 as one of its arguments
# (guards against pids reused after a crash or reboot).
pid_matches() {
    pid_alive "$1" && [[ " $(tr '\0' ' ' <"/proc/$1/cmdline")" == *" $2 "* ]]
}

# Prints the pid stored in var/run/$1.pid if it is our process ($2 = marker).
running_pid() {
    local file="$RUN_DIR/$1.pid" pid
    [[ -s $file ]] || return 1
    pid="$(cat "$file")"
    pid_matches "$pid" "$2" || return 1
    echo "$pid"
}

# Arguments that identify our processes (they contain this clone's paths).
KAFKA_MARKER="$VAR_DIR/kafka/server.properties"
FERRETDB_MARKER="127.0.0.1:$FERRETDB_PORT"  # its --listen-addr (one instance per port)
SMTP_MARKER="$VAR_DIR/mail"

# --- PostgreSQL -------------------------------------------------------------
# PostgreSQL refuses to run as root: as root we run it as the `postgres`
# user. If that user cannot reach var/ (clone under /root, ...), the cluster
# lives in /var/tmp/noryoku-pg-<hash of repo path>/ instead.
pg_resolve_dirs() {
    local probe="$VAR_DIR"
    [[ -d $probe ]] || probe="$REPO_ROOT"
    PG_BASE="$VAR_DIR/pg"
    if [[ $EUID -eq 0 ]] && ! runuser -u postgres -- test -x "$probe" 2>/dev/null; then
        local key="$REPO_ROOT"
        [[ $VAR_DIR == "$REPO_ROOT/var" ]] || key="$VAR_DIR"
        PG_BASE="/var/tmp/noryoku-pg-$(printf '%s' "$key" | sha1sum | cut -c1-10)"
    fi
    PGDATA="$PG_BASE/data"
    PG_SOCKET_DIR="$PG_BASE"
}

# Runs a command as the PostgreSQL server user.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Prints the postmaster pid if our cluster is running.
pg_pid() {
    local pid
    [[ -f $PGDATA/postmaster.pid ]] || return 1
    pid="$(head -n1 "$PGDATA/postmaster.pid")"
    pid_matches "$pid" "$PGDATA" || return 1
    echo "$pid"
}
