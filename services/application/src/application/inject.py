"""Composition root of the application service: the one place that wires adapters to the core.

Tests override it by passing their own settings (isolated database and topics) or by
calling ``wire`` with a runtime of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from application.config import Settings
from shared_kernel.runtime import Runtime
from shared_kernel.service import service_app

TITLE = "レベル判定代行申請サービス"


@dataclass
class Container:
    runtime: Runtime
    settings: Settings


def wire(runtime: Runtime) -> Container:
    settings = runtime.settings
    assert isinstance(settings, Settings)
    return Container(runtime=runtime, settings=settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    from application.adapters.inbound.http import router

    return service_app(TITLE, settings or Settings(), wire, [router])
