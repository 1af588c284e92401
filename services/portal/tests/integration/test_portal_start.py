"""The portal owns no data: it starts, and answers its probes, with Kafka and the database
out of reach."""

from __future__ import annotations

import httpx

from portal.config import Settings
from portal.inject import create_app
from shared_kernel.infra.testing import isolated

from .conftest import free_port, running_portal, serving


async def test_the_portal_starts_without_kafka_or_the_database() -> None:
    settings = isolated(
        Settings,
        mongodb_url=f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=500",
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        identity_url=f"http://127.0.0.1:{free_port()}",
        ops_sample_seconds=3600,
    )
    async with serving(create_app(settings)) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        page = await client.get("/", headers={"Accept": "text/html"})
    assert health.status_code == 200
    assert ready.status_code == 503  # from the services it calls: identity is down
    assert ready.json()["checks"] == {"identity": "unavailable"}
    assert page.status_code == 200


async def test_the_portal_is_ready_when_identity_answers() -> None:
    def identity(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        return httpx.Response(404, json={"code": "not_found", "message": "-"})

    async with running_portal(identity) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"identity": "ok"}
