"""Reading a service's ``/metrics`` page into samples."""

from __future__ import annotations

from typing import Protocol

from portal.core.operations import Sample


class MetricsParser(Protocol):
    def __call__(self, text: str) -> list[Sample]:
        """Every sample of the page (``*_created`` timestamps left out); raises
        ``MetricsFormatError`` when the text is not in the Prometheus exposition format."""
        ...
