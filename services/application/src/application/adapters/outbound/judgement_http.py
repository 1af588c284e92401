"""The judgement service over HTTP (httpx), implementing ``JudgementPort``.

One pooled client (``shared_kernel.infra.http_client``: keep-alive, timeouts and connection
limits from ``APPLICATION_JUDGEMENT_*``), made by the composition root when the service
starts and closed when it stops. The caller's ``Authorization`` header is forwarded (the
judgement service checks the same tokens) and the correlation id travels as
``X-Correlation-ID`` (the client's request hook). Anything but the answers
the port knows — a refused connection, a timeout, a 5xx, a body that is not JSON — is
``JudgementUnavailable``, which the HTTP layer turns into 503 with a Japanese message.
The judgeable trades and the master's rules (``GET /rules``: the 経歴証明 cut-off dates,
the levels that ask 職長・班長 time) change only with a new criteria master, so they are
fetched when first needed and cached briefly (``trades_ttl``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from application.core.career import CareerRules
from application.core.errors import CcusNotFound, JudgementUnavailable, TradeNotAvailable
from shared_kernel.infra.http_client import PoolSettings, service_client
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)
USER_AGENT = "noryoku-application"


class HttpJudgement:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        trades_ttl: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        pool: PoolSettings | None = None,
    ) -> None:
        """``pool``: how the client connects (default: ``timeout`` for each wait and the
        default limits); ``transport``: instead of the network (tests)."""
        self.client = service_client(
            base_url,
            pool or PoolSettings(timeout_seconds=timeout),
            user_agent=USER_AGENT,
            transport=transport,
        )
        self.trades_ttl = trades_ttl
        self.clock = clock
        self._trades: tuple[float, frozenset[str]] | None = None
        self._rules: tuple[float, CareerRules] | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    async def close_on_stop(self) -> None:
        """A background job that only closes the client when the service stops."""
        try:
            await asyncio.Event().wait()
        finally:
            await self.aclose()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        authorization: str | None = None,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if authorization:
            headers["Authorization"] = authorization
        try:
            return await self.client.request(
                method, path, headers=headers, params=params, json=body
            )
        except httpx.HTTPError as exc:
            log.warning("judgement.unreachable", path=path, error=repr(exc))
            raise JudgementUnavailable(str(exc)) from exc

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise JudgementUnavailable(f"not JSON from {response.request.url}") from exc

    def _unexpected(self, response: httpx.Response) -> JudgementUnavailable:
        log.warning(
            "judgement.unexpected_answer",
            url=str(response.request.url),
            status=response.status_code,
            body=response.text[:500],
        )
        return JudgementUnavailable(f"{response.status_code} from {response.request.url}")

    async def judgeable_trades(self) -> frozenset[str]:
        cached = self._trades
        if cached is not None and self.clock() - cached[0] < self.trades_ttl:
            return cached[1]
        response = await self._send("GET", "/trades", params={"judgeable": "true"})
        if response.status_code != 200:
            raise self._unexpected(response)
        found = self._json(response)
        if not isinstance(found, list):
            raise self._unexpected(response)
        names = frozenset(
            str(t["name"]) for t in found if isinstance(t, dict) and t.get("judgeable", True)
        )
        self._trades = (self.clock(), names)
        return names

    async def rules(self) -> CareerRules:
        cached = self._rules
        if cached is not None and self.clock() - cached[0] < self.trades_ttl:
            return cached[1]
        response = await self._send("GET", "/rules")
        if response.status_code != 200:
            raise self._unexpected(response)
        found = self._json(response)
        try:
            career = found["career"]
            rules = CareerRules(
                cap_from=date.fromisoformat(career["cap_from"]),
                cap_end=date.fromisoformat(career["cap_end"]),
                none_from=date.fromisoformat(career["none_from"]),
                management_levels=tuple(int(level) for level in found["management_levels"]),
                master_version=found.get("master_version"),
            )
        except (KeyError, TypeError, ValueError):
            raise self._unexpected(response) from None
        self._rules = (self.clock(), rules)
        return rules

    async def ccus_summary(self, worker_id: str, authorization: str) -> dict[str, Any] | None:
        response = await self._send(
            "GET", f"/workers/{worker_id}/ccus", authorization=authorization
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._unexpected(response)
        found = self._json(response)
        if not isinstance(found, dict):
            raise self._unexpected(response)
        return found

    async def preview(self, body: dict[str, Any], authorization: str) -> dict[str, Any]:
        response = await self._send(
            "POST", "/preview/worker", authorization=authorization, body=body
        )
        if response.status_code == 200:
            found = self._json(response)
            if not isinstance(found, dict):
                raise self._unexpected(response)
            return found
        if response.status_code == 404:
            raise CcusNotFound(body.get("worker_id", ""))
        if response.status_code == 422:
            answer = self._json(response)
            if isinstance(answer, dict) and answer.get("code") == "trade_not_available":
                raise TradeNotAvailable(str(answer.get("message", "")))
        raise self._unexpected(response)
