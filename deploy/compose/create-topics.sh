#!/usr/bin/env bash
# kafka-init of docker-compose.yml: creates every topic of topics.txt (beside this file) that
# does not exist yet, with TOPIC_PREFIX, TOPIC_REPLICATION_FACTOR and TOPIC_MIN_ISR
# (min.insync.replicas); existing topics are left as they are. Runs in the apache/kafka image.
set -euo pipefail
: "${BOOTSTRAP_SERVER:?}" "${TOPIC_REPLICATION_FACTOR:?}" "${TOPIC_MIN_ISR:?}"
TOPIC_PREFIX="${TOPIC_PREFIX:-}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
TOPICS_FILE="${TOPICS_FILE:-$(dirname "${BASH_SOURCE[0]}")/topics.txt}"

existing="$("$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP_SERVER" --list)"
created=0
while read -r topic partitions configs; do
    [[ -z $topic || $topic == \#* ]] && continue
    name="$TOPIC_PREFIX$topic"
    if grep -qxF "$name" <<<"$existing"; then
        continue
    fi
    args=(--config "min.insync.replicas=$TOPIC_MIN_ISR")
    for config in $configs; do
        args+=(--config "$config")
    done
    "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP_SERVER" --create --if-not-exists \
        --topic "$name" --partitions "$partitions" \
        --replication-factor "$TOPIC_REPLICATION_FACTOR" "${args[@]}"
    created=$((created + 1))
done <"$TOPICS_FILE"
echo "kafka-init: $created topic(s) created, replication factor $TOPIC_REPLICATION_FACTOR, min ISR $TOPIC_MIN_ISR"
