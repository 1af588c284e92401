"""Dead letters: list, inspect (personal data masked) and replay them, with an audit trail.

    uv run python -m shared_kernel.infra.dlq list [--topic TOPIC.dlq]
    uv run python -m shared_kernel.infra.dlq show TOPIC.dlq PARTITION OFFSET
    uv run python -m shared_kernel.infra.dlq replay TOPIC.dlq PARTITION OFFSET --operator NAME

A replay publishes the original bytes and CloudEvents headers (same ``ce_id`` and
``ce_correlationid``) to the original topic, adds ``dlq_replayed_at``/``dlq_replayed_by``,
and records who replayed what in the ``dlq_replays`` collection of the operations
database. Consumers apply a replayed event once (the inbox skips it if it was handled).
Bad input exits with status 2 and one line on stderr; an unreachable broker with 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from shared_kernel.infra.kafka import DLQ_SUFFIX, kafka_options, partitions_of
from shared_kernel.infra.mongo import DocumentStore, connect
from shared_kernel.infra.settings import ServiceSettings

PERSONAL_FIELDS = frozenset(
    {
        "name",
        "name_kana",
        "worker_name",
        "worker_name_kana",
        "birth_date",
        "email",
        "phone",
        "telephone",
        "address",
        "representative",
        "sealed_temporary_password",
    }
)
MASK = "***"
AUDIT_DB = "operations"


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    value: bytes

    @property
    def error(self) -> str:
        return self.headers.get("dlq_error", "")

    def summary(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "original_topic": self.headers.get("dlq_original_topic"),
            "ce_type": self.headers.get("ce_type"),
            "ce_id": self.headers.get("ce_id"),
            "correlation_id": self.headers.get("ce_correlationid"),
            "consumer_group": self.headers.get("dlq_consumer_group"),
            "failed_at": self.headers.get("dlq_failed_at"),
            "error": self.error,
        }

    def inspect(self) -> dict[str, Any]:
        """Headers, error and the payload with personal data masked."""
        try:
            payload: Any = mask(json.loads(self.value))
        except (ValueError, UnicodeDecodeError):
            payload = f"<{len(self.value)} bytes, not JSON>"
        return {**self.summary(), "key": self.key, "headers": self.headers, "payload": payload}


def mask(value: Any) -> Any:
    """Replace personal data (names, birth dates, contact details) by ``***``."""
    if isinstance(value, dict):
        return {k: MASK if k in PERSONAL_FIELDS else mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


async def dlq_topics(settings: ServiceSettings) -> list[str]:
    admin = AIOKafkaAdminClient(**kafka_options(settings))
    await admin.start()
    try:
        names = await admin.list_topics()
    finally:
        await admin.close()
    prefix = settings.topic_prefix
    return sorted(n for n in names if n.endswith(DLQ_SUFFIX) and n.startswith(prefix))


async def read(settings: ServiceSettings, topic: str) -> list[DeadLetter]:
    """Every dead letter currently in ``topic`` (read from the start, no consumer group)."""
    partitions = await partitions_of(settings, [topic])
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(
        **kafka_options(settings),
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # no group: every partition is read from its start
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list[DeadLetter] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for r in records:
                    found.append(
                        DeadLetter(
                            topic=r.topic,
                            partition=r.partition,
                            offset=r.offset,
                            key=r.key.decode() if r.key else None,
                            headers={k: v.decode(errors="replace") for k, v in r.headers},
                            value=r.value or b"",
                        )
                    )
        return sorted(found, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


async def letters(settings: ServiceSettings, group: str | None = None) -> list[DeadLetter]:
    """Every dead letter of the stack (``settings.topic_prefix``), or of one consumer group."""
    found = [
        letter for topic in await dlq_topics(settings) for letter in await read(settings, topic)
    ]
    if group is None:
        return found
    return [letter for letter in found if letter.headers.get("dlq_consumer_group") == group]


async def replays(settings: ServiceSettings) -> dict[tuple[str, int, int], list[dict[str, Any]]]:
    """The audited replays, by the dead letter they replayed (topic, partition, offset)."""
    client = connect(settings.mongodb_url)
    try:
        audits = await DocumentStore(client[audit_db_name(settings)], "dlq_replays").find(
            sort=[("replayed_at", 1)]
        )
    finally:
        await client.close()
    by_letter: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
    for audit in audits:
        key = (audit["topic"], int(audit["partition"]), int(audit["offset"]))
        by_letter.setdefault(key, []).append(audit)
    return by_letter


async def find(settings: ServiceSettings, topic: str, partition: int, offset: int) -> DeadLetter:
    for letter in await read(settings, topic):
        if (letter.partition, letter.offset) == (partition, offset):
            return letter
    raise LookupError(f"no dead letter at {topic} partition {partition} offset {offset}")


async def replay(
    settings: ServiceSettings, letter: DeadLetter, operator: str, reason: str | None = None
) -> dict[str, Any]:
    """Publish the dead letter to its original topic again and audit the replay."""
    original = letter.headers.get("dlq_original_topic")
    if not original:
        raise LookupError("the dead letter does not name its original topic")
    now = datetime.now(UTC)
    headers = {k: v for k, v in letter.headers.items() if not k.startswith("dlq_")}
    headers |= {"dlq_replayed_at": now.isoformat(), "dlq_replayed_by": operator}
    producer = AIOKafkaProducer(**kafka_options(settings), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            original,
            letter.value,
            key=letter.key.encode() if letter.key else None,
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
    finally:
        await producer.stop()
    audit = {
        "_id": str(uuid.uuid4()),
        "operator": operator,
        "reason": reason,
        "replayed_at": now,
        **letter.summary(),
    }
    client = connect(settings.mongodb_url)
    try:
        await DocumentStore(client[audit_db_name(settings)], "dlq_replays").insert(audit)
    finally:
        await client.close()
    return audit


def audit_db_name(settings: ServiceSettings) -> str:
    """``operations``, or ``<prefix>_operations`` for a prefixed (test) stack."""
    prefix = "".join(c if c.isalnum() else "_" for c in settings.topic_prefix.rstrip(".-_"))
    return f"{prefix}_{AUDIT_DB}" if prefix else AUDIT_DB


def _print(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))


async def _main(args: argparse.Namespace, settings: ServiceSettings) -> int:
    if args.command == "list":
        topics = [args.topic] if args.topic else await dlq_topics(settings)
        for topic in topics:
            for letter in await read(settings, topic):
                _print(letter.summary())
        return 0
    letter = await find(settings, args.topic, args.partition, args.offset)
    if args.command == "show":
        _print(letter.inspect())
        return 0
    _print(await replay(settings, letter, args.operator, args.reason))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared_kernel.infra.dlq", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="dead letters (one JSON line each)")
    listing.add_argument("--topic", help="one .dlq topic (default: all)")
    for name in ("show", "replay"):
        cmd = sub.add_parser(name)
        cmd.add_argument("topic")
        cmd.add_argument("partition", type=int)
        cmd.add_argument("offset", type=int)
        if name == "replay":
            cmd.add_argument("--operator", required=True, help="who replays (audited)")
            cmd.add_argument("--reason")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    topic = getattr(args, "topic", None)
    if topic and not topic.endswith(DLQ_SUFFIX):
        print(f"dlq: {topic}: not a dead-letter topic (must end in {DLQ_SUFFIX})", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_main(args, ServiceSettings()))
    except LookupError as exc:
        print(f"dlq: {exc.args[0]}", file=sys.stderr)
        return 2
    except (KafkaError, OSError) as exc:
        print(f"dlq: Kafka unreachable: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
