"""Service-to-service HTTP: one pooled ``httpx.AsyncClient`` per service called.

The portal calls every service and the application service calls judgement. Each caller
makes, in its composition root (run inside the app's lifespan), one client per service
it calls, keeps it for the life of the process and closes it at shutdown
(``ServiceClients.close_on_stop`` as a ``Runtime.background`` job):

* **keep-alive**: connections are reused between calls, up to ``max_keepalive`` idle
  ones per service for ``keepalive_seconds``; this must stay below the server's own
  keep-alive (uvicorn closes an idle connection after 5 s), or a call may pick a
  connection the server is closing;
* **limits**: at most ``max_connections`` connections to one service at once; a call that
  finds none free waits for one within its timeout (``pool``) like any other wait;
* **timeouts**: ``connect_seconds`` to connect, ``timeout_seconds`` for each other wait
  (sending, reading, a free connection); a caller may give one call a timeout of its own;
* the **correlation id** of the request or event being handled goes with every call as
  ``X-Correlation-ID`` (unless the caller set it); the caller adds the bearer token;
* no proxy from the environment (``HTTP_PROXY`` …), no redirects followed: the services
  are addressed directly.

Tests give the clients a transport of their own (``httpx.MockTransport``,
``httpx.ASGITransport``) instead of the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from shared_kernel.context import get_correlation_id

CORRELATION_HEADER = "X-Correlation-ID"


@dataclass(frozen=True)
class PoolSettings:
    """How one client talks to one service (from the caller's settings)."""

    timeout_seconds: float = 10.0
    connect_seconds: float = 3.0
    max_connections: int = 20
    max_keepalive: int = 10
    keepalive_seconds: float = 4.0

    def timeout(self, seconds: float | None = None) -> httpx.Timeout:
        """Each wait of a call: ``seconds`` (default ``timeout_seconds``), connecting at
        most ``connect_seconds`` of it."""
        total = self.timeout_seconds if seconds is None else seconds
        return httpx.Timeout(total, connect=min(self.connect_seconds, total))

    def limits(self) -> httpx.Limits:
        return httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_keepalive,
            keepalive_expiry=self.keepalive_seconds,
        )


async def send_correlation_id(request: httpx.Request) -> None:
    """Request hook: the correlation id being handled, unless the caller set one."""
    correlation_id = get_correlation_id()
    if correlation_id and CORRELATION_HEADER not in request.headers:
        request.headers[CORRELATION_HEADER] = correlation_id


def service_client(
    base_url: str,
    pool: PoolSettings,
    *,
    user_agent: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The pooled client of one service at ``base_url``."""
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        timeout=pool.timeout(),
        limits=pool.limits(),
        transport=transport,
        headers={"User-Agent": user_agent},
        event_hooks={"request": [send_correlation_id]},
        follow_redirects=False,
        trust_env=False,
    )


class ServiceClients:
    """One pooled client per service (name → base URL), made together, closed together."""

    def __init__(
        self,
        urls: Mapping[str, str],
        pool: PoolSettings,
        *,
        user_agent: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.pool = pool
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.clients = {
            name: service_client(url, pool, user_agent=user_agent, transport=transport)
            for name, url in self.urls.items()
        }

    def __getitem__(self, service: str) -> httpx.AsyncClient:
        return self.clients[service]

    def __contains__(self, service: object) -> bool:
        return service in self.clients

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def close_on_stop(self) -> None:
        """A background job (``Runtime.background``) that closes the clients when the
        service stops (the runtime cancels its jobs at shutdown)."""
        try:
            await asyncio.Event().wait()
        finally:
            await self.aclose()
