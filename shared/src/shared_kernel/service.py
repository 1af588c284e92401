"""Service bootstrap: the FastAPI app and the command line every service shares.

A service's ``inject.py`` (its composition root) gives ``wire(runtime) -> container``,
registering its stores and event handlers; ``service_app`` runs it inside the app's
lifespan (broker and relay start there), and ``serve_cli`` is the ``__main__`` entry.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import uvicorn
from fastapi import APIRouter, FastAPI, Request

from shared_kernel import dlq_http
from shared_kernel.http import create_app
from shared_kernel.logging import configure_logging
from shared_kernel.runtime import Runtime, build_runtime, running
from shared_kernel.settings import ServiceSettings


class HasRuntime(Protocol):
    runtime: Runtime


C = TypeVar("C", bound=HasRuntime)


@asynccontextmanager
async def prepare(settings: ServiceSettings, wire: Callable[[Runtime], C]) -> AsyncIterator[C]:
    """Build the runtime, wire the service into it, start it; stop it on exit."""
    runtime = build_runtime(settings)
    container = wire(runtime)
    async with running(runtime):
        yield container


def service_app(
    title: str,
    settings: ServiceSettings,
    wire: Callable[[Runtime], HasRuntime],
    routers: Sequence[APIRouter] = (),
    *,
    dead_letters: bool = True,
) -> FastAPI:
    """The HTTP app of a service: its routers plus probes, with the runtime in its lifespan.

    A consuming service also answers the operators' dead-letter API (``shared_kernel.dlq_http``)
    for its own consumer group.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with prepare(settings, wire) as container:
            app.state.container = container
            yield

    app = create_app(
        title, lifespan=lifespan, readiness=lambda a: a.state.container.runtime.check_ready
    )
    for router in routers:
        app.include_router(router)
    if dead_letters:
        app.include_router(dlq_http.router)
    return app


def container_of(request: Request) -> Any:
    """FastAPI dependency body: the container the lifespan stored on the app."""
    return request.app.state.container


S = TypeVar("S", bound=ServiceSettings)


def serve_cli(
    name: str, settings_factory: Callable[[], S], app_factory: Callable[[S], FastAPI]
) -> int:
    """``python -m <service> serve [--host H] [--port P]``."""
    parser = argparse.ArgumentParser(prog=f"python -m {name}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service and its event consumers")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    args = parser.parse_args(sys.argv[1:])
    try:
        settings = settings_factory()
    except ValueError as exc:
        print(f"{name}: invalid settings: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(
        app_factory(settings),
        host=args.host or settings.http_host,
        port=args.port or settings.http_port,
        log_config=None,
        access_log=False,
    )
    return 0
