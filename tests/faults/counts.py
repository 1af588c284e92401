"""Counting what happened after the fault run: effects in the databases, events in Kafka, mail.

Effects must be exactly once (one judgement, one notice, one mail decision per line);
Kafka deliveries may repeat (at least once), so repeated deliveries of one event id are
reported, while two *different* event ids for one line would be a doubled effect.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from shared_kernel.infra.kafka import partitions_of
from shared_kernel.infra.mongo import connect
from tests.faults.journey import Submitted
from tests.faults.stack import Stack


async def read_topic(bootstrap: str, topic: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """Every record of ``topic`` from the beginning to its current end: (headers, value)."""
    found: list[tuple[dict[str, str], dict[str, Any]]] = []
    partitions = await partitions_of(bootstrap, [topic])
    if not partitions:
        return found
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        async with asyncio.timeout(120):
            while remaining:
                for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                    for record in records:
                        headers = {k: v.decode() for k, v in record.headers}
                        try:
                            value = json.loads(record.value or b"{}")
                        except ValueError:
                            value = {"_raw": repr(record.value)}
                        found.append((headers, value))
                        if record.offset + 1 >= ends[tp]:
                            remaining.discard(tp)
    finally:
        await consumer.stop()
    return found


async def topics_with_prefix(bootstrap: str, prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(t for t in await admin.list_topics() if t.startswith(prefix))
    finally:
        await admin.close()


@dataclass
class Counts:
    applications: int = 0
    lines: int = 0
    rows: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    redeliveries: dict[str, int] = field(default_factory=dict)
    outbox_pending: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)
    mail_resends: int = 0

    def row(self, what: str, expected: int, found: int, lost: int, doubled: int) -> None:
        self.rows.append((what, expected, found, lost, doubled))

    def check(self, what: str, per_key: dict[str, int], keys: list[str]) -> None:
        """Exactly one per key: a missing key is a loss, more than one a doubled effect."""
        lost = [k for k in keys if per_key.get(k, 0) == 0]
        doubled = [k for k in keys if per_key.get(k, 0) > 1]
        self.losses += [f"{what}: {k}" for k in lost]
        self.doubled += [f"{what}: {k} ×{per_key[k]}" for k in doubled]
        self.row(
            what, len(keys), sum(min(per_key.get(k, 0), 1) for k in keys), len(lost), len(doubled)
        )


async def count(stack: Stack, submitted: list[Submitted]) -> Counts:
    bootstrap = stack.infra.kafka
    counts = Counts(applications=len(submitted))
    line_ids = [line for s in submitted for line in s.line_ids]
    app_ids = [s.application_id for s in submitted]
    counts.lines = len(line_ids)
    client = connect(stack.infra.mongodb_url)
    try:
        # --- effects in the owners' databases ------------------------------------------
        app_db = client[stack.db_name("application")]
        apps = {d["_id"]: d async for d in app_db["applications"].find({"_id": {"$in": app_ids}})}
        counts.check(
            "applications completed (application db)",
            {a: int(apps.get(a, {}).get("status") == "completed") for a in app_ids},
            app_ids,
        )
        judged: Counter[str] = Counter()
        async for doc in client[stack.db_name("judgement")]["judgements"].find(
            {"status": "completed"}, projection={"_id": 1}
        ):
            judged[doc["_id"]] += 1
        counts.check("judgements completed (judgement db)", dict(judged), line_ids)

        notices: Counter[str] = Counter()
        async for doc in client[stack.db_name("document")]["notices"].find(
            {}, projection={"line_id": 1}
        ):
            notices[doc["line_id"]] += 1
        counts.check("result notices (document db)", dict(notices), line_ids)

        mails: dict[str, Counter[str]] = defaultdict(Counter)
        mail_status: Counter[str] = Counter()
        message_ids: dict[str, str] = {}
        async for doc in client[stack.db_name("notification")]["mails"].find(
            {}, projection={"template": 1, "key": 1, "status": 1, "message_id": 1}
        ):
            mails[doc["template"]][doc["key"]] += 1
            mail_status[f"{doc['template']}:{doc['status']}"] += 1
            if doc["status"] == "sent":
                message_ids[doc["message_id"]] = f"{doc['template']}:{doc['key']}"
        for template in ("application_received", "judgement_completed"):
            counts.check(f"mail {template} sent (notification db)", dict(mails[template]), app_ids)
        lines_of = {s.application_id: s.line_ids for s in submitted}
        counts.check(
            "lines in one judgement_completed mail",
            {x: mails["judgement_completed"].get(a, 0) for a in app_ids for x in lines_of[a]},
            line_ids,
        )
        follow_ups = sum(mails["result_notices"].get(a, 0) for a in app_ids)
        counts.row(
            "mail result_notices (follow-up, 0 or 1 each)",
            0,
            follow_ups,
            0,
            sum(1 for a in app_ids if mails["result_notices"].get(a, 0) > 1),
        )
        not_sent = {k: v for k, v in mail_status.items() if not k.endswith(":sent")}
        counts.losses += [f"mail not sent: {k} ×{v}" for k, v in not_sent.items()]

        # --- mail that reached the SMTP sink ---------------------------------------------
        delivered: Counter[str] = Counter()
        for message_id in await asyncio.to_thread(sink_message_ids, stack.infra.maildir):
            if message_id in message_ids:
                delivered[message_ids[message_id]] += 1
        per_mail = {
            template: {k: delivered.get(f"{template}:{k}", 0) for k in app_ids}
            for template in ("application_received", "judgement_completed")
        }
        for template, found in per_mail.items():
            lost = [k for k, n in found.items() if n == 0]
            counts.losses += [f"SMTP sink {template}: {k}" for k in lost]
            resent = sum(n - 1 for n in found.values() if n > 1)
            counts.mail_resends += resent
            counts.row(
                f"mail {template} (SMTP sink, distinct)",
                len(app_ids),
                len(app_ids) - len(lost),
                len(lost),
                resent,
            )

        # --- outboxes --------------------------------------------------------------------
        for name in ("identity", "consent", "application", "judgement", "notification", "document"):
            db = client[stack.db_name(name)]
            for collection in await db.list_collection_names():
                pending = await db[collection].count_documents({"_outbox_pending": {"$gt": 0}})
                if pending:
                    counts.outbox_pending[f"{name}.{collection}"] = pending
    finally:
        await client.close()

    # --- events in Kafka -------------------------------------------------------------------
    prefix = stack.topic_prefix
    for what, topic, suffix, key_field, keys in (
        (
            "ApplicationSubmitted",
            "application.applications",
            "application.submitted.v1",
            "application_id",
            app_ids,
        ),
        (
            "JudgementCompleted",
            "judgement.judgements",
            "judgement.completed.v2",
            "line_id",
            line_ids,
        ),
        (
            "PartnerJudgementCompleted",
            "partner.judgement-results",
            "partner.judgement.completed.v1",
            "line_id",
            line_ids,
        ),
        (
            "ResultNoticeGenerated",
            "document.result-notices",
            "result-notice.generated.v1",
            "line_id",
            line_ids,
        ),
    ):
        ids: dict[str, set[str]] = defaultdict(set)
        deliveries = 0
        for headers, value in await read_topic(bootstrap, prefix + topic):
            if headers.get("ce_type", "").endswith(suffix):
                ids[str(value.get(key_field))].add(headers["ce_id"])
                deliveries += 1
        counts.check(f"{what} events (distinct ce_id)", {k: len(v) for k, v in ids.items()}, keys)
        counts.redeliveries[what] = deliveries - sum(len(v) for v in ids.values())
    for topic in await topics_with_prefix(bootstrap, prefix):
        if topic.endswith(".dlq"):
            records = await read_topic(bootstrap, topic)
            if records:
                counts.dead_letters[topic.removeprefix(prefix)] = len(records)
    return counts


def sink_message_ids(maildir: Path) -> list[str]:
    """The Message-ID of every mail the SMTP sink accepted (one .eml file each)."""
    found = []
    for path in maildir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append(str(message.get("Message-ID", "")).strip())
    return found


def table(counts: Counts, faults: dict[str, int], seconds: float, retries: dict[str, int]) -> str:
    """The printed summary: effects, events, faults injected, duplicates, losses."""
    lines = [
        f"fault run: {counts.applications} applications, {counts.lines} lines, "
        f"{seconds:.0f} s from the first submission to the last check",
        "",
        f"{'what':<48} {'expected':>8} {'found':>6} {'lost':>5} {'doubled':>7}",
    ]
    lines += [f"{w:<48} {e:>8} {f:>6} {lo:>5} {d:>7}" for w, e, f, lo, d in counts.rows]
    lines += [
        "",
        "faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())),
        "redelivered events (same ce_id, at-least-once, skipped by consumers): "
        + ", ".join(f"{k} {v}" for k, v in counts.redeliveries.items()),
        f"mails re-sent with the same Message-ID (crash window, documented): {counts.mail_resends}",
        f"outbox entries left: {sum(counts.outbox_pending.values())} {counts.outbox_pending}",
        f"dead letters: {sum(counts.dead_letters.values())} {counts.dead_letters}",
        "driver retries (service down or 5xx): "
        + ", ".join(f"{k} {v}" for k, v in sorted(retries.items())),
        f"losses: {len(counts.losses)}   doubled effects: {len(counts.doubled)}",
    ]
    return "\n".join(lines)
