"""Service bootstrap: the FastAPI app and the command line every service shares.

A service's ``inject.py`` (its composition root) gives ``wire(runtime) -> container``,
registering its stores and event handlers; ``service_app`` runs it inside the app's
lifespan (broker and relay start there), and ``serve_cli`` is the ``__main__`` entry.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import httpx
import uvicorn
from fastapi import APIRouter, FastAPI, Request

from shared_kernel.infra import dlq_http
from shared_kernel.infra.http import create_app
from shared_kernel.infra.logging import configure_logging
from shared_kernel.infra.runtime import ROLES, Runtime, build_runtime, migrate, running
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.tracing import configure_tracing


class HasRuntime(Protocol):
    runtime: Runtime


C = TypeVar("C", bound=HasRuntime)


@asynccontextmanager
async def prepare(
    settings: ServiceSettings,
    wire: Callable[[Runtime], C],
    *,
    auth_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[C]:
    """Build the runtime, wire the service into it, start it; stop it on exit. The
    process's role (``settings.process_role``) decides what starts (``running``)."""
    runtime = build_runtime(settings, auth_transport=auth_transport)
    runtime.role = settings.process_role
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

    A consuming service also answers the operators' dead-letter API (``infra.dlq_http``)
    for its own consumer group. A test may set ``app.state.auth_transport`` (an ``httpx``
    transport to identity, e.g. over ASGI) before the app starts: the token verifier reads
    identity's keys and ended sessions through it.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        transport = getattr(app.state, "auth_transport", None)
        async with prepare(settings, wire, auth_transport=transport) as container:
            app.state.container = container
            yield

    app = create_app(
        title, lifespan=lifespan, readiness=lambda a: a.state.container.runtime.check_ready
    )
    app.state.wire = wire  # for ``migrate`` (serve_cli)
    if settings.process_role == "consume":
        return app  # the consumers' process answers the probes and /metrics only
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
    name: str,
    settings_factory: Callable[[], S],
    app_factory: Callable[[S], FastAPI],
    commands: Mapping[str, tuple[str, Callable[[list[str]], int]]] | None = None,
    *,
    proxy_headers: bool = True,
) -> int:
    """``python -m <service> serve [--host H] [--port P]``.

    In development a service refuses to serve with a placeholder or short secret: ``make
    run`` generates the local stack's secrets (``deploy/local/secrets.sh``, under ``var/``),
    and only ``APP_ENV=test`` runs on placeholders. ``proxy_headers=False``: uvicorn leaves
    the client address alone (identity decides itself which proxies to believe).
    """
    commands = dict(commands or {})
    argv = sys.argv[1:]
    if argv[:1] and argv[0] in commands:  # the command parses its own arguments
        return commands[argv[0]][1](argv[1:])
    parser = argparse.ArgumentParser(
        prog=f"python -m {name}",
        description=f"The {name} service's commands (each with its own --help).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="run the service: --role http (the API), consume (event consumers, background "
        "jobs, outbox relay; probes and /metrics on the same port) or all (both; default)",
        description="Run the service. Roles: http answers the API (and relays its outbox "
        "while it holds the relay lease); consume runs the event consumers, the background "
        "jobs and the relay, with /healthz, /readyz and /metrics on the service's port; all "
        "runs both in one process (the local stack).",
    )
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--role", choices=ROLES, default=None, help="default: all")
    sub.add_parser(
        "migrate",
        help="create the database's indexes and run pending data migrations (idempotent; "
        "the deployment's migration Job), then exit",
        description="Create the indexes the service declares and run the data migrations "
        "not yet recorded in its `migrations` collection; safe to run again. Needs the "
        "database only.",
    )
    for command, (text, _) in commands.items():
        sub.add_parser(command, help=text, add_help=False)
    args = parser.parse_args(argv)
    try:
        settings = settings_factory()
    except ValueError as exc:
        print(f"{name}: invalid settings: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    serving = args.command == "serve"
    insecure = settings.insecure_secrets() if settings.environment == "development" else []
    if serving and insecure:
        names = ", ".join(settings.env_name(n) for n in insecure)
        print(
            f"{name}: {names} holds a development placeholder (or is shorter than 32 bytes): "
            "`make run` generates the local stack's secrets (var/secrets); or set real values. "
            "Only APP_ENV=test runs on placeholders.",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings, app_factory))
    if args.role:
        settings.process_role = args.role
    uvicorn.run(
        app_factory(settings),
        host=args.host or settings.http_host,
        port=args.port or settings.http_port,
        log_config=None,
        access_log=False,
        proxy_headers=proxy_headers,
    )
    return 0


async def _migrate(settings: S, app_factory: Callable[[S], FastAPI]) -> int:
    """``migrate``: wire the service as ``serve`` would (declaring its collections and
    indexes), then create the indexes and run the pending migrations; no broker."""
    wire = app_factory(settings).state.wire
    runtime = build_runtime(settings)
    try:
        wire(runtime)
        done = await migrate(runtime)
    finally:
        await runtime.mongo.close()
    print(f"{settings.service_name}: migrated ({', '.join(done) or 'nothing pending'})")
    return 0
