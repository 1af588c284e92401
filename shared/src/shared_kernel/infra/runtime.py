"""What a running service holds: its settings, database, broker, publisher and relay.

``open_runtime`` starts them in order and stops them in reverse; each service's
``inject.py`` (its composition root) builds on it and tests may override any part.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

import httpx
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared_kernel.events.catalogue import CATALOGUE
from shared_kernel.events.envelope import Event
from shared_kernel.infra.auth import Authenticator, build_authenticator
from shared_kernel.infra.indexes import ensure_indexes, purge_version_claims
from shared_kernel.infra.kafka import EventConsumer, EventPublisher, ensure_topics, make_broker
from shared_kernel.infra.lag import watch_lag
from shared_kernel.infra.logging import get_logger
from shared_kernel.infra.metrics import RETENTION_DELETED
from shared_kernel.infra.mongo import (
    CLAIM_KEEP,
    CLAIMS,
    LEASES,
    OUTBOX_DUE,
    Document,
    DocumentStore,
    Inbox,
    OutboxRelay,
    RelayLease,
    connect,
    delete_older,
)
from shared_kernel.infra.settings import ServiceSettings

log = get_logger(__name__)

Role = Literal["http", "consume", "all"]
ROLES: tuple[Role, ...] = ("http", "consume", "all")
"""A process's part of its service (``python -m <service> serve --role …``): ``http`` answers
the API (and relays what it writes, when it holds the relay lease), ``consume`` runs the
event consumers, the background jobs and the relay behind a probes-only HTTP server, ``all``
both in one process (the local stack, tests)."""
EVERY_ROLE: frozenset[Role] = frozenset(ROLES)
CONSUME_ROLES: frozenset[Role] = frozenset({"consume", "all"})


@dataclass
class Runtime:
    settings: ServiceSettings
    mongo: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    broker: KafkaBroker
    publish: EventPublisher
    consumer: EventConsumer
    stores: list[DocumentStore] = field(default_factory=list)
    relay: OutboxRelay | None = None
    jobs: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    indexes: dict[str, set[str]] = field(
        default_factory=lambda: {"inbox": {"_id"}, CLAIMS: {"_id"}}
    )
    retention: dict[str, tuple[str, timedelta]] = field(default_factory=dict)
    role: Role = "all"
    """Which part of the service this process runs (``ROLES``)."""
    job_roles: dict[int, frozenset[Role]] = field(default_factory=dict)
    migrations: list[tuple[str, Callable[[Runtime], Coroutine[Any, Any, None]]]] = field(
        default_factory=list
    )
    """Data migrations (``migration``), run in order by ``python -m <service> migrate``."""

    def migration(self, name: str, step: Callable[[Runtime], Coroutine[Any, Any, None]]) -> None:
        """Declare a data migration: run once (recorded in ``migrations`` under ``name``) by
        ``migrate``; it must bear being interrupted and run again."""
        self.migrations.append((name, step))

    auth: Authenticator | None = None
    """Verifies bearer tokens (``shared_kernel.infra.auth``); identity sets its own in ``wire``."""

    def background(
        self,
        job: Callable[[], Coroutine[Any, Any, None]],
        *,
        roles: frozenset[Role] = EVERY_ROLE,
    ) -> None:
        """Run ``job`` as a task while the service runs (e.g. a periodic sweep), in the
        processes of ``roles`` (every role unless told: a sweep that only the consumers
        need says ``roles=CONSUME_ROLES``). Every job must bear running in several
        replicas at once: each role scales out."""
        self.jobs.append(job)
        self.job_roles[len(self.jobs) - 1] = roles

    @property
    def consumes(self) -> bool:
        """Whether this process runs the consumers and the consume-only jobs."""
        return self.role in CONSUME_ROLES

    def retain(self, collection: str, field: str, keep: timedelta) -> None:
        """Delete the documents of ``collection`` whose ``field`` (a date) is older than
        ``keep``, every ``retention_sweep_seconds`` while the service runs."""
        self.retention[collection] = (field, keep)

    def index(self, collection: str, *fields: str) -> None:
        """Declare a collection the service reads, and the fields it filters on by equality
        (created at start-up; ``_id`` always)."""
        self.indexes.setdefault(collection, {"_id"}).update(fields)

    def store(self, name: str, *indexed: str) -> DocumentStore:
        """A collection of aggregates whose outbox the relay publishes; ``indexed``: the
        fields the service filters it on."""
        self.index(name, OUTBOX_DUE, *indexed)
        store = DocumentStore(self.db, name, on_events=self.relay_events)
        self.stores.append(store)
        if self.relay is not None:
            self.relay.stores.append(store)
        return store

    def publishes(self, *models: type[Event]) -> None:
        """Declare the events the service publishes: any other is refused, their topics are
        created at start-up, and the AsyncAPI document (generated from the apps) lists them."""
        self.publish.declare(*models)

    def relay_events(self, store: DocumentStore, doc: Document) -> None:
        """Publish the events just stored with ``doc`` now (``OutboxRelay.note``)."""
        if self.relay is not None:
            self.relay.note(store, doc)

    async def check_ready(self) -> dict[str, str]:
        """Readiness of the database and the broker (``/readyz``)."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.mongo.admin.command("ping"), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        try:
            checks["kafka"] = "ok" if await self.broker.ping(timeout=2) else "unavailable"
        except Exception as exc:
            checks["kafka"] = f"unavailable: {type(exc).__name__}"
        return checks


def build_runtime(
    settings: ServiceSettings, *, auth_transport: httpx.AsyncBaseTransport | None = None
) -> Runtime:
    """``auth_transport``: how the token verifier reaches identity (tests: over ASGI)."""
    mongo = connect(
        settings.mongodb_url,
        serverSelectionTimeoutMS=5000,
        maxPoolSize=settings.mongodb_max_pool_size,
    )
    db = mongo[settings.db_name]
    broker = make_broker(settings)
    publish = EventPublisher(broker, settings)
    consumer = EventConsumer(broker, settings, CATALOGUE, Inbox(db))
    runtime = Runtime(settings, mongo, db, broker, publish, consumer)
    runtime.auth = build_authenticator(settings, auth_transport)
    runtime.retain("inbox", "at", timedelta(days=settings.inbox_retention_days))
    runtime.background(partial(_refresh_auth, runtime))
    return runtime


async def _refresh_auth(runtime: Runtime) -> None:
    """Background job: keep the verifier's keys and ended sessions fresh (whichever
    verifier the service wired: identity replaces the default one)."""
    if runtime.auth is not None:
        await runtime.auth.run()


RETENTION_FIRST_SWEEP_SECONDS = 60.0


async def sweep_retention(runtime: Runtime) -> None:
    """Background job: delete what is past its retention (``Runtime.retain``), now and then.

    The first sweep waits a minute, so that it never competes with a start-up (a sweep reads
    the whole collection: FerretDB serves a date range by scanning).
    """
    every = runtime.settings.retention_sweep_seconds
    await asyncio.sleep(min(RETENTION_FIRST_SWEEP_SECONDS, every))
    while True:
        for collection, (field_name, keep) in runtime.retention.items():
            try:
                before = datetime.now(UTC) - keep
                deleted = await delete_older(runtime.db, collection, field_name, before)
            except Exception:
                log.exception("retention.sweep_failed", collection=collection)
                continue
            _deleted(collection, deleted)
        # the version claims of finished writes (FerretDB only; ``mongo.CLAIM_KEEP``)
        cut = datetime.now(UTC) - CLAIM_KEEP
        url = runtime.settings.ferretdb_postgresql_url
        try:
            purged = await purge_version_claims(runtime.db, CLAIMS, cut, postgresql_url=url)
        except Exception:
            log.exception("retention.sweep_failed", collection=CLAIMS)
        else:
            _deleted(CLAIMS, purged)
        await asyncio.sleep(every)


def _deleted(collection: str, documents: int) -> None:
    if documents:
        RETENTION_DELETED.labels(collection).inc(documents)
        log.info("retention.deleted", collection=collection, documents=documents)


@asynccontextmanager
async def running(runtime: Runtime, *, relay: bool = True) -> AsyncIterator[Runtime]:
    """Start the broker (after every subscriber is registered) and the outbox relay.

    By ``runtime.role``: the consumers, their lag watch and the consume-only jobs (retention
    sweeps …) only in the ``consume`` and ``all`` roles; the relay in every role, active in
    the one process of the service that holds the relay lease (``RelayLease``).
    """
    if runtime.consumes:
        runtime.consumer.subscribe()
    runtime.index(LEASES)
    if runtime.settings.environment == "development":
        # the local stack migrates at start-up; elsewhere `python -m <service> migrate` (the
        # Kubernetes Job) runs the migrations before the new version starts
        await migrate(runtime)
    else:
        created = await ensure_indexes(
            runtime.db,
            {name: sorted(fields) for name, fields in runtime.indexes.items()},
            postgresql_url=runtime.settings.ferretdb_postgresql_url,
        )
        log.info("indexes.ready", collections=len(created))
    consumed = list(runtime.consumer.topics()) if runtime.consumes else []
    await ensure_topics(runtime.settings, consumed, published=runtime.publish.topics())
    await runtime.broker.start()
    task: asyncio.Task[None] | None = None
    if relay:
        runtime.relay = OutboxRelay(
            runtime.stores,
            runtime.publish,
            CATALOGUE,
            poll_seconds=runtime.settings.outbox_poll_seconds,
            lease=RelayLease(
                runtime.db, relay_holder(runtime), runtime.settings.outbox_lease_seconds
            ),
            grace_seconds=runtime.settings.outbox_grace_seconds,
        )
        task = asyncio.create_task(runtime.relay.run(), name="outbox-relay")
    if consumed:  # consumer lag for /metrics, measured in the background
        settings = runtime.settings
        lag = partial(
            watch_lag, settings, runtime.consumer.group, consumed, settings.lag_poll_seconds
        )
        runtime.background(lag, roles=CONSUME_ROLES)
    if runtime.retention:
        runtime.background(partial(sweep_retention, runtime), roles=CONSUME_ROLES)
    tasks = [
        asyncio.create_task(job(), name=f"job-{n}")
        for n, job in enumerate(runtime.jobs)
        if runtime.role in runtime.job_roles.get(n, EVERY_ROLE)
    ]
    if task is not None:
        tasks.append(task)
    log.info("runtime.started", role=runtime.role, topics=consumed)
    try:
        yield runtime
    finally:
        await runtime.consumer.drain()  # events in hand finish before the broker stops
        for running_task in tasks:
            running_task.cancel()
        for running_task in tasks:
            with suppress(asyncio.CancelledError):
                await running_task
        await runtime.broker.stop()
        await runtime.mongo.close()
        log.info("runtime.stopped")


MIGRATIONS = "migrations"


async def backfill_outbox_due(runtime: Runtime) -> None:
    """Documents stored before the relay swept by ``_outbox_due`` lack the flag, so their
    pending events would never be relayed: set it (and the count) from the outbox."""
    for store in runtime.stores:
        await store.backfill_outbox_flags()


BUILT_IN_MIGRATIONS: list[tuple[str, Callable[[Runtime], Coroutine[Any, Any, None]]]] = [
    ("0001-outbox-due-flag", backfill_outbox_due),
]


async def migrate(runtime: Runtime) -> list[str]:
    """Create the declared indexes, then run the migrations not yet recorded (the built-in
    ones, then the service's); returns the names of those run now. Idempotent."""
    runtime.index(LEASES)
    runtime.index(MIGRATIONS)
    created = await ensure_indexes(
        runtime.db,
        {name: sorted(fields) for name, fields in runtime.indexes.items()},
        postgresql_url=runtime.settings.ferretdb_postgresql_url,
    )
    log.info("indexes.ready", collections=len(created))
    done: list[str] = []
    record = runtime.db[MIGRATIONS]
    for name, step in [*BUILT_IN_MIGRATIONS, *runtime.migrations]:
        if await record.find_one({"_id": name}) is not None:
            continue
        log.info("migration.started", migration=name)
        await step(runtime)
        with suppress(DuplicateKeyError):  # another migrate ran it meanwhile
            await record.insert_one({"_id": name, "at": datetime.now(UTC)})
        log.info("migration.done", migration=name)
        done.append(name)
    return done


def relay_holder(runtime: Runtime) -> str:
    """Who holds the relay lease: host (the pod's name), process and role."""
    return f"{socket.gethostname()}:{os.getpid()}:{runtime.role}:{uuid.uuid4().hex[:6]}"


__all__: Sequence[str] = ["ROLES", "Role", "Runtime", "build_runtime", "migrate", "running"]
