"""Service-to-service HTTP clients: pooled (keep-alive against a real socket server),
limits and timeouts from the settings, the correlation id on every call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from shared_kernel.infra.http_client import (
    CORRELATION_HEADER,
    PoolSettings,
    ServiceClients,
    service_client,
)
from shared_kernel.infra.logging import correlation_scope


class Server:
    """A tiny HTTP/1.1 server on loopback: answers every request on a connection with
    200 and the connection's number; counts connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = str(self.connections).encode()
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n"
                    + f"content-length: {len(number)}\r\n\r\n".encode()
                    + number
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    found = Server()
    found.server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    yield found
    found.server.close()
    await found.server.wait_closed()


async def test_calls_reuse_one_kept_alive_connection(server: Server) -> None:
    async with service_client(server.url, PoolSettings(), user_agent="test") as client:
        answers = [(await client.get(f"/x/{n}")).text for n in range(5)]
        await client.post("/y", json={"氏名": "𠮷野"})
    assert answers == ["1"] * 5 and server.connections == 1


async def test_an_idle_connection_is_dropped_after_the_keepalive(server: Server) -> None:
    pool = PoolSettings(keepalive_seconds=0.05)
    async with service_client(server.url, pool, user_agent="test") as client:
        assert (await client.get("/")).text == "1"
        await asyncio.sleep(0.2)
        assert (await client.get("/")).text == "2"  # a new connection, not a stale one


async def test_settings_become_the_clients_timeouts_and_limits() -> None:
    pool = PoolSettings(
        timeout_seconds=7.0,
        connect_seconds=2.0,
        max_connections=5,
        max_keepalive=3,
        keepalive_seconds=1.5,
    )
    assert pool.timeout() == httpx.Timeout(7.0, connect=2.0)
    assert pool.timeout(1.0) == httpx.Timeout(1.0, connect=1.0)  # never longer than the call
    limits = pool.limits()
    assert (limits.max_connections, limits.max_keepalive_connections) == (5, 3)
    assert limits.keepalive_expiry == 1.5
    client = service_client("http://judgement.test/", pool, user_agent="noryoku-test")
    async with client:
        assert client.timeout == httpx.Timeout(7.0, connect=2.0)
        assert str(client.base_url) == "http://judgement.test"
        assert client.headers["User-Agent"] == "noryoku-test"
        assert not client.follow_redirects and not client.trust_env


async def test_the_correlation_id_goes_with_every_call_unless_set() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get(CORRELATION_HEADER))
        return httpx.Response(200)

    clients = ServiceClients(
        {"judgement": "http://judgement.test"},
        PoolSettings(),
        user_agent="test",
        transport=httpx.MockTransport(handler),
    )
    await clients["judgement"].get("/a")  # none bound
    with correlation_scope("cid-123"):
        await clients["judgement"].get("/b")
        await clients["judgement"].get("/c", headers={CORRELATION_HEADER: "mine"})
    assert seen == [None, "cid-123", "mine"]
    assert "judgement" in clients and "portal" not in clients
    await clients.aclose()
    assert clients["judgement"].is_closed


async def test_the_clients_close_when_the_job_is_cancelled() -> None:
    clients = ServiceClients(
        {"a": "http://a.test", "b": "http://b.test"}, PoolSettings(), user_agent="test"
    )
    job = asyncio.create_task(clients.close_on_stop())
    await asyncio.sleep(0)
    assert not clients["a"].is_closed
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert clients["a"].is_closed and clients["b"].is_closed
