"""The portal's HTTP client (h11 over asyncio) against a real socket server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from portal.adapters.outbound.transport import H11Transport
from portal.ports.transport import Unreachable

Respond = Callable[[bytes], Awaitable[bytes | None]]


@pytest.fixture
async def server() -> AsyncIterator[Callable[[Respond], Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(respond: Respond) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length) if length else b""
            answer = await respond(head + body)
            if answer is not None:
                writer.write(answer)
                await writer.drain()
            writer.close()

        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(srv)
        return int(srv.sockets[0].getsockname()[1])

    yield start
    for srv in servers:
        srv.close()
        await srv.wait_closed()


async def test_a_json_post_and_its_answer(server: Callable[[Respond], Awaitable[int]]) -> None:
    seen: list[bytes] = []

    async def respond(request: bytes) -> bytes:
        seen.append(request)
        body = json.dumps({"受付": "𠮷野"}, ensure_ascii=False).encode()
        return (
            b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n"
            b"set-cookie: a=1\r\nset-cookie: b=2\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )

    port = await server(respond)
    sent = json.dumps({"氏名": "髙橋"}, ensure_ascii=False).encode()
    answer = await H11Transport().send(
        "POST",
        f"http://127.0.0.1:{port}/consent-applications?x=1",
        [("Authorization", "Bearer t"), ("Content-Type", "application/json")],
        sent,
        5,
    )
    assert answer.status == 201 and answer.ok
    assert answer.json() == {"受付": "𠮷野"}
    assert answer.header_values("set-cookie") == ["a=1", "b=2"]
    request = seen[0]
    assert request.startswith(b"POST /consent-applications?x=1 HTTP/1.1\r\n")
    assert b"\r\nauthorization: bearer t\r\n" in request.lower()
    assert request.endswith(sent)


async def test_a_chunked_answer_is_read_whole(server: Callable[[Respond], Awaitable[int]]) -> None:
    async def respond(_: bytes) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            b"5\r\n%PDF-\r\n3\r\nabc\r\n0\r\n\r\n"
        )

    port = await server(respond)
    answer = await H11Transport().send("GET", f"http://127.0.0.1:{port}/pdf", [], None, 5)
    assert (answer.status, answer.body) == (200, b"%PDF-abc")


async def test_no_answer_in_time_a_refused_port_or_a_broken_answer_is_unreachable(
    server: Callable[[Respond], Awaitable[int]],
) -> None:
    async def slow(_: bytes) -> bytes:
        await asyncio.sleep(5)
        return b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"

    async def garbage(_: bytes) -> bytes:
        return b"this is not http\r\n\r\n"

    async def hang_up(_: bytes) -> None:
        return None

    transport = H11Transport()
    slow_port = await server(slow)
    with pytest.raises(Unreachable, match=r"no answer within 0\.3s"):
        await transport.send("GET", f"http://127.0.0.1:{slow_port}/", [], None, 0.3)
    for respond in (garbage, hang_up):
        port = await server(respond)
        with pytest.raises(Unreachable):
            await transport.send("GET", f"http://127.0.0.1:{port}/", [], None, 5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(Unreachable, match="ConnectionRefusedError"):
        await transport.send("GET", f"http://127.0.0.1:{closed}/", [], None, 5)
    with pytest.raises(Unreachable, match="unsupported URL"):
        await transport.send("GET", "ftp://127.0.0.1/", [], None, 5)


async def test_an_oversized_answer_is_refused(server: Callable[[Respond], Awaitable[int]]) -> None:
    async def big(_: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n" + b"x" * 2000

    port = await server(big)
    with pytest.raises(Unreachable, match="too large"):
        await H11Transport(max_body_bytes=1000).send(
            "GET", f"http://127.0.0.1:{port}/", [], None, 5
        )
