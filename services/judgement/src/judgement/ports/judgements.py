"""The judgement core's ports to a line's judgements (pure: typed, no database driver).

``judgement.adapters.outbound.judgements`` holds the adapters (``Repository`` over the
document stores, wired in ``judgement.inject``); the unit tests use them over
``MemoryDocuments``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from judgement.core.lines import JudgementLine, JudgementSummary, Rejudgement, RejudgementSummary
from shared_kernel.aggregate import Aggregates


class JudgementLines(Aggregates[JudgementLine], Protocol):
    """``judgements``: a line's first judgement (the aggregate), and the reads lists need."""

    async def summaries(self, flt: Mapping[str, Any]) -> list[JudgementSummary]:
        """The selected lines without their application line and request (a projection)."""
        ...

    async def exists(self, flt: Mapping[str, Any]) -> bool: ...

    async def trades(self, flt: Mapping[str, Any]) -> list[str]:
        """The 分野 of the selected lines, in the order found (repeated as found)."""
        ...

    async def worker_trades(self, flt: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(技能者ID, 分野) of the selected lines, in the order found."""
        ...


class Rejudgements(Protocol):
    """``rejudgements``: the later judgements of lines, immutable (read here; the bulk
    re-judgement writes them: ``judgement.rejudge.service``)."""

    async def find(self, flt: Mapping[str, Any]) -> list[Rejudgement]: ...

    async def summaries(self, flt: Mapping[str, Any]) -> list[RejudgementSummary]:
        """The selected re-judgements without their request and event (a projection)."""
        ...
