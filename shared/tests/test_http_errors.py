"""The shared HTTP error shape for what never reaches a handler (no I/O: a bare app)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from pymongo.errors import AutoReconnect
from structlog.testing import capture_logs

from shared_kernel.errors import StaleVersion
from shared_kernel.infra.http import create_app

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@asynccontextmanager
async def nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


class Body(BaseModel):
    name: str


def app() -> FastAPI:
    application = create_app("test", lifespan=nothing, readiness=lambda a: None)  # type: ignore[arg-type,return-value]

    @application.post("/echo")
    async def echo(body: Body) -> dict[str, Any]:
        return {"name": body.name}

    @application.get("/items/{item_id}")
    async def item(item_id: str, q: str = "") -> dict[str, str]:
        return {"item_id": item_id, "q": q}

    @application.get("/applications/{application_id}/workers/{worker_id}")
    async def line(application_id: str, worker_id: str) -> dict[str, str]:
        return {"application_id": application_id}

    @application.get("/database-down")
    async def database_down() -> None:
        raise AutoReconnect("127.0.0.1:27017: connection closed")

    @application.get("/contention")
    async def contention() -> None:
        raise StaleVersion("applications/AP-1: too many concurrent writes")

    @application.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return application


async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, url, **kwargs)


def shaped(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert JAPANESE.search(body["message"])
    assert "Traceback" not in response.text


async def test_a_json_body_still_reaches_the_handler() -> None:
    response = await call("POST", "/echo", json={"name": "髙橋\\u0000"})  # an escaped backslash
    assert response.json() == {"name": "髙橋\\u0000"}


async def test_nul_characters_are_refused_at_the_edge() -> None:
    shaped(await call("POST", "/echo", json={"name": "a\u0000b"}), 422, "invalid_character")
    shaped(await call("GET", "/items/a%00b"), 422, "invalid_character")
    shaped(await call("GET", "/items/a?q=%00"), 422, "invalid_character")
    assert (await call("GET", "/items/a?q=%2500")).json() == {"item_id": "a", "q": "%00"}


async def test_starlette_refusals_have_the_stable_shape() -> None:
    shaped(await call("GET", "/nowhere"), 404, "not_found")
    wrong = await call("DELETE", "/echo")
    shaped(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "POST"
    broken = await call(
        "POST", "/echo", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    shaped(broken, 422, "validation_error")


async def test_an_unexpected_error_is_a_japanese_500_without_internals() -> None:
    response = await call("GET", "/boom")
    shaped(response, 500, "internal_error")
    assert "secret internals" not in response.text


async def test_a_database_outage_is_a_japanese_503_to_retry() -> None:
    """Seen in the fault run: a request during the database restart answered 500."""
    response = await call("GET", "/database-down")
    shaped(response, 503, "service_unavailable")
    assert response.headers["retry-after"] == "5"
    assert "27017" not in response.text


async def test_write_contention_is_a_japanese_503_to_retry() -> None:
    response = await call("GET", "/contention")
    shaped(response, 503, "busy")
    assert response.headers["retry-after"] == "5"
    assert "AP-1" not in response.text


async def test_the_request_log_names_the_application_but_no_worker() -> None:
    """So that `python -m shared_kernel.infra.trace AP-…` finds every request about it."""
    with capture_logs() as logs:
        await call("GET", "/applications/AP-20261204-ABC123/workers/98765432109876")
    (line,) = [e for e in logs if e["event"] == "http.request"]
    assert line["application_id"] == "AP-20261204-ABC123"
    assert "worker_id" not in line and "98765432109876" not in str(line)
