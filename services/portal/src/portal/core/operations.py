"""The operations screen's arithmetic (pure): history, rates, failures.

The sampler (``adapters/outbound/sampler.py``) reads every service's ``/healthz``,
``/readyz`` and ``/metrics`` every few seconds and hands the results to :class:`History`,
which keeps a ring buffer of counter totals (for throughput over the last minutes) and
notices what went wrong between two samples (for the list of recent failures). The
``/metrics`` text is read into :class:`Sample` s by a ``ports.metrics.MetricsParser``
(``adapters/outbound/metrics_text.py``). Everything here works on plain values, so it is
tested without any service running.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
"""Routes the sampler itself calls: left out of the request rate."""
FAILURE_OUTCOMES = ("retried", "failed", "dead_lettered")
OUTCOME_JA = {
    "handled": "処理済み",
    "duplicate": "重複（スキップ）",
    "retried": "再試行",
    "failed": "失敗",
    "dead_lettered": "デッドレター",
    "ignored": "対象外",
}


class MetricsFormatError(ValueError):
    """The text is not in the Prometheus exposition format."""


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


ProbeState = Literal["ok", "failing", "unreachable"]


@dataclass(frozen=True)
class Probe:
    """One ``/healthz`` or ``/readyz`` answer."""

    state: ProbeState
    status_code: int | None = None
    checks: Mapping[str, str] = field(default_factory=dict)
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def label_ja(self) -> str:
        return {"ok": "正常", "failing": "異常", "unreachable": "応答なし"}[self.state]


@dataclass(frozen=True)
class Scrape:
    """What the sampler read from one service at one instant."""

    service: str
    at: float
    health: Probe
    ready: Probe
    samples: tuple[Sample, ...] | None = None
    metrics_error: str | None = None

    def find(self, name: str) -> list[Sample]:
        return [s for s in self.samples or () if s.name == name]


# --- what one scrape says ------------------------------------------------------------------


@dataclass(frozen=True)
class Lag:
    topic: str
    group: str
    lag: float


@dataclass(frozen=True)
class Outbox:
    collection: str
    pending: float
    oldest_age_seconds: float


@dataclass(frozen=True)
class Consumed:
    topic: str
    group: str
    outcome: str
    count: float

    @property
    def outcome_ja(self) -> str:
        return OUTCOME_JA.get(self.outcome, self.outcome)


def lag_of(scrape: Scrape) -> list[Lag]:
    return sorted(
        (
            Lag(s.labels.get("topic", ""), s.labels.get("group", ""), s.value)
            for s in scrape.find("kafka_consumer_lag_total")
        ),
        key=lambda x: (x.group, x.topic),
    )


def outbox_of(scrape: Scrape) -> list[Outbox]:
    ages = {
        s.labels.get("collection", ""): s.value
        for s in scrape.find("outbox_oldest_pending_age_seconds")
    }
    return sorted(
        (
            Outbox(
                s.labels.get("collection", ""), s.value, ages.get(s.labels.get("collection", ""), 0)
            )
            for s in scrape.find("outbox_pending_events")
        ),
        key=lambda x: x.collection,
    )


def consumed_of(scrape: Scrape) -> list[Consumed]:
    return sorted(
        (
            Consumed(
                s.labels.get("topic", ""),
                s.labels.get("group", ""),
                s.labels.get("outcome", ""),
                s.value,
            )
            for s in scrape.find("events_consumed_total")
        ),
        key=lambda x: (x.group, x.topic, x.outcome),
    )


def dead_letters_of(scrape: Scrape) -> list[Consumed]:
    return [c for c in consumed_of(scrape) if c.outcome == "dead_lettered"]


def events_total(scrape: Scrape) -> float | None:
    """Events consumed (every outcome but retries, which are not new events)."""
    if scrape.samples is None:
        return None
    return sum(c.count for c in consumed_of(scrape) if c.outcome != "retried")


def http_total(scrape: Scrape) -> float | None:
    """HTTP requests served, without the probes the sampler itself makes."""
    if scrape.samples is None:
        return None
    return sum(
        s.value
        for s in scrape.find("http_requests_total")
        if s.labels.get("route") not in PROBE_ROUTES
    )


def http_errors(scrape: Scrape) -> dict[tuple[str, str, str], float]:
    """5xx responses per (method, route, status)."""
    return {
        (s.labels.get("method", ""), s.labels.get("route", ""), s.labels.get("status", "")): s.value
        for s in scrape.find("http_requests_total")
        if s.labels.get("status", "").startswith("5")
    }


def mail_failures(scrape: Scrape) -> dict[str, float]:
    return {
        s.labels.get("template", ""): s.value
        for s in scrape.find("notification_mails_failed_total")
    }


# --- history -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """Counter totals of every service at one sampling instant."""

    at: float
    events: Mapping[str, float | None]
    requests: Mapping[str, float | None]


@dataclass(frozen=True)
class Failure:
    """Something that went wrong between two samples (newest first on the screen)."""

    at: float
    service: str
    kind: str
    message: str
    count: float = 1


def increase(before: float | None, after: float | None) -> float | None:
    """Counter increase between two readings; a smaller reading means a restart (reset)."""
    if before is None or after is None:
        return None
    return after - before if after >= before else after


def failures_between(previous: Scrape | None, current: Scrape) -> list[Failure]:
    """What went wrong since the previous sample of the same service."""
    found: list[Failure] = []
    at, service = current.at, current.service
    for name, probe, before in (
        ("healthz", current.health, previous.health if previous else None),
        ("readyz", current.ready, previous.ready if previous else None),
    ):
        if not probe.ok and (before is None or before.ok):
            detail = probe.detail or ", ".join(
                f"{k}: {v}" for k, v in probe.checks.items() if v != "ok"
            )
            message = f"/{name} が{probe.label_ja}になりました"
            if detail:
                message += f"（{detail}）"
            found.append(Failure(at, service, "probe", message))
        elif probe.ok and before is not None and not before.ok:
            found.append(Failure(at, service, "recovered", f"/{name} が正常に戻りました", 0))
    if previous is None or previous.samples is None or current.samples is None:
        newly = previous is None or previous.metrics_error is None
        if current.metrics_error and newly and current.health.ok:  # else the probe said it
            message = f"/metrics を読めません（{current.metrics_error}）"
            found.append(Failure(at, service, "metrics", message))
        return found
    before_consumed = {(c.topic, c.group, c.outcome): c.count for c in consumed_of(previous)}
    for c in consumed_of(current):
        if c.outcome not in FAILURE_OUTCOMES:
            continue
        grown = increase(before_consumed.get((c.topic, c.group, c.outcome), 0.0), c.count)
        if grown:
            message = f"{c.topic}（{c.group}）: {c.outcome_ja} {grown:g}件"
            found.append(Failure(at, service, c.outcome, message, grown))
    before_errors = http_errors(previous)
    for (method, route, status), value in http_errors(current).items():
        grown = increase(before_errors.get((method, route, status), 0.0), value)
        if grown:
            message = f"HTTP {status}: {method} {route} {grown:g}件"
            found.append(Failure(at, service, "http_5xx", message, grown))
    before_mails = mail_failures(previous)
    for template, value in mail_failures(current).items():
        grown = increase(before_mails.get(template, 0.0), value)
        if grown:
            message = f"メール送信失敗（{template}）{grown:g}件"
            found.append(Failure(at, service, "mail_failed", message, grown))
    return found


class History:
    """The sampler's memory: the last scrape per service, a ring of points, recent failures."""

    def __init__(self, max_points: int, max_failures: int = 100) -> None:
        self.points: deque[Point] = deque(maxlen=max(2, max_points))
        self.failures: deque[Failure] = deque(maxlen=max_failures)
        self.latest: dict[str, Scrape] = {}

    def add(self, scrapes: Iterable[Scrape], at: float) -> list[Failure]:
        found: list[Failure] = []
        events: dict[str, float | None] = {}
        requests: dict[str, float | None] = {}
        for scrape in scrapes:
            found.extend(failures_between(self.latest.get(scrape.service), scrape))
            self.latest[scrape.service] = scrape
            events[scrape.service] = events_total(scrape)
            requests[scrape.service] = http_total(scrape)
        self.points.append(Point(at, events, requests))
        for failure in found:
            self.failures.appendleft(failure)
        return found


@dataclass(frozen=True)
class Rate:
    at: float
    per_minute: float | None
    increase: float | None = None


def rates(points: Sequence[Point], service: str, kind: Literal["events", "requests"]) -> list[Rate]:
    """Per-minute rate between consecutive points (``None`` where a reading is missing)."""
    result: list[Rate] = []
    for before, after in itertools.pairwise(points):
        a = (before.events if kind == "events" else before.requests).get(service)
        b = (after.events if kind == "events" else after.requests).get(service)
        grown = increase(a, b)
        seconds = after.at - before.at
        per_minute = None if grown is None or seconds <= 0 else grown * 60.0 / seconds
        result.append(Rate(after.at, per_minute, grown))
    return result


def total_over(rates_: Sequence[Rate]) -> float:
    """How many happened over the whole window (sum of the increases)."""
    return sum(r.increase for r in rates_ if r.increase is not None)


def sparkline(values: Sequence[float | None], width: int = 240, height: int = 40) -> str:
    """SVG ``points`` of a polyline for the values (gaps drawn at zero), scaled to fit."""
    if not values:
        return ""
    numbers = [v or 0.0 for v in values]
    top = max(numbers) or 1.0
    step = width / max(1, len(numbers) - 1)
    return " ".join(
        f"{i * step:.1f},{height - (v / top) * (height - 2) - 1:.1f}" for i, v in enumerate(numbers)
    )


def age_ja(seconds: float) -> str:
    """A short Japanese duration: 12秒, 3分, 2時間5分."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}秒"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}分"
    return f"{minutes // 60}時間{minutes % 60}分"
