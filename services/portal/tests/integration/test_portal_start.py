"""The portal owns no data: it starts, and answers its probes, with Kafka and the database
out of reach."""

from __future__ import annotations

import socket

import httpx

from portal.config import Settings
from portal.inject import create_app
from shared_kernel.infra.testing import isolated


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_portal_starts_without_kafka_or_the_database() -> None:
    settings = isolated(
        Settings,
        mongodb_url=f"mongodb://127.0.0.1:{closed_port()}/?serverSelectionTimeoutMS=500",
        kafka_bootstrap_servers=f"127.0.0.1:{closed_port()}",
        identity_url=f"http://127.0.0.1:{closed_port()}",
        ops_sample_seconds=3600,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://portal.test"
        ) as client,
    ):
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        page = await client.get("/", headers={"Accept": "text/html"})
    assert health.status_code == 200
    assert ready.status_code == 503  # from the services it calls: identity is down
    assert ready.json()["checks"] == {"identity": "unavailable"}
    assert page.status_code == 200
