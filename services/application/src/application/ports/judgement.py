"""What the application service asks the judgement service (over HTTP in production).

Errors are the core's: ``JudgementUnavailable`` (outage or unexpected answer),
``CcusNotFound`` (no snapshot of the worker yet), ``TradeNotAvailable`` (no criteria).
``authorization`` is the caller's ``Authorization`` header, forwarded as it came.
"""

from __future__ import annotations

from typing import Any, Protocol

from application.core.career import CareerRules


class JudgementPort(Protocol):
    async def judgeable_trades(self) -> frozenset[str]:
        """Names of the trades with loaded criteria (``GET /trades?judgeable=true``)."""
        ...

    async def rules(self) -> CareerRules:
        """The criteria master's rules for the forms (``GET /rules``): the 経歴証明
        cut-off dates and the levels that ask 職長・班長 time."""
        ...

    async def ccus_summary(self, worker_id: str, authorization: str) -> dict[str, Any] | None:
        """The worker's latest CCUS summary, or None if there is none yet."""
        ...

    async def preview(self, body: dict[str, Any], authorization: str) -> dict[str, Any]:
        """The §5 result the real judgement would give today (``POST /preview/worker``)."""
        ...
