"""Consumer lag: per topic partition, the high-water mark minus the group's committed offset.

Every service that consumes runs ``watch_lag`` in the background; it sets the
``kafka_consumer_lag`` gauge (and ``kafka_consumer_lag_total`` per topic) that the
operations screen and the alert rules read. A failed measurement leaves the gauges as they
were; ``kafka_consumer_lag_measured_timestamp_seconds`` says when they were last right (the
alert ``ConsumerLagNotMeasured`` fires when that is over five minutes ago).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared_kernel.infra.kafka import kafka_options, partitions_of
from shared_kernel.infra.logging import get_logger
from shared_kernel.infra.metrics import CONSUMER_LAG, CONSUMER_LAG_MEASURED, CONSUMER_LAG_TOTAL
from shared_kernel.infra.settings import ServiceSettings

log = get_logger(__name__)


async def measure_lag(
    settings: ServiceSettings | str, group: str, topics: Iterable[str]
) -> dict[TopicPartition, int]:
    """Lag per partition of ``topics`` for ``group`` (uncommitted partitions count whole);
    ``settings`` gives the connection (a plain bootstrap address: an unsecured broker)."""
    partitions = await partitions_of(settings, topics)
    if not partitions:
        return {}
    options = (
        {"bootstrap_servers": settings} if isinstance(settings, str) else kafka_options(settings)
    )
    admin = AIOKafkaAdminClient(**options)
    reader = AIOKafkaConsumer(**options, enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        ends = await reader.end_offsets(partitions)
        beginnings = await reader.beginning_offsets(partitions)
        lag = {}
        for tp in partitions:
            meta = committed.get(tp)
            position = meta.offset if meta is not None and meta.offset >= 0 else beginnings[tp]
            lag[tp] = max(0, ends[tp] - position)
        return lag
    finally:
        await reader.stop()
        await admin.close()


async def watch_lag(
    settings: ServiceSettings | str, group: str, topics: list[str], every_seconds: float = 15.0
) -> None:
    """Background job: refresh the lag gauges every ``every_seconds``."""
    while True:
        try:
            lag = await measure_lag(settings, group, topics)
            totals: dict[str, int] = {}
            for tp, value in lag.items():
                CONSUMER_LAG.labels(tp.topic, group, str(tp.partition)).set(value)
                totals[tp.topic] = totals.get(tp.topic, 0) + value
            for topic, total in totals.items():
                CONSUMER_LAG_TOTAL.labels(topic, group).set(total)
            CONSUMER_LAG_MEASURED.labels(group).set(time.time())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("lag.measure_failed", error=repr(exc))
        await asyncio.sleep(every_seconds)
