"""Prometheus metrics shared by every service (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["method", "route"]
)
EVENTS_CONSUMED = Counter(
    "events_consumed_total",
    "Consumed events by outcome (handled, duplicate, retried, dead_lettered, ignored)",
    ["topic", "group", "outcome"],
)
HANDLER_LATENCY = Histogram(
    "event_handler_duration_seconds", "Event handler latency", ["topic", "group"]
)
EVENTS_PUBLISHED = Counter("events_published_total", "Events published", ["topic", "type"])
OUTBOX_PENDING = Gauge("outbox_pending_events", "Events waiting in an outbox", ["collection"])
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox event", ["collection"]
)
OUTBOX_PUBLISHED = Counter(
    "outbox_published_total", "Events published by the outbox relay", ["collection"]
)
CONSUMER_LAG = Gauge(
    "kafka_consumer_lag",
    "High-water mark minus committed offset, per partition",
    ["topic", "group", "partition"],
)
CONSUMER_LAG_TOTAL = Gauge(
    "kafka_consumer_lag_total", "Consumer lag summed over a topic's partitions", ["topic", "group"]
)
RETENTION_DELETED = Counter(
    "retention_deleted_total", "Documents deleted after their retention period", ["collection"]
)
CONSUMER_LAG_MEASURED = Gauge(
    "kafka_consumer_lag_measured_timestamp_seconds",
    "When the group's lag was last measured (Unix time): the lag gauges keep older values",
    ["group"],
)
