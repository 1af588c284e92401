"""The access log (APPI) the core writes before answering with personal data
(``shared_kernel.infra.access_log.AccessLog`` is the adapter)."""

from __future__ import annotations

from typing import Any, Protocol


class AccessRecorder(Protocol):
    async def record(
        self,
        *,
        action: str,
        endpoint: str,
        actor: str,
        actor_role: str,
        actor_employer_id: str | None,
        answer: Any,
        actor_body: str | None = None,
    ) -> None:
        """One entry naming every worker in ``answer``; raises when it cannot be written
        (a read that cannot be logged fails)."""
        ...
