"""DocumentStore and OutboxRelay against the real MongoDB-wire database."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shared_kernel.errors import AlreadyExists, StaleVersion
from shared_kernel.events import CATALOGUE, Envelope
from shared_kernel.infra import mongo
from shared_kernel.infra.indexes import purge_version_claims
from shared_kernel.infra.mongo import (
    CLAIMS,
    Document,
    DocumentStore,
    OutboxRelay,
    connect,
    public,
)
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import user_activated


async def test_insert_keeps_state_and_events_in_one_document(db: object) -> None:
    store = DocumentStore(db, "users")  # type: ignore[arg-type]
    await store.insert({"_id": "kensetsu01", "status": "active"}, [user_activated("kensetsu01")])
    doc = await store.get("kensetsu01")
    assert doc is not None
    assert doc["version"] == 1
    assert doc["_outbox_pending"] == 1
    assert doc["_outbox"][0]["type"] == "jp.ccus.level.user.activated.v1"
    assert public(doc) == {"_id": "kensetsu01", "status": "active", "version": 1}
    with pytest.raises(AlreadyExists):
        await store.insert({"_id": "kensetsu01"})


async def test_insert_many_stores_new_documents_and_names_existing_ones(db: object) -> None:
    store = DocumentStore(db, "bulk")  # type: ignore[arg-type]
    await store.insert({"_id": "b", "n": 0})
    existing = await store.insert_many(
        [{"_id": "a", "n": 1}, {"_id": "b", "n": 2}, {"_id": "c", "n": 3}], applied_event_id="e1"
    )
    assert existing == ["b"]
    docs = {d["_id"]: d for d in await store.find()}
    assert public(docs["a"]) == {"_id": "a", "n": 1, "version": 1}
    assert docs["a"]["_applied"] == ["e1"]
    assert docs["b"]["n"] == 0  # left as it was
    assert docs["c"]["n"] == 3
    assert await store.insert_many([]) == []


async def test_stale_version_is_refused(db: object) -> None:
    store = DocumentStore(db, "users")  # type: ignore[arg-type]
    first = await store.insert({"_id": "u1", "n": 0})
    await store.save({**first, "n": 1})
    with pytest.raises(StaleVersion):
        await store.save({**first, "n": 2})
    assert (await store.get("u1"))["n"] == 1  # type: ignore[index]


async def test_concurrent_updates_from_two_clients_all_apply(
    db: object, settings: ServiceSettings
) -> None:
    """No lost update, even though FerretDB's conditional writes are not atomic."""
    other = connect(settings.mongodb_url)
    stores = [
        DocumentStore(db, "counters"),  # type: ignore[arg-type]
        DocumentStore(other[settings.db_name], "counters"),
    ]
    await stores[0].insert({"_id": "c", "n": 0})

    def bump(doc: Document | None) -> tuple[Document, list[Envelope]]:
        assert doc is not None
        return {**doc, "n": doc["n"] + 1}, []

    try:
        await asyncio.gather(*(stores[i % 2].update("c", bump, attempts=200) for i in range(24)))
    finally:
        await other.close()
    doc = await stores[0].get("c")
    assert doc is not None and doc["n"] == 24 and doc["version"] == 25


async def test_a_claim_abandoned_by_a_dead_writer_expires(
    db: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DocumentStore(db, "users")  # type: ignore[arg-type]
    doc = await store.insert({"_id": "u9", "n": 0})
    if not await store._claims_needed():  # MongoDB itself: conditional writes are atomic
        pytest.skip("version claims are only taken on FerretDB")
    # a writer claimed version 2, then died before writing
    await store.claims.insert_one({"_id": "users|u9|2#0", "at": datetime.now(UTC)})
    with pytest.raises(StaleVersion, match="version 2 is taken"):
        await store.save({**doc, "n": 1})
    monkeypatch.setattr(mongo, "CLAIM_LEASE", timedelta(milliseconds=200))
    await asyncio.sleep(0.3)
    saved = await store.save({**doc, "n": 1})
    assert saved["version"] == 2 and (await store.get("u9"))["n"] == 1  # type: ignore[index]


async def test_an_event_is_applied_once_per_document(db: object) -> None:
    store = DocumentStore(db, "effects")  # type: ignore[arg-type]

    def count(doc: Document | None) -> tuple[Document, list[Envelope]]:
        return {"_id": "e", "n": (doc or {"n": 0})["n"] + 1}, []

    for _ in range(3):
        await store.update("e", count, applied_event_id="event-1")
    await store.update("e", count, applied_event_id="event-2")
    doc = await store.get("e")
    assert doc is not None and doc["n"] == 2 and doc["_applied"] == ["event-1", "event-2"]


async def test_relay_publishes_pending_events_once_and_empties_the_outbox(db: object) -> None:
    store = DocumentStore(db, "users")  # type: ignore[arg-type]
    events = [user_activated("a1"), user_activated("a1")]
    await store.insert({"_id": "a1"}, events)
    await store.insert({"_id": "a2"})
    published: list[Envelope] = []

    async def publish(envelope: Envelope) -> None:
        published.append(envelope)

    relay = OutboxRelay([store], publish, CATALOGUE)
    assert await relay.run_once() == 2
    assert [e.id for e in published] == [e.id for e in events]
    assert await relay.run_once() == 0
    doc = await store.get("a1")
    assert doc is not None and doc["_outbox"] == [] and doc["_outbox_pending"] == 0
    # a command that read the document before the relay wrote must retry, not resurrect events
    with pytest.raises(StaleVersion):
        await store.save({"_id": "a1", "version": 1, "_outbox": [events[0].to_document()]})


async def test_relay_sweeps_by_the_due_flag(db: object) -> None:
    """The sweep filters on ``_outbox_due`` (an equality FerretDB hands to PostgreSQL)."""
    store = DocumentStore(db, "users")  # type: ignore[arg-type]
    await store.insert({"_id": "new"}, [user_activated("new")])
    doc = await store.get("new")
    assert doc is not None and doc["_outbox_due"] is True
    assert [d["_id"] for d in await store.pending()] == ["new"]
    published: list[str] = []

    async def publish(envelope: Envelope) -> None:
        published.append(envelope.id)

    relay = OutboxRelay([store], publish, CATALOGUE)
    assert await relay.run_once() == 1
    assert published == [doc["_outbox"][0]["id"]]
    assert await store.pending() == []
    stored = await store.get("new")
    assert stored is not None and stored["_outbox_due"] is False
    await store.update("new", lambda d: ({**(d or {}), "n": 1}, [user_activated("new")]))
    assert [d["_id"] for d in await store.pending()] == ["new"]


async def test_claims_stay_after_the_write_and_old_ones_are_purged(
    db: object, settings: ServiceSettings
) -> None:
    """A write leaves its claim (no delete per write, issue 24); the retention sweep's purge
    drops those older than its cut-off in one statement, and writes go on."""
    store = DocumentStore(db, "users")  # type: ignore[arg-type]
    doc = await store.insert({"_id": "p1", "n": 0})
    if not await store._claims_needed():
        pytest.skip("version claims are only taken on FerretDB")
    saved = await store.save({**doc, "n": 1})
    assert await store.claims.find_one({"_id": "users|p1|2#0"}) is not None
    old = datetime.now(UTC) - timedelta(hours=1)
    await store.claims.insert_one({"_id": "users|gone|2#0", "at": old})
    cut = datetime.now(UTC) - timedelta(minutes=10)
    url = settings.ferretdb_postgresql_url
    assert await purge_version_claims(db, CLAIMS, cut, postgresql_url=url) == 1  # type: ignore[arg-type]
    assert await store.claims.find_one({"_id": "users|gone|2#0"}) is None
    assert await store.claims.find_one({"_id": "users|p1|2#0"}) is not None
    assert (await store.save({**saved, "n": 2}))["version"] == 3
    # a stale writer of version 2 still fails, with or without the claim
    await purge_version_claims(db, CLAIMS, cut + timedelta(days=11), postgresql_url=url)  # type: ignore[arg-type]
    with pytest.raises(StaleVersion):
        await store.save({**doc, "n": 9})
    assert (await store.get("p1"))["n"] == 2  # type: ignore[index]


async def test_a_writer_relays_its_own_events_and_the_sweep_leaves_them_the_grace(
    db: object,
) -> None:
    """Each write with events is noted to the relay, which publishes them at once; the sweep
    publishes only events older than its grace (a writer that died before publishing)."""
    published: list[str] = []

    async def publish(envelope: Envelope) -> None:
        published.append(envelope.id)

    relay = OutboxRelay([], publish, CATALOGUE, grace_seconds=60)
    store = DocumentStore(db, "users", on_events=relay.note)  # type: ignore[arg-type]
    relay.stores.append(store)
    first = user_activated("w1")
    doc = await store.insert({"_id": "w1"}, [first])
    assert await relay.run_once() == 0  # fresh: left to its writer
    second = user_activated("w1")
    await store.save({**doc, "n": 1}, [second])  # the latest write of the document wins
    assert await relay.run_noted() == 2
    assert published == [first.id, second.id]
    stored = await store.get("w1")
    assert stored is not None and stored["_outbox"] == [] and not stored["_outbox_due"]
    # a writer that died before publishing: the sweep publishes it once the grace is over
    await store.save({**stored, "n": 2}, [user_activated("w1")])
    relay._noted.clear()
    relay.grace = timedelta(0)
    assert await relay.run_once() == 1
