"""Prometheus metrics of the judgement service."""

from __future__ import annotations

from prometheus_client import Counter

from shared_kernel.events.catalogue import JudgementCompletedV2

JUDGEMENTS = Counter(
    "judgements_completed_total",
    "Completed judgements by trade, requested level, judged level and decision",
    ["trade", "requested_level", "eligible_level", "decision"],
)


def count_judgement(event: JudgementCompletedV2) -> None:
    JUDGEMENTS.labels(
        event.trade, str(event.requested_level), str(event.eligible_level), event.decision
    ).inc()
