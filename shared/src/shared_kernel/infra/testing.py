"""Test helpers (used by every service's tests): ``expect_events``, isolated settings and
access tokens signed with a key generated for the test process (``signed_token``).

``expect_events`` asserts on what a block of code published to Kafka::

    async with expect_events(settings, [Expected(JudgementCompleted, {"decision": "approved"})]):
        await do_something()

It positions a reader at the end of each topic before the block and, after it, reads
until every expected event has arrived (in order per topic) or the timeout passes.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer

from shared_kernel.errors import AlreadyExists
from shared_kernel.events.catalogue import (
    CATALOGUE,
    ConsentGranted,
    ConsentRejected,
    JudgementCompletedV2,
    UserActivated,
)
from shared_kernel.events.envelope import Envelope, Event
from shared_kernel.infra.auth import SigningKey, issue_token, jwks_of
from shared_kernel.infra.kafka import EventPublisher, ensure_topics, make_broker, partitions_of
from shared_kernel.infra.mongo import APPLIED, OUTBOX, Change, Document
from shared_kernel.infra.runtime import Runtime, build_runtime
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.principal import Principal

S = TypeVar("S", bound=ServiceSettings)


TEST_PREFIXES: set[str] = set()
"""Topic prefixes this test process has handed out; the session deletes their topics."""


@cache
def generated_signing_key() -> SigningKey:
    """An Ed25519 key generated for this test process (never written anywhere)."""
    return SigningKey.generate()


def generated_jwks() -> str:
    """The JWKS (JSON) of :func:`generated_signing_key`: what ``isolated`` settings trust."""
    return json.dumps(jwks_of([generated_signing_key()]))


def signed_token(principal: Principal, ttl: timedelta = timedelta(minutes=15)) -> str:
    """An access token for ``principal`` that services with ``isolated`` settings accept
    (a session id is made up when the principal names none)."""
    if principal.session is None:
        principal = principal.model_copy(update={"session": f"test-{uuid.uuid4().hex}"})
    return issue_token(generated_signing_key(), principal, ttl)


def isolated(settings_cls: type[S], **overrides: Any) -> S:
    """Settings with a topic prefix and database of their own (one per test).

    They are test settings (``APP_ENV=test``): tokens are verified with the test process's
    generated key (:func:`signed_token`) and no list of ended sessions is read from identity,
    unless the overrides say otherwise (the security suite reads the real identity's).
    """
    run = uuid.uuid4().hex[:10]
    defaults: dict[str, Any] = {
        "topic_prefix": f"test-{run}.",
        "db_name": f"test_{run}",
        "environment": "test",
        "auth_jwks": generated_jwks(),
        "auth_revocation_check": False,
    }
    settings = settings_cls(**{**defaults, **overrides})
    if settings.topic_prefix:
        TEST_PREFIXES.add(settings.topic_prefix)
    return settings


async def delete_topics(bootstrap_servers: str, prefixes: Iterable[str]) -> int:
    """Delete every topic whose name starts with one of ``prefixes``; how many were deleted.

    Tests create a dozen topics of three partitions each under a prefix of their own; left
    behind, a few thousand tests' worth exhaust a small broker's heap (the local Kafka ran
    out of its 512 MiB at 13,000 partitions after a day of runs).
    """
    from aiokafka.admin import AIOKafkaAdminClient

    wanted = tuple(p for p in prefixes if p)
    if not wanted:
        return 0
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        doomed = sorted(t for t in await admin.list_topics() if t.startswith(wanted))
        for start in range(0, len(doomed), 200):
            await admin.delete_topics(doomed[start : start + 200], timeout_ms=60_000)
    finally:
        await admin.close()
    return len(doomed)


@dataclass
class Expected:
    model: type[Event]
    fields: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, envelope: Envelope) -> bool:
        if envelope.type != self.model.ce_type():
            return False
        payload = envelope.event.model_dump(mode="json")
        return all(payload.get(k) == v for k, v in self.fields.items())


@dataclass
class Recorded:
    envelopes: list[Envelope] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    others: list[Envelope] = field(default_factory=list)


class EventRecorder:
    """Reads a set of topics from their current end; decodes what arrives."""

    def __init__(
        self, settings: ServiceSettings, topics: Sequence[str], types: set[str] | None = None
    ) -> None:
        self.settings = settings
        self.topics = list(topics)
        self.types = types
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
        )
        self.recorded = Recorded()

    async def start(self) -> None:
        await ensure_topics(self.settings, self.topics)
        parts = await partitions_of(self.settings.kafka_bootstrap_servers, self.topics)
        await self.consumer.start()
        self.consumer.assign(parts)
        await self.consumer.seek_to_end(*parts)
        for tp in parts:  # resolve positions now, before the block publishes anything
            await self.consumer.position(tp)

    async def read(self, until: int, timeout: float) -> Recorded:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.recorded.envelopes) < until:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            batches = await self.consumer.getmany(timeout_ms=int(min(left, 0.5) * 1000))
            for records in batches.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    envelope = CATALOGUE.decode(headers, record.value)
                    if self.types is not None and envelope.type not in self.types:
                        self.recorded.others.append(envelope)
                        continue
                    self.recorded.headers.append(headers)
                    self.recorded.envelopes.append(envelope)
        return self.recorded

    async def stop(self) -> None:
        await self.consumer.stop()


@asynccontextmanager
async def expect_events(
    settings: ServiceSettings,
    expected: Sequence[Expected],
    *,
    timeout: float = 15.0,
    exactly: bool = True,
    settle: float = 1.0,
) -> AsyncIterator[Recorded]:
    """Assert the block publishes the expected events.

    Only events of the expected types are considered (others on the same topics are kept
    in ``recorded.others``); with ``exactly``, no more of those types may arrive.
    """
    types = {e.model.ce_type() for e in expected}
    topics = sorted({settings.topic(e.model.TOPIC) for e in expected})
    recorder = EventRecorder(settings, topics, types)
    await recorder.start()
    try:
        yield recorder.recorded
        recorded = await recorder.read(len(expected), timeout)
        if exactly:  # give stray extra events a moment to show up
            await recorder.read(len(expected) + 1, settle)
    finally:
        await recorder.stop()
    got = [(e.type, e.event.model_dump(mode="json")) for e in recorded.envelopes]
    missing = [e for e in expected if not any(e.matches(r) for r in recorded.envelopes)]
    assert not missing, f"expected events not published: {missing}; got {got}"
    if exactly:
        assert len(recorded.envelopes) == len(expected), f"unexpected extra events: {got}"


async def eventually(
    predicate: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 20.0
) -> None:
    """Poll ``predicate`` (sync or async) until it is true; fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            result = predicate()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(0.05)


@asynccontextmanager
async def publisher(settings: ServiceSettings) -> AsyncIterator[EventPublisher]:
    """Publish events in a test as another service would (its own started broker)."""
    broker = make_broker(settings)
    await broker.start()
    try:
        yield EventPublisher(broker, settings)
    finally:
        await broker.stop()


def _path(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "$ne": lambda v, o: v != o,
    "$in": lambda v, o: v in o,
    "$gt": lambda v, o: v is not None and v > o,
    "$gte": lambda v, o: v is not None and v >= o,
    "$lt": lambda v, o: v is not None and v < o,
    "$lte": lambda v, o: v is not None and v <= o,
}


def _matches(doc: Mapping[str, Any], flt: Mapping[str, Any]) -> bool:
    """Equality on (dotted) paths, or a mapping of the comparison operators above."""
    for path, wanted in flt.items():
        value = _path(doc, path)
        if isinstance(wanted, Mapping):
            if not all(_OPERATORS[op](value, operand) for op, operand in wanted.items()):
                return False
        elif value != wanted:
            return False
    return True


class MemoryDocuments:
    """The ``Documents`` port in memory, for unit tests of pure use cases.

    Same semantics as ``DocumentStore``: unique ``_id`` (``AlreadyExists``), versions, the
    outbox kept in the document, and applied event ids (an applied event is not applied
    again). Reads copy, so a test cannot change what is stored by accident.
    """

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}

    async def get(self, doc_id: str) -> Document | None:
        return copy.deepcopy(self.docs.get(doc_id))

    async def insert(
        self, doc: Document, events: Sequence[Envelope] = (), *, applied_event_id: str | None = None
    ) -> Document:
        if doc["_id"] in self.docs:
            raise AlreadyExists(str(doc["_id"]))
        self.docs[doc["_id"]] = {
            **doc,
            "version": 1,
            APPLIED: [applied_event_id] if applied_event_id else [],
            OUTBOX: [e.to_document() for e in events],
        }
        return copy.deepcopy(self.docs[doc["_id"]])

    async def find(
        self,
        flt: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
        projection: Mapping[str, Any] | None = None,
    ) -> list[Document]:
        found = [copy.deepcopy(d) for d in self.docs.values() if _matches(d, flt or {})]
        for key, direction in reversed(sort or []):
            found.sort(key=lambda d: _path(d, key), reverse=direction < 0)
        return found[:limit] if limit else found

    async def update(
        self,
        doc_id: str,
        change: Change,
        *,
        applied_event_id: str | None = None,
        attempts: int = 10,
    ) -> Document | None:
        current = await self.get(doc_id)
        if current is not None and applied_event_id in current.get(APPLIED, []):
            return current
        outcome = change(current)
        if outcome is None:
            return current
        new, events = outcome
        if current is None:
            return await self.insert(
                {**new, "_id": doc_id}, events, applied_event_id=applied_event_id
            )
        self.docs[doc_id] = {
            **new,
            "_id": doc_id,
            "version": current["version"] + 1,
            OUTBOX: [*current.get(OUTBOX, []), *(e.to_document() for e in events)],
            APPLIED: [*current.get(APPLIED, []), *([applied_event_id] if applied_event_id else [])],
        }
        return copy.deepcopy(self.docs[doc_id])

    def outbox(self, type_part: str = "") -> list[Document]:
        """The stored (not yet relayed) events whose ``type`` contains ``type_part``."""
        return [
            {**e, "payload": json.loads(e["payload_json"])}
            for d in self.docs.values()
            for e in d.get(OUTBOX, [])
            if type_part in e["type"]
        ]


# --- sample events (the shared kernel's own tests; any test may use them) -------------------

SAMPLE_EMPLOYER = "12345678901234"
SAMPLE_WORKER = "98765432109876"
SAMPLE_TIME = datetime(2026, 11, 28, tzinfo=UTC)


def user_activated(login_id: str) -> Envelope:
    return Envelope(
        UserActivated(
            login_id=login_id,
            email=f"{login_id}@example.jp",
            employer_id=SAMPLE_EMPLOYER,
            employer_name="株式会社髙﨑建設",
            activated_at=SAMPLE_TIME,
        ),
        source="test",
    )


def consent_rejected(consent_id: str, reason: str = "署名がありません") -> Envelope:
    return Envelope(
        ConsentRejected(
            consent_id=consent_id,
            employer_id=SAMPLE_EMPLOYER,
            worker_id=SAMPLE_WORKER,
            reason=reason,
            rejected_at=SAMPLE_TIME,
        ),
        source="test",
    )


def consent_granted(consent_id: str = "c-1", worker_name: str = "𠮷野 花子") -> Envelope:
    return Envelope(
        ConsentGranted(
            consent_id=consent_id,
            employer_id=SAMPLE_EMPLOYER,
            worker_id=SAMPLE_WORKER,
            worker_name=worker_name,
            worker_name_kana="ヨシノ ハナコ",
            birth_date=date(1990, 2, 3),
            scopes=["view_ccus_data", "proxy_application", "card_issuance", "fee"],
            granted_at=SAMPLE_TIME,
            valid_until=date(2027, 11, 28),
        ),
        source="test",
    )


def judgement_completed(
    *, application_id: str, line_id: str, employer_id: str, worker_id: str, **fields: Any
) -> JudgementCompletedV2:
    """A ``JudgementCompletedV2`` of one line as the judgement service publishes it: ``J-<line>``,
    鉄筋 level 2 approved, applied for today and judged now, unless ``fields`` say otherwise."""
    defaults: dict[str, Any] = {
        "judgement_id": f"J-{line_id}",
        "worker_name": "山田 太郎",
        "trade": "鉄筋",
        "evaluation_body": "公益社団法人全国鉄筋工事業協会",
        "application_date": date.today(),
        "requested_level": 2,
        "decision": "approved",
        "eligible_level": 2,
        "criteria_version": "鉄筋@2019-10-08",
        "judged_at": datetime.now(UTC),
    }
    return JudgementCompletedV2.model_validate(
        {
            **defaults,
            **fields,
            "application_id": application_id,
            "line_id": line_id,
            "employer_id": employer_id,
            "worker_id": worker_id,
        }
    )


C = TypeVar("C")


@asynccontextmanager
async def wired(
    settings: ServiceSettings, wire: Callable[[Runtime], C]
) -> AsyncIterator[tuple[Runtime, C]]:
    """A service's runtime on ``settings``, wired but not started (a test that runs the
    migrations or reads the stores itself); its database client is closed afterwards."""
    runtime = build_runtime(settings)
    try:
        yield runtime, wire(runtime)
    finally:
        await runtime.mongo.close()
