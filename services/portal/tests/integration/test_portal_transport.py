"""The portal's pooled HTTP clients (``PooledTransport``) against real socket servers:
keep-alive, answers read whole, no answer / a refused port / garbage / a hang-up / an
oversized body as ``Unreachable``; and the Japanese 503 page for a service that is down."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from portal.adapters.outbound.http_pool import PooledTransport, origin
from portal.config import Settings
from portal.inject import create_app
from portal.ports.transport import Unreachable
from shared_kernel.infra.http_client import PoolSettings
from shared_kernel.infra.testing import isolated

from .conftest import HTML, csrf_of, free_port, serving

Respond = Callable[[bytes], Awaitable[bytes | None]]


class Server:
    """An HTTP/1.1 server on loopback: ``respond`` answers each request (None: hang up);
    a connection serves requests until the client or the answer closes it."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.connections = 0
        self.hang_up_after_answer = False
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                answer = await self.respond(head + body)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.hang_up_after_answer or b"connection: close" in answer.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


@pytest.fixture
async def server() -> AsyncIterator[Callable[[Respond], Awaitable[Server]]]:
    servers: list[Server] = []

    async def start(respond: Respond) -> Server:
        found = Server(respond)
        found.server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
        servers.append(found)
        return found

    yield start
    for found in servers:
        assert found.server is not None
        found.server.close()
        await found.server.wait_closed()


def pooled(*urls: str, **pool: float) -> PooledTransport:
    return PooledTransport(
        {f"s{n}": url for n, url in enumerate(urls)}, PoolSettings(**pool), max_body_bytes=1000
    )


async def ok(_: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


async def test_a_json_post_and_its_answer(server: Callable[[Respond], Awaitable[Server]]) -> None:
    async def respond(_: bytes) -> bytes:
        body = json.dumps({"受付": "𠮷野"}, ensure_ascii=False).encode()
        return (
            b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n"
            b"set-cookie: a=1\r\nset-cookie: b=2\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )

    srv = await server(respond)
    transport = pooled(srv.url)
    sent = json.dumps({"氏名": "髙橋"}, ensure_ascii=False).encode()
    answer = await transport.send(
        "POST",
        f"{srv.url}/consent-applications?x=1",
        [("Authorization", "Bearer t"), ("Content-Type", "application/json")],
        sent,
        5,
    )
    await transport.aclose()
    assert answer.status == 201 and answer.ok
    assert answer.json() == {"受付": "𠮷野"}
    assert answer.header_values("set-cookie") == ["a=1", "b=2"]
    request = srv.requests[0]
    assert request.startswith(b"POST /consent-applications?x=1 HTTP/1.1\r\n")
    assert b"\r\nauthorization: bearer t\r\n" in request.lower()
    assert b"\r\nuser-agent: noryoku-portal\r\n" in request.lower()
    assert request.endswith(sent)


async def test_calls_to_a_service_reuse_one_connection(
    server: Callable[[Respond], Awaitable[Server]],
) -> None:
    srv = await server(ok)
    transport = pooled(srv.url)
    for n in range(5):
        assert (await transport.send("GET", f"{srv.url}/x/{n}", [], None, 5)).body == b"ok"
    await asyncio.gather(*(transport.send("GET", f"{srv.url}/y", [], None, 5) for _ in range(3)))
    await transport.aclose()
    assert srv.connections <= 3  # 5 calls in a row on one; the 3 at once share the pool
    assert len(srv.requests) == 8


async def test_a_connection_the_service_closed_is_not_reused(
    server: Callable[[Respond], Awaitable[Server]],
) -> None:
    """A service that closes an idle kept-alive connection (its own keep-alive ran out, or
    it restarted) between two calls: the next call connects again instead of failing."""
    srv = await server(ok)
    srv.hang_up_after_answer = True  # closes without saying so (no "Connection: close")
    transport = pooled(srv.url)
    for _ in range(3):
        assert (await transport.send("GET", f"{srv.url}/", [], None, 5)).status == 200
        await asyncio.sleep(0.05)  # the close reaches the client
    await transport.aclose()
    assert srv.connections == 3


async def test_a_chunked_answer_is_read_whole(
    server: Callable[[Respond], Awaitable[Server]],
) -> None:
    async def respond(_: bytes) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            b"5\r\n%PDF-\r\n3\r\nabc\r\n0\r\n\r\n"
        )

    srv = await server(respond)
    transport = pooled(srv.url)
    answer = await transport.send("GET", f"{srv.url}/pdf", [], None, 5)
    await transport.aclose()
    assert (answer.status, answer.body) == (200, b"%PDF-abc")


async def test_no_answer_in_time_a_refused_port_or_a_broken_answer_is_unreachable(
    server: Callable[[Respond], Awaitable[Server]],
) -> None:
    async def slow(_: bytes) -> bytes:
        await asyncio.sleep(5)
        return b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"

    async def garbage(_: bytes) -> bytes:
        return b"this is not http\r\n\r\n"

    async def hang_up(_: bytes) -> None:
        return None

    slow_srv = await server(slow)
    broken = [await server(garbage), await server(hang_up)]
    closed = f"http://127.0.0.1:{free_port()}"
    transport = pooled(slow_srv.url, *(s.url for s in broken), closed)
    with pytest.raises(Unreachable, match=r"no answer within 0\.3s"):
        await transport.send("GET", f"{slow_srv.url}/", [], None, 0.3)
    for srv in broken:
        with pytest.raises(Unreachable):
            await transport.send("GET", f"{srv.url}/", [], None, 5)
    with pytest.raises(Unreachable, match="ConnectError"):
        await transport.send("GET", f"{closed}/", [], None, 5)
    with pytest.raises(Unreachable, match="unsupported URL"):
        await transport.send("GET", "ftp://127.0.0.1/", [], None, 5)
    with pytest.raises(Unreachable, match="not the address of a configured service"):
        await transport.send("GET", "http://elsewhere.test/", [], None, 5)
    await transport.aclose()


async def test_an_oversized_answer_is_refused(
    server: Callable[[Respond], Awaitable[Server]],
) -> None:
    async def big(_: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n" + b"x" * 2000

    srv = await server(big)
    transport = pooled(srv.url)
    with pytest.raises(Unreachable, match="too large"):
        await transport.send("GET", f"{srv.url}/", [], None, 5)
    await transport.aclose()


def test_origins() -> None:
    assert origin("http://127.0.0.1:8001/x?y=1") == "http://127.0.0.1:8001"
    assert origin("http://Identity.TEST/") == "http://identity.test:80"
    assert origin("https://identity.test") == "https://identity.test:443"
    assert origin("ftp://x/") is None and origin("http:///x") is None


async def test_a_service_that_is_down_is_a_japanese_503_page(
    infrastructure: dict[str, str],
) -> None:
    """The real pooled clients, identity's port closed: the form posts to identity and the
    user gets the 503 page naming the service, after at most the connect timeout."""
    settings = isolated(
        Settings,
        environment="test",
        ops_sample_seconds=3600,
        identity_url=f"http://127.0.0.1:{free_port()}",
        service_timeout_seconds=5,
    )
    async with serving(create_app(settings)) as client:
        form = await client.get("/register", headers=HTML)
        page = await client.post("/register", data={"csrf_token": csrf_of(form)}, headers=HTML)
    assert page.status_code == 503
    assert "利用者管理サービスに接続できない" in page.text
    assert page.headers["retry-after"] == "30"
    assert "Traceback" not in page.text
