"""Publishing snapshots to Kafka as the CCUS partner system would.

Each snapshot goes out as a CloudEvents envelope (``ce_source`` = ``ccus``) on the physical
topic ``settings.topic(CcusWorkerSnapshot.TOPIC)``, keyed by the 技能者ID, through the
shared :class:`~shared_kernel.infra.kafka.EventPublisher` (idempotent producer, ``acks=all``).
Up to ``concurrency`` sends are in flight at once; every one is confirmed before
:func:`publish_snapshots` returns. One feed run shares one correlation id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka.errors import KafkaError

from judgement.feed.settings import FeedSettings
from shared_kernel.events.catalogue import CcusWorkerSnapshot
from shared_kernel.events.envelope import Envelope
from shared_kernel.infra.kafka import EventPublisher, ensure_topics, make_broker
from shared_kernel.infra.logging import correlation_scope
from shared_kernel.infra.settings import ServiceSettings

SOURCE = "ccus"
PUBLISHES = (CcusWorkerSnapshot,)
"""What the CCUS feed publishes (its part of docs/asyncapi.json)."""

__all__ = ["PUBLISHES", "SOURCE", "FeedSettings", "KafkaUnavailable", "publish_snapshots"]


class KafkaUnavailable(RuntimeError):
    """Kafka could not be reached or refused the events; the message is one line."""


def quiet_kafka_logging() -> None:
    """aiokafka logs connection errors itself; the CLI reports them in one line instead."""
    for name in ("aiokafka", "faststream"):
        logger = logging.getLogger(name)
        logger.handlers = [logging.NullHandler()]
        logger.propagate = False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"


async def publish_snapshots(
    snapshots: Iterable[CcusWorkerSnapshot],
    settings: ServiceSettings,
    *,
    concurrency: int = 32,
    connect_timeout: float = 15.0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Publish every snapshot (in order of submission); return how many were confirmed.

    Raises :class:`KafkaUnavailable` if Kafka cannot be reached or a send fails. Errors of
    the ``snapshots`` iterable itself (bad input) propagate unchanged, after the sends
    already in flight have been confirmed or abandoned. ``progress`` is called with the
    number confirmed so far as sends are confirmed.
    """
    servers = settings.kafka_bootstrap_servers
    try:
        # The admin client first: it fails cleanly when Kafka is down (a producer whose
        # start failed is left unclosed by the broker and complains when collected).
        async with asyncio.timeout(connect_timeout):
            await ensure_topics(settings, [settings.topic(CcusWorkerSnapshot.TOPIC)])
    except (KafkaError, OSError, TimeoutError) as exc:
        raise KafkaUnavailable(f"Kafka is not reachable at {servers}: {_reason(exc)}") from None
    broker = make_broker(settings)
    try:
        try:
            async with asyncio.timeout(connect_timeout):
                await broker.start()
        except (KafkaError, OSError, TimeoutError) as exc:
            raise KafkaUnavailable(f"Kafka is not reachable at {servers}: {_reason(exc)}") from None
        publish = EventPublisher(broker, settings, *PUBLISHES)
        with correlation_scope(None):
            return await _publish_all(snapshots, publish, concurrency, progress)
    except KafkaError as exc:
        raise KafkaUnavailable(f"publishing to Kafka at {servers} failed: {_reason(exc)}") from None
    finally:
        with contextlib.suppress(Exception):  # a broker that never started may not stop
            await broker.stop()


async def _publish_all(
    snapshots: Iterable[CcusWorkerSnapshot],
    publish: EventPublisher,
    concurrency: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    pending: set[asyncio.Task[Any]] = set()
    confirmed = 0
    try:
        for snapshot in snapshots:
            while len(pending) >= concurrency:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
                    confirmed += 1
                if progress is not None:
                    progress(confirmed)
            pending.add(asyncio.create_task(publish(Envelope(snapshot, source=SOURCE))))
            await asyncio.sleep(0)  # let the producer's sender run between snapshots
        for result in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result
            confirmed += 1
        pending.clear()
    finally:
        for task in pending:
            task.cancel()
    return confirmed
