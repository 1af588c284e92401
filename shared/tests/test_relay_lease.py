"""One outbox relay per service at a time: the lease in the database (issue 23).

Two relays on the same database, as two replicas of a service would run them: only the
lease holder publishes; a clean stop hands over at once, a holder that vanished is taken
over after the lease expired.
"""

import asyncio
from collections import Counter

from shared_kernel.events import CATALOGUE, Envelope
from shared_kernel.infra.mongo import RELAY_LEASE, DocumentStore, OutboxRelay, RelayLease
from shared_kernel.infra.testing import eventually, user_activated


class Recorder:
    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        self.name, self.log = name, log

    async def __call__(self, envelope: Envelope) -> None:
        self.log.append((self.name, envelope.id))


def relay(db: object, name: str, log: list[tuple[str, str]], seconds: float) -> OutboxRelay:
    store = DocumentStore(db, "users")  # type: ignore[arg-type]
    lease = RelayLease(db, name, seconds)  # type: ignore[arg-type]
    return OutboxRelay([store], Recorder(name, log), CATALOGUE, poll_seconds=0.05, lease=lease)


async def test_two_relays_on_one_database_publish_through_one_holder(db: object) -> None:
    store = DocumentStore(db, "users")  # type: ignore[arg-type]
    log: list[tuple[str, str]] = []
    a, b = relay(db, "a", log, 2.0), relay(db, "b", log, 2.0)
    tasks = [asyncio.create_task(r.run()) for r in (a, b)]
    try:
        for n in range(20):
            await store.insert({"_id": f"u{n}"}, [user_activated(f"u{n}")])
        await eventually(lambda: len({e for _, e in log}) == 20, timeout=10)
        assert a.lease and b.lease and a.lease.held != b.lease.held  # exactly one holds it
        holder, other = (a, b) if a.lease.held else (b, a)
        assert {name for name, _ in log} == {holder.lease.holder}  # type: ignore[union-attr]
        assert len(log) == 20  # each event once
        lease_doc = await store.db["leases"].find_one({"_id": RELAY_LEASE})
        assert lease_doc is not None and lease_doc["holder"] == holder.lease.holder  # type: ignore[union-attr]

        # a clean stop gives the lease up: the other relays the next events at once (once
        # the holder has also emptied the outboxes it published from: an event published
        # but not yet marked when its relay stops is published again, at least once)
        async def all_marked() -> bool:
            return await store.collection.count_documents({"_outbox_due": True}) == 0

        await eventually(all_marked, timeout=10)
        stopping = tasks[0] if holder is a else tasks[1]
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)
        for n in range(20, 25):
            await store.insert({"_id": f"u{n}"}, [user_activated(f"u{n}")])
        await eventually(lambda: len({e for _, e in log}) == 25, timeout=5)
        assert Counter(name for name, _ in log[20:]) == {other.lease.holder: 5}  # type: ignore[union-attr]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_vanished_holder_is_taken_over_after_the_lease_expired(db: object) -> None:
    store = DocumentStore(db, "users")  # type: ignore[arg-type]
    dead = RelayLease(db, "dead", 1.5)  # type: ignore[arg-type]
    assert await dead.acquire()  # taken, then the process is killed (never released)
    log: list[tuple[str, str]] = []
    b = relay(db, "b", log, 1.5)
    task = asyncio.create_task(b.run())
    try:
        await store.insert({"_id": "u1"}, [user_activated("u1")])
        await asyncio.sleep(0.5)
        assert log == []  # the lease is still the dead holder's
        await eventually(lambda: len(log) == 1, timeout=5)
        assert log[0][0] == "b"
        assert not await dead.acquire()  # back from the dead: it stands by now
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
