"""The client's address, believing ``X-Forwarded-For`` only from configured proxies.

Identity runs without uvicorn's proxy-header handling (``serve_cli(proxy_headers=False)``)
so that it alone decides: the socket peer is the client unless it is one of
``IDENTITY_TRUSTED_PROXIES`` (addresses or CIDR networks); then the ``X-Forwarded-For``
list is read from the right, skipping trusted proxies, and the first other address is the
client (a caller cannot pick its address by sending the header itself: only what a trusted
proxy appended counts). An unreadable entry stops the walk at the last good address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fastapi import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(text: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; raises ``ValueError`` for a bad entry."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def forwarded_client(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    if not proxies or not _trusted(peer, proxies):
        return peer
    client = peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        client = hop
        if not _trusted(hop, proxies):
            break
    return client


def client_address(request: Request, proxies: Sequence[Network]) -> str:
    peer = request.client.host if request.client else "unknown"
    forwarded = ", ".join(request.headers.getlist("x-forwarded-for")) or None
    return forwarded_client(peer, forwarded, proxies)
