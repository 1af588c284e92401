"""What the whole journey wrote: no password, temporary password or token anywhere.

Runs last (file order) over everything the security tests did on the in-process stack —
registrations and activations (activation links), logins of five accounts, consents,
applications through to judgements and 結果通知書, failed logins, lockouts, logout, a
password change and the portal's logins — and searches

* every log line every service wrote (JSON lines at DEBUG level, as in production),
* every document of every collection of every service's database,
* every record (key, value, headers) of every Kafka topic of the run, dead-letter topics
  included,
* every answer body the tests received from any service or the portal (error messages
  included), except the two that exist to hand out a token (``POST /sessions``,
  ``POST /sessions/token``),

for every activation link's token (and its secret part), both passwords, every access
token, every session cookie and the secrets ``make run`` generated (identity's signing key,
the portal's cookie secret, the document signing key). Since issue 22 no secret travels in
an event at all — not even sealed: the activation link goes from identity to the mail
server only, and ``user.provisionally-registered`` is published as v2, without the
``sealed_temporary_password`` of v1.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared_kernel.infra.mongo import connect

from .conftest import PASSWORD, Stack
from .test_sessions import NEW_PASSWORD

pytestmark = pytest.mark.timeout(600)
TOKEN_PATHS = ("identity/sessions", "identity/sessions/token")


async def topic_records(bootstrap: str, prefix: str) -> dict[str, list[bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = sorted(t for t in await consumer.topics() if t.startswith(prefix))
        await consumer._client.set_topics(topics)  # metadata (partitions) of these topics
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        found: dict[str, list[bytes]] = {t: [] for t in topics}
        if not partitions:
            return found
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    parts = [record.key or b"", record.value or b""]
                    parts += [k.encode() + b"=" + v for k, v in record.headers]
                    found[tp.topic].append(b"\n".join(parts))
        return found
    finally:
        await consumer.stop()


async def databases(stack: Stack) -> dict[str, str]:
    client = connect(stack.settings["identity"].mongodb_url)
    try:
        dumps = {}
        for service, settings in stack.settings.items():
            db = client[settings.db_name]
            everything: dict[str, list[Any]] = {}
            for name in await db.list_collection_names():
                everything[name] = [doc async for doc in db[name].find({})]
            dumps[service] = json.dumps(everything, default=str, ensure_ascii=False)
        return dumps
    finally:
        await client.close()


def secrets_of(stack: Stack) -> dict[str, str]:
    found = {f"activation link {i}": t for i, t in enumerate(stack.activation_tokens)}
    found |= {
        f"activation secret {i}": t.split(".", 1)[1] for i, t in enumerate(stack.activation_tokens)
    }
    for name, secret in stack.secrets.items():  # make run's: none of them ever leaves home
        found[name] = secret
        if "PRIVATE KEY" in secret:
            found[f"{name} (key body)"] = secret.splitlines()[1]
    found.update(password=PASSWORD, new_password=NEW_PASSWORD)
    for role, headers in stack.headers.items():
        if headers:
            found[f"access token of {role}"] = headers["Authorization"].removeprefix("Bearer ")
    for role, cookie in stack.sessions.items():
        found[f"session cookie of {role}"] = cookie
    return found


async def test_no_secret_in_logs_databases_or_events(stack: Stack) -> None:
    secrets = secrets_of(stack)
    assert len(stack.activation_tokens) >= 2  # two in the setup, more from test_sessions
    log = stack.log.getvalue()
    assert log.count("\n") > 100 and "identity.login" in log  # the capture saw the journey
    settings = stack.settings["identity"]
    topics = await topic_records(settings.kafka_bootstrap_servers, settings.topic_prefix)
    assert sum(len(r) for r in topics.values()) > 10
    identity_topic = [
        r for t, records in topics.items() if t.endswith("identity.users") for r in records
    ]
    assert identity_topic and not [r for r in identity_topic if b"sealed" in r]
    assert not [r for r in identity_topic if b"user.provisionally-registered.v1" in r]
    assert any(b"user.provisionally-registered.v2" in r for r in identity_topic)
    dumps = await databases(stack)
    assert "users" in dumps["identity"] and "access_log" in dumps["application"]
    answers = [
        (request, body)
        for request, body in stack.responses
        if not request.startswith("POST ") or not request.split("?")[0].endswith(TOKEN_PATHS)
    ]
    assert len(answers) > 20
    leaks = []
    for what, secret in secrets.items():
        leaks += [f"{what} in the answer to {r}" for r, body in answers if secret.encode() in body]
        if secret in log:
            leaks.append(f"{what} in the log")
        for service, dump in dumps.items():
            if secret in dump:
                leaks.append(f"{what} in the {service} database")
        for topic, records in topics.items():
            if any(secret.encode() in record for record in records):
                leaks.append(f"{what} in {topic}")
    assert leaks == []
