"""Settings of the feed: Kafka as every service finds it, plus the feed's own knobs."""

from __future__ import annotations

from pydantic import Field

from shared_kernel.infra.settings import ServiceSettings, service_config


class FeedSettings(ServiceSettings):
    """``KAFKA_BOOTSTRAP_SERVERS`` and ``TOPIC_PREFIX`` as every service reads them, plus
    the feed's own knobs (env prefix ``JUDGEMENT_``)."""

    model_config = service_config("JUDGEMENT_")

    service_name: str = "ccus-feed"
    feed_concurrency: int = Field(default=32, ge=1, le=10_000)
    """Sends in flight at once (JUDGEMENT_FEED_CONCURRENCY)."""
    feed_connect_timeout_seconds: float = Field(default=15.0, gt=0)
    """How long to wait for Kafka at start (JUDGEMENT_FEED_CONNECT_TIMEOUT_SECONDS)."""
