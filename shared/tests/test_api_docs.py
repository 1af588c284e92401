"""Every service's API documentation works offline and names its bearer scheme (issue 23)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from shared_kernel.infra.auth import require
from shared_kernel.infra.http import create_app
from shared_kernel.principal import Principal

pytestmark = pytest.mark.unit


@asynccontextmanager
async def nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


async def no_checks() -> dict[str, str]:
    return {}


def app_with_a_protected_route() -> FastAPI:
    app = create_app("試験", lifespan=nothing, readiness=lambda _: no_checks)

    @app.get("/mine")
    async def mine(who: Annotated[Principal, Depends(require("employer"))]) -> dict[str, str]:
        return {"subject": who.subject}

    return app


async def test_swagger_ui_and_redoc_load_their_assets_from_the_service() -> None:
    app = app_with_a_protected_route()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
            html = (await client.get(page)).text
            assert f"/docs-assets/{asset}" in html
            assert "cdn.jsdelivr.net" not in html and "fonts.googleapis" not in html
            served = await client.get(f"/docs-assets/{asset}")
            assert served.status_code == 200 and len(served.content) > 100_000


async def test_openapi_declares_the_bearer_scheme_on_protected_routes_only() -> None:
    spec = app_with_a_protected_route().openapi()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert spec["paths"]["/mine"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]
