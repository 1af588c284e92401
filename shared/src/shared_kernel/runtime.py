"""What a running service holds: its settings, database, broker, publisher and relay.

``open_runtime`` starts them in order and stops them in reverse; each service's
``inject.py`` (its composition root) builds on it and tests may override any part.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared_kernel.events.catalogue import CATALOGUE
from shared_kernel.events.envelope import Event
from shared_kernel.indexes import ensure_indexes
from shared_kernel.kafka import EventConsumer, EventPublisher, ensure_topics, make_broker
from shared_kernel.lag import watch_lag
from shared_kernel.logging import get_logger
from shared_kernel.metrics import RETENTION_DELETED
from shared_kernel.mongo import (
    CLAIMS,
    OUTBOX_DUE,
    Document,
    DocumentStore,
    Inbox,
    OutboxRelay,
    connect,
    delete_older,
)
from shared_kernel.settings import ServiceSettings

log = get_logger(__name__)


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

    def background(self, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``job`` as a task while the service runs (e.g. a periodic sweep)."""
        self.jobs.append(job)

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
        store = DocumentStore(self.db, name, on_events=self.kick_relay)
        self.stores.append(store)
        if self.relay is not None:
            self.relay.stores.append(store)
        return store

    def publishes(self, *models: type[Event]) -> None:
        """Declare the events the service publishes: any other is refused, their topics are
        created at start-up, and the AsyncAPI document (generated from the apps) lists them."""
        self.publish.declare(*models)

    def kick_relay(self) -> None:
        """Publish newly stored events now rather than at the next poll."""
        if self.relay is not None:
            self.relay.kick()

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


def build_runtime(settings: ServiceSettings) -> Runtime:
    mongo = connect(settings.mongodb_url, serverSelectionTimeoutMS=5000)
    db = mongo[settings.db_name]
    broker = make_broker(settings)
    publish = EventPublisher(broker, settings)
    consumer = EventConsumer(broker, settings, CATALOGUE, Inbox(db))
    runtime = Runtime(settings, mongo, db, broker, publish, consumer)
    runtime.retain("inbox", "at", timedelta(days=settings.inbox_retention_days))
    return runtime


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
            if deleted:
                RETENTION_DELETED.labels(collection).inc(deleted)
                log.info("retention.deleted", collection=collection, documents=deleted)
        await asyncio.sleep(every)


@asynccontextmanager
async def running(runtime: Runtime, *, relay: bool = True) -> AsyncIterator[Runtime]:
    """Start the broker (after every subscriber is registered) and the outbox relay."""
    runtime.consumer.subscribe()
    created = await ensure_indexes(
        runtime.db,
        {name: sorted(fields) for name, fields in runtime.indexes.items()},
        postgresql_url=runtime.settings.ferretdb_postgresql_url,
    )
    log.info("indexes.ready", collections=len(created))
    await ensure_topics(
        runtime.settings, runtime.consumer.topics(), published=runtime.publish.topics()
    )
    await runtime.broker.start()
    task: asyncio.Task[None] | None = None
    if relay:
        runtime.relay = OutboxRelay(
            runtime.stores,
            runtime.publish,
            CATALOGUE,
            poll_seconds=runtime.settings.outbox_poll_seconds,
        )
        task = asyncio.create_task(runtime.relay.run(), name="outbox-relay")
    topics = list(runtime.consumer.topics())
    if topics:  # consumer lag for /metrics, measured in the background
        settings = runtime.settings
        lag = partial(
            watch_lag,
            settings.kafka_bootstrap_servers,
            runtime.consumer.group,
            topics,
            settings.lag_poll_seconds,
        )
        runtime.background(lag)
    if runtime.retention:
        runtime.background(partial(sweep_retention, runtime))
    tasks = [asyncio.create_task(job(), name=f"job-{n}") for n, job in enumerate(runtime.jobs)]
    if task is not None:
        tasks.append(task)
    log.info("runtime.started", topics=list(runtime.consumer.topics()))
    try:
        yield runtime
    finally:
        for running_task in tasks:
            running_task.cancel()
        for running_task in tasks:
            with suppress(asyncio.CancelledError):
                await running_task
        await runtime.broker.stop()
        await runtime.mongo.close()
        log.info("runtime.stopped")


__all__: Sequence[str] = ["Runtime", "build_runtime", "running"]
