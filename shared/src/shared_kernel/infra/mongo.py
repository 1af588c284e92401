"""MongoDB persistence on PyMongo's async API, shaped by what FerretDB 1.24 can do.

Rules this module enforces (see README "Database rules"):

* one aggregate per document, with a natural ``_id`` (login id, application number …);
* every write addresses one document by ``_id`` plus its ``version`` (optimistic
  concurrency). A stale version matches nothing and raises :class:`StaleVersion`; an
  update filtered through an array path silently matches nothing on FerretDB, so no write
  filters on anything else (``assert_write_filter``; a test scans the code for raw writes);
* events raised by a change are stored in the same document (``_outbox``), written in the
  same single-document write as the state; :class:`OutboxRelay` publishes them;
* a consumed event's id is stored in the document it changed (``_applied``), in that same
  write, so a redelivered event changes nothing (exactly-once effect).

Version claims. FerretDB 1.24 evaluates an update's filter and then writes by ``_id``
without re-checking it, so two concurrent ``replace_one({_id, version})`` calls can both
succeed and one change is lost (measured: 12 concurrent increments left the counter at 3).
Its only atomic check is the unique ``_id`` of an insert. So, on FerretDB, a writer first
inserts a claim ``<collection>|<id>|<new version>#<generation>`` into ``_version_claims``:
exactly one writer gets each version, the others get :class:`StaleVersion` and retry. A
claim whose holder died before writing (older than ``CLAIM_LEASE``, document still at the
old version) is superseded by the next generation. Claims are not deleted after the write
(a later writer of the same version fails its filter anyway): the retention sweep purges
those older than ``CLAIM_KEEP`` (``shared_kernel.infra.indexes.purge_version_claims``). On
MongoDB itself the conditional ``replace_one`` is atomic and no claims are taken (detected
from ``buildInfo``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared_kernel.documents import Change as Change  # re-exported: adapters import it here
from shared_kernel.documents import Document as Document
from shared_kernel.errors import AlreadyExists, StaleVersion
from shared_kernel.events.envelope import Catalogue, Envelope
from shared_kernel.infra.indexes import is_ferretdb
from shared_kernel.infra.logging import correlation_scope, get_logger
from shared_kernel.infra.metrics import OUTBOX_OLDEST_AGE, OUTBOX_PENDING, OUTBOX_PUBLISHED

log = get_logger(__name__)

OUTBOX = "_outbox"
OUTBOX_PENDING_COUNT = "_outbox_pending"
OUTBOX_DUE = "_outbox_due"
"""True while the outbox holds events: the relay's sweep filters on this equality, which
FerretDB hands to PostgreSQL; a ``$gt`` filter it evaluates itself, after fetching and
decoding every document of the collection (9.5 s per sweep for 3,000 applications,
``bench/README.md``), twice a second, whether anything is pending or not."""
APPLIED = "_applied"
APPLIED_KEEP = 500  # consumed event ids remembered per document
RESERVED = frozenset({"_id", "version", OUTBOX, OUTBOX_PENDING_COUNT, OUTBOX_DUE, APPLIED})
CLAIMS = "_version_claims"
CLAIM_LEASE = timedelta(seconds=30)
CLAIM_GENERATIONS = 5
CLAIM_KEEP = timedelta(minutes=10)
"""Claims older than this are purged (far longer than any write holds one)."""


def connect(url: str, **kwargs: Any) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, tzinfo=UTC, **kwargs)


def assert_write_filter(flt: Mapping[str, Any]) -> None:
    """Refuse a write filter other than ``{_id}`` or ``{_id, version}`` (FerretDB trap)."""
    if set(flt) - {"_id", "version"} or "_id" not in flt:
        raise ValueError(f"writes must address one document by _id and version, got {flt!r}")


class DocumentStore:
    """A collection of aggregates, each one document with a version and an outbox."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        name: str,
        *,
        on_events: Callable[[DocumentStore, Document], None] | None = None,
    ) -> None:
        self.name = name
        self.on_events = on_events  # the relay, told of each written document with events
        self.db = db
        self.collection: AsyncCollection[Document] = db[name]
        self.claims: AsyncCollection[Document] = db[CLAIMS]
        self._needs_claims: bool | None = None
        self._turns: dict[Any, tuple[asyncio.Lock, int]] = {}  # doc id → (lock, users)

    async def get(self, doc_id: str) -> Document | None:
        return await self.collection.find_one({"_id": doc_id})

    async def find(
        self,
        flt: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
        projection: Mapping[str, Any] | None = None,
    ) -> list[Document]:
        """Reads may filter on any path (only writes are restricted)."""
        cursor = self.collection.find(dict(flt or {}), projection=projection, limit=limit)
        if sort:
            cursor = cursor.sort(list(sort))
        return [doc async for doc in cursor]

    async def insert(
        self,
        doc: Document,
        events: Sequence[Envelope] = (),
        *,
        applied_event_id: str | None = None,
    ) -> Document:
        """Store a new aggregate (version 1) with the events its creation raised."""
        applied = [applied_event_id] if applied_event_id else []
        new = _with_outbox({**doc, "version": 1, APPLIED: applied}, [], events)
        try:
            await self.collection.insert_one(new)
        except DuplicateKeyError as exc:
            raise AlreadyExists(str(doc["_id"])) from exc
        self._stored(new, events)
        return new

    async def insert_many(
        self, docs: Sequence[Document], *, applied_event_id: str | None = None
    ) -> list[Any]:
        """Store new aggregates (version 1, without events) in one round trip.

        For bulk work (a re-judgement stores thousands of new documents): an insert needs no
        version claim, the unique ``_id`` is its check. Documents whose ``_id`` exists
        already are left as they are; their ids are returned (a redelivered batch).
        """
        if not docs:
            return []
        applied = [applied_event_id] if applied_event_id else []
        new = [
            {
                **doc,
                "version": 1,
                APPLIED: applied,
                OUTBOX: [],
                OUTBOX_PENDING_COUNT: 0,
                OUTBOX_DUE: False,
            }
            for doc in docs
        ]
        try:
            await self.collection.insert_many(new, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            duplicates = [e for e in errors if e.get("code") == 11000]
            if not errors or len(duplicates) != len(errors):
                raise
            return [new[e["index"]]["_id"] for e in duplicates]
        return []

    async def save(
        self,
        doc: Document,
        events: Sequence[Envelope] = (),
        *,
        applied_event_id: str | None = None,
    ) -> Document:
        """Replace the document if its version is unchanged; state + events in one write."""
        version = int(doc["version"])
        flt = {"_id": doc["_id"], "version": version}
        assert_write_filter(flt)
        applied = list(doc.get(APPLIED, []))
        if applied_event_id is not None:
            applied = [*applied, applied_event_id][-APPLIED_KEEP:]
        new = _with_outbox(
            {**doc, "version": version + 1, APPLIED: applied}, doc.get(OUTBOX, []), events
        )
        async with self._claimed(doc["_id"], version):
            result = await self.collection.replace_one(flt, new)
            if result.matched_count != 1:
                raise StaleVersion(f"{self.name}/{doc['_id']} is no longer at version {version}")
        self._stored(new, events)
        return new

    def _stored(self, doc: Document, events: Sequence[Envelope]) -> None:
        if events and self.on_events is not None:
            self.on_events(self, doc)

    async def update(
        self,
        doc_id: str,
        change: Change,
        *,
        applied_event_id: str | None = None,
        attempts: int = 10,
    ) -> Document | None:
        """Read, change and write one document, retrying on concurrent writes.

        ``change`` gets the current document (``None`` if absent) and returns the new
        state and the events to publish, or ``None`` to leave it unchanged. With
        ``applied_event_id`` a document that already applied that event is left as it is.
        Updates of one document in this process take turns (events handled side by side,
        e.g. the five JudgementCompleted of one application, would otherwise collide and
        retry); other processes' writes are caught by the version check.
        """
        lock, users = self._turns.get(doc_id) or (asyncio.Lock(), 0)
        self._turns[doc_id] = (lock, users + 1)
        try:
            async with lock:
                return await self._update(doc_id, change, applied_event_id, attempts)
        finally:
            lock, users = self._turns[doc_id]
            if users == 1:
                del self._turns[doc_id]
            else:
                self._turns[doc_id] = (lock, users - 1)

    async def _update(
        self, doc_id: str, change: Change, applied_event_id: str | None, attempts: int
    ) -> Document | None:
        for _ in range(attempts):
            current = await self.get(doc_id)
            if current is not None and applied_event_id in current.get(APPLIED, []):
                return current
            outcome = change(current)
            if outcome is None:
                return current
            new_doc, events = outcome
            try:
                if current is None:
                    return await self.insert(
                        {**new_doc, "_id": doc_id}, events, applied_event_id=applied_event_id
                    )
                return await self.save(
                    {
                        **new_doc,
                        "_id": doc_id,
                        "version": current["version"],
                        OUTBOX: current.get(OUTBOX, []),
                        APPLIED: current.get(APPLIED, []),
                    },
                    events,
                    applied_event_id=applied_event_id,
                )
            except (StaleVersion, AlreadyExists):
                await asyncio.sleep(0.01)
        raise StaleVersion(f"{self.name}/{doc_id}: too many concurrent writes")

    async def set_fields(self, doc: Document, changes: Mapping[str, Any]) -> bool:
        """A migration's rewrite of some fields of ``doc`` (as read), by ``_id`` + version: a
        document written meanwhile is left for the next run. The version stays (the state a
        reader sees is the same, only its stored shape changes). Whether it was written."""
        flt = {"_id": doc["_id"], "version": doc.get("version")}
        assert_write_filter(flt)
        result = await self.collection.update_one(flt, {"$set": dict(changes)})
        return bool(result.modified_count)

    async def backfill_outbox_flags(self) -> int:
        """Set ``_outbox_due`` and ``_outbox_pending`` on documents stored before the relay
        swept by them (migration ``0001-outbox-due-flag``); how many were set."""
        missing = self.collection.find(
            {OUTBOX_DUE: {"$exists": False}}, projection={"_id": 1, "version": 1, OUTBOX: 1}
        )
        count = 0
        async for doc in missing:
            outbox = doc.get(OUTBOX) or []
            count += await self.set_fields(
                doc, {OUTBOX_DUE: bool(outbox), OUTBOX_PENDING_COUNT: len(outbox)}
            )
        return count

    async def pending(self, limit: int = 100) -> list[Document]:
        """Documents with events to publish (an indexed equality on ``_outbox_due``)."""
        return await self.find({OUTBOX_DUE: True}, limit=limit)

    async def mark_published(self, doc: Document, event_ids: Sequence[str]) -> bool:
        """Drop published events from the outbox; False if the document moved on meanwhile."""
        flt = {"_id": doc["_id"], "version": doc["version"]}
        assert_write_filter(flt)
        remaining = [e for e in doc.get(OUTBOX, []) if e["id"] not in set(event_ids)]
        try:
            async with self._claimed(doc["_id"], doc["version"]):
                result = await self.collection.update_one(
                    flt,
                    {
                        "$set": {
                            OUTBOX: remaining,
                            OUTBOX_PENDING_COUNT: len(remaining),
                            OUTBOX_DUE: bool(remaining),
                        },
                        "$inc": {"version": 1},
                    },
                )
                if result.matched_count != 1:
                    raise StaleVersion(str(doc["_id"]))
        except StaleVersion:
            return False
        return True

    @asynccontextmanager
    async def _claimed(self, doc_id: Any, version: int) -> AsyncIterator[None]:
        """Hold the one right to move ``doc_id`` from ``version`` to ``version + 1``."""
        if not await self._claims_needed():
            yield
            return
        prefix = f"{self.name}|{doc_id}|"
        for generation in range(CLAIM_GENERATIONS):
            claim_id = f"{prefix}{version + 1}#{generation}"
            try:
                await self.claims.insert_one({"_id": claim_id, "at": datetime.now(UTC)})
                break
            except DuplicateKeyError:
                if not await self._abandoned(claim_id, doc_id, version):
                    raise StaleVersion(
                        f"{self.name}/{doc_id}: version {version + 1} is taken"
                    ) from None
        else:
            raise StaleVersion(f"{self.name}/{doc_id}: no claim left for version {version + 1}")
        yield
        # A claim matters only while its write runs: a writer that claims this version
        # after it (were the claim gone) evaluates its filter after this write and matches
        # nothing. So none is deleted here (a delete is two statements on FerretDB, and
        # every write paid them, issue 24); ``purge_version_claims`` drops old ones now and
        # then, in one statement.

    async def _abandoned(self, claim_id: str, doc_id: Any, version: int) -> bool:
        """A claim whose holder died: old, and the document never moved past ``version``."""
        claim = await self.claims.find_one({"_id": claim_id})
        if claim is None or datetime.now(UTC) - claim["at"] < CLAIM_LEASE:
            return False
        current = await self.get(doc_id)
        return current is not None and current["version"] == version

    async def _claims_needed(self) -> bool:
        if self._needs_claims is None:
            self._needs_claims = await is_ferretdb(self.db)
        return self._needs_claims


def _with_outbox(doc: Document, outbox: Sequence[Document], events: Sequence[Envelope]) -> Document:
    entries = [*outbox, *(e.to_document() for e in events)]
    return {
        **doc,
        OUTBOX: entries,
        OUTBOX_PENDING_COUNT: len(entries),
        OUTBOX_DUE: bool(entries),
    }


BOOKKEEPING = frozenset({OUTBOX, OUTBOX_PENDING_COUNT, OUTBOX_DUE, APPLIED})


def public(doc: Document | None) -> Document | None:
    """The document without the bookkeeping fields (outbox, applied ids)."""
    if doc is None:
        return None
    hidden = (OUTBOX, OUTBOX_PENDING_COUNT, OUTBOX_DUE, APPLIED)
    return {k: v for k, v in doc.items() if k not in hidden}


class Inbox:
    """Consumed event ids per consumer group: a redelivered event is skipped."""

    def __init__(self, db: AsyncDatabase[Document], collection: str = "inbox") -> None:
        self.collection: AsyncCollection[Document] = db[collection]

    async def seen(self, group: str, event_id: str) -> bool:
        return await self.collection.find_one({"_id": f"{group}|{event_id}"}) is not None

    async def record(self, group: str, event_id: str, outcome: str = "handled") -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.insert_one(
                {"_id": f"{group}|{event_id}", "outcome": outcome, "at": datetime.now(UTC)}
            )


async def delete_by_id(db: AsyncDatabase[Document], collection: str, doc_id: Any) -> bool:
    """Delete one document of ``collection`` by ``_id`` (the write rule); whether it existed."""
    return bool((await db[collection].delete_one({"_id": doc_id})).deleted_count)


async def delete_older(
    db: AsyncDatabase[Document], collection: str, field: str, before: datetime, *, batch: int = 500
) -> int:
    """Delete the documents of ``collection`` whose ``field`` is before ``before``; how many.

    Found by a read (reads may filter on any path), deleted one by one by ``_id`` (the write
    rule: FerretDB matches nothing when a write filters through an array path). Documents
    without ``field``, or with ``None`` in it, are kept.
    """
    coll: AsyncCollection[Document] = db[collection]
    deleted = 0
    while True:
        ids = [d["_id"] async for d in coll.find({field: {"$lt": before}}, {"_id": 1}).limit(batch)]
        for doc_id in ids:
            deleted += (await coll.delete_one({"_id": doc_id})).deleted_count
        if len(ids) < batch:
            return deleted


Publish = Callable[[Envelope], Awaitable[None]]


LEASES = "leases"
RELAY_LEASE = "relay-lease"


class RelayLease:
    """The right to relay a service's outbox, held by one process at a time.

    One document ``_id = "relay-lease"`` in ``leases`` names its holder and an expiry; it is
    written like every aggregate, by ``_id`` and ``version`` (with the version claims on
    FerretDB), so two processes never both take it. The holder renews it when half of its
    time is gone; the others try again every poll and take it over once it expired (a
    holder killed without a word relays again after at most ``seconds``); a holder that
    stops cleanly gives it up at once.
    """

    def __init__(self, db: AsyncDatabase[Document], holder: str, seconds: float = 15.0) -> None:
        self.store = DocumentStore(db, LEASES)
        self.holder = holder
        self.seconds = seconds
        self._until: datetime | None = None  # the expiry written by this process, if it holds

    @property
    def held(self) -> bool:
        return self._until is not None and datetime.now(UTC) < self._until

    async def acquire(self) -> bool:
        """Hold the lease now (taking, renewing or keeping it); False if another holds it."""
        now = datetime.now(UTC)
        half = timedelta(seconds=self.seconds / 2)
        if self._until is not None and now < self._until - half:
            return True  # held, with more than half of its time left: no write
        until = now + timedelta(seconds=self.seconds)
        doc = await self.store.get(RELAY_LEASE)
        try:
            if doc is None:
                await self.store.insert({"_id": RELAY_LEASE, "holder": self.holder, "until": until})
            elif doc["holder"] == self.holder or doc["until"] <= now:
                await self.store.save({**doc, "holder": self.holder, "until": until})
            else:
                self._lost()
                return False
        except (StaleVersion, AlreadyExists):
            self._lost()
            return False
        if self._until is None:
            log.info("outbox.lease_taken", holder=self.holder)
        self._until = until
        return True

    async def release(self) -> None:
        """Give the lease up (a clean stop): another process relays at its next poll."""
        if self._until is None:
            return
        self._until = None
        doc = await self.store.get(RELAY_LEASE)
        if doc is not None and doc["holder"] == self.holder:
            with contextlib.suppress(StaleVersion):
                await self.store.save({**doc, "until": datetime.now(UTC)})

    def _lost(self) -> None:
        if self._until is not None:
            log.warning("outbox.lease_lost", holder=self.holder)
        self._until = None


SWEEP_MAX_SECONDS = 8.0
"""Longest pause between two sweeps of a relay whose writers publish their own events."""

RELAY_CONCURRENCY = 32
"""Documents a relay publishes and marks at once: enough for the producer to batch and to
keep up with the writers of a busy process (marking takes three statements on FerretDB),
few enough not to take every database connection (FerretDB 1.24 stopped answering at all
under the bench's load, its PostgreSQL pool taken; issue 24)."""


class OutboxRelay:
    """Publishes pending outbox events of some stores, then marks them sent.

    Runs as a background task next to the service, in two ways:

    * **at once, in the writing process**: a store tells its relay of each document it wrote
      with events (``note``); the relay publishes them and empties the outbox right away,
      whichever process holds the lease (each document's events in order; a copy published
      twice is deduplicated by its ``ce_id``);
    * **a sweep** at start and every ``poll_seconds`` or more for what the first
      way left: a crash between the write and the publish, a failed publish, a write by a
      process without a relay. It leaves events younger than ``grace_seconds`` to their
      writer. With a ``lease`` (:class:`RelayLease`) only the process holding it sweeps.

    The sweep alone made every write wake a sweep of the collection in the lease holder, and
    at 10 applications per second that one process's sweeps fell behind: JudgementStarted
    reached Kafka 47 s after the submit (issue 24).
    """

    def __init__(
        self,
        stores: Sequence[DocumentStore],
        publish: Publish,
        catalogue: Catalogue,
        *,
        poll_seconds: float = 0.5,
        batch: int = 100,
        lease: RelayLease | None = None,
        grace_seconds: float = 0.0,
    ) -> None:
        self.stores = list(stores)
        self.publish = publish
        self.catalogue = catalogue
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.lease = lease
        self.grace = timedelta(seconds=grace_seconds)
        self._noted: dict[tuple[str, Any], tuple[DocumentStore, Document]] = {}
        self._noted_wake = asyncio.Event()
        self._limit = asyncio.Semaphore(RELAY_CONCURRENCY)

    def note(self, store: DocumentStore, doc: Document) -> None:
        """``doc`` was written with events: publish them now (the latest write wins)."""
        self._noted[(store.name, doc["_id"])] = (store, doc)
        self._noted_wake.set()

    async def run_noted(self) -> int:
        """Publish the events of the documents noted so far; how many were published."""
        noted, self._noted = self._noted, {}
        done = await asyncio.gather(
            *(self._relay(store, doc, self._limit) for store, doc in noted.values()),
            return_exceptions=True,
        )
        for failed in (d for d in done if isinstance(d, BaseException)):
            # left in the outbox: the sweep publishes it after the grace period
            log.warning("outbox.publish_failed", error=repr(failed))
        return sum(d for d in done if isinstance(d, int))

    async def run_noted_forever(self) -> None:
        while True:
            await self._noted_wake.wait()
            self._noted_wake.clear()
            await self.run_noted()  # failures are logged there and left to the sweep

    async def run_once(self) -> int:
        """Publish everything pending now; returns how many events were published (none
        while another process holds the lease).

        The documents of a sweep are relayed concurrently (each document's events in their
        order, then its outbox emptied): the producer batches what is sent at once, where
        awaiting each acknowledgement and each write in turn held the relay to one document
        per few round trips (issue 24: ApplicationSubmitted reached Kafka 26 s after the
        submit at 10 applications per second). A failure leaves the document pending for
        the next sweep (the others are marked), then is raised.
        """
        if self.lease is not None and not await self.lease.acquire():
            return 0
        published = 0
        limit = asyncio.Semaphore(RELAY_CONCURRENCY)
        settled = datetime.now(UTC) - self.grace
        for store in self.stores:
            docs = await store.pending(self.batch)
            _observe_backlog(store.name, docs)
            if self.grace:
                docs = [d for d in docs if _oldest(d) <= settled]
            if not docs:
                continue
            if self.lease is not None and not self.lease.held:
                return published  # ran out of time: the next sweep renews it
            done = await asyncio.gather(
                *(self._relay(store, doc, limit) for doc in docs), return_exceptions=True
            )
            failed = next((d for d in done if isinstance(d, BaseException)), None)
            published += sum(d for d in done if isinstance(d, int))
            if failed is not None:
                raise failed
        return published

    async def _relay(self, store: DocumentStore, doc: Document, limit: asyncio.Semaphore) -> int:
        """Publish the document's pending events in order and empty its outbox. When the
        document moved on meanwhile, it is read again: what is still pending then (and not
        published just now) is published, and the outbox emptied, up to three times."""
        published: set[str] = set()
        async with limit:
            current: Document | None = doc
            for _ in range(3):
                if current is None or not current.get(OUTBOX):
                    break
                ids: list[str] = []
                for entry in current.get(OUTBOX, []):
                    if entry["id"] not in published:
                        envelope = self.catalogue.from_document(entry)
                        with correlation_scope(envelope.correlation_id):
                            await self.publish(envelope)
                        published.add(entry["id"])
                    ids.append(entry["id"])
                if await store.mark_published(current, ids):
                    break
                log.info("outbox.moved_on", collection=store.name, doc_id=str(doc["_id"]))
                current = await store.get(doc["_id"])
        OUTBOX_PUBLISHED.labels(store.name).inc(len(published))
        return len(published)

    async def run(self) -> None:
        noted = asyncio.create_task(self.run_noted_forever(), name="outbox-relay-noted")
        # With writers publishing their own events a sweep finds only what is older than the
        # grace, yet FerretDB returns it every pending document (no LIMIT): while sweeps find
        # nothing, the pause between them doubles up to SWEEP_MAX_SECONDS (within the lease's
        # half, so that the sweep also keeps the lease); one that publishes resets it.
        pause = max(self.poll_seconds, self.grace.total_seconds() / 2)
        longest = max(pause, SWEEP_MAX_SECONDS if self.grace else self.poll_seconds)
        if self.lease is not None:
            longest = min(longest, self.lease.seconds / 2)
        every = pause
        try:
            while True:
                found = 0
                try:
                    while published := await self.run_once():
                        found += published
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox.relay_failed")
                every = pause if found else min(every * 2, longest)
                await asyncio.sleep(every)
        finally:
            noted.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await noted
            if self.lease is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.lease.release())


def _oldest(doc: Document) -> datetime:
    """When the oldest event in the document's outbox was raised."""
    return min(datetime.fromisoformat(e["time"]) for e in doc.get(OUTBOX, []))


def _observe_backlog(collection: str, docs: Sequence[Document]) -> None:
    pending = [d for d in docs if d.get(OUTBOX)]
    OUTBOX_PENDING.labels(collection).set(sum(len(d[OUTBOX]) for d in pending))
    if pending:
        oldest = min(_oldest(d) for d in pending)
        OUTBOX_OLDEST_AGE.labels(collection).set((datetime.now(UTC) - oldest).total_seconds())
    else:
        OUTBOX_OLDEST_AGE.labels(collection).set(0)
