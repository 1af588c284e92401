"""The portal's HTTP client: one pooled ``httpx.AsyncClient`` per service.

Implements the ``Transport`` port with ``shared_kernel.infra.http_client``: the clients are made
when the portal starts (its composition root runs in the app's lifespan), reuse their
connections (keep-alive) and close at shutdown. A call goes through the client of the
service whose address it is for; timeouts and pool limits come from the settings
(``PORTAL_SERVICE_*``), a call may give a timeout of its own (the operations sampler's
probes). No HTTP answer — refused, reset, timed out, not HTTP, a body over the cap — is
``Unreachable``, which the pages show as the Japanese 503 page.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import httpx

from portal.ports.transport import Reply, Unreachable
from shared_kernel.infra.http_client import PoolSettings, ServiceClients

MAX_BODY_BYTES = 64 * 1024 * 1024
USER_AGENT = "noryoku-portal"


def _sniffio_absent() -> None:
    """Make ``import sniffio`` fail at once when the package is not installed.

    httpcore tells asyncio from trio with ``import sniffio`` each time it sets up a lock or
    an event (several times a call); without the package every such import searches
    ``sys.path`` again (≈ 75 µs each, ≈ 0.5 ms of CPU per service call). A ``None`` in
    ``sys.modules`` is Python's own "known to be absent": the import raises the same
    ``ImportError`` at once, and httpcore takes asyncio as before.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_sniffio_absent()


def origin(url: str) -> str | None:
    """``scheme://host:port`` of ``url`` (default ports spelt out), None if not HTTP(S)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


class PooledTransport:
    def __init__(
        self,
        urls: Mapping[str, str],
        pool: PoolSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.clients = ServiceClients(urls, pool, user_agent=USER_AGENT, transport=transport)
        self.pool = pool
        self.max_body_bytes = max_body_bytes
        self._by_origin: dict[str, httpx.AsyncClient] = {}
        for name, url in self.clients.urls.items():
            found = origin(url)
            if found is not None:
                self._by_origin.setdefault(found, self.clients[name])

    async def aclose(self) -> None:
        await self.clients.aclose()

    async def close_on_stop(self) -> None:
        await self.clients.close_on_stop()

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: float,
    ) -> Reply:
        key = origin(url)
        if key is None:
            raise Unreachable(url, "unsupported URL")
        client = self._by_origin.get(key)
        if client is None:
            raise Unreachable(url, "not the address of a configured service")
        try:
            async with client.stream(
                method,
                url,
                headers=list(headers),
                content=body,
                timeout=self.pool.timeout(timeout),
            ) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise Unreachable(url, "response body too large")
                    chunks.append(chunk)
        except httpx.TimeoutException:
            raise Unreachable(url, f"no answer within {timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise Unreachable(url, f"{type(exc).__name__}: {exc}") from None
        return Reply(
            status=response.status_code,
            headers=tuple((name.lower(), value) for name, value in response.headers.multi_items()),
            body=b"".join(chunks),
        )
