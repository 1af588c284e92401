"""HTTP/1.1 client of the portal: h11 over asyncio streams.

The portal's only outbound I/O is calling the services' JSON APIs. The workspace has no
HTTP client among its runtime dependencies (httpx is a development dependency only), but
h11 — the HTTP/1.1 state machine uvicorn itself runs on — is always installed, so this small
adapter speaks HTTP with it: one connection per request (``Connection: close``; the services
run next to the portal, so connecting is cheap and no pool can go stale), the whole exchange
under one timeout, TLS for ``https://`` URLs, and a cap on the body size.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from contextlib import suppress
from urllib.parse import urlsplit

import h11

from portal.ports.transport import Reply, Unreachable

MAX_BODY_BYTES = 64 * 1024 * 1024
READ_CHUNK = 65536
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class H11Transport:
    def __init__(self, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.max_body_bytes = max_body_bytes
        self._tls = ssl.create_default_context()

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: float,
    ) -> Reply:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unreachable(url, "unsupported URL")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = [
            ("Host", parts.netloc),
            ("Connection", "close"),
            ("User-Agent", "noryoku-portal"),
            *headers,
        ]
        if body is not None or method in BODY_METHODS:
            request_headers.append(("Content-Length", str(len(body or b""))))
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    parts.hostname, port, ssl=self._tls if tls else None
                )
                try:
                    return await self._exchange(
                        reader, writer, method, target, request_headers, body
                    )
                finally:
                    writer.close()
                    with suppress(OSError, ssl.SSLError):
                        await writer.wait_closed()
        except TimeoutError:
            raise Unreachable(url, f"no answer within {timeout:g}s") from None
        except (OSError, h11.ProtocolError, ssl.SSLError) as exc:
            raise Unreachable(url, f"{type(exc).__name__}: {exc}") from None

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
    ) -> Reply:
        connection = h11.Connection(h11.CLIENT)
        out = connection.send(h11.Request(method=method, target=target, headers=headers)) or b""
        if body:
            out += connection.send(h11.Data(data=body)) or b""
        out += connection.send(h11.EndOfMessage()) or b""
        writer.write(out)
        await writer.drain()
        response: h11.Response | None = None
        chunks: list[bytes] = []
        size = 0
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await reader.read(READ_CHUNK))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > self.max_body_bytes:
                    raise h11.RemoteProtocolError("response body too large")
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
            # h11.InformationalResponse (1xx): keep reading
        if response is None:
            raise h11.RemoteProtocolError("connection closed before a response")
        return Reply(
            status=response.status_code,
            headers=tuple(
                (name.decode("latin-1").lower(), value.decode("latin-1"))
                for name, value in response.headers
            ),
            body=b"".join(chunks),
        )
