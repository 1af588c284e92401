"""Reading a ``/metrics`` page (the Prometheus text format) with ``prometheus_client``'s
parser: implements ``ports.metrics.MetricsParser``."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from portal.core.operations import MetricsFormatError, Sample


def parse_metrics(text: str) -> list[Sample]:
    """Every sample of a ``/metrics`` page (``*_created`` timestamps left out)."""
    try:
        return [
            Sample(s.name, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if not s.name.endswith("_created")
        ]
    except (ValueError, TypeError, IndexError) as exc:
        raise MetricsFormatError(str(exc)) from exc
