"""Process roles (``serve --role http|consume|all``) and the operators' CLI (issue 23)."""

import asyncio
import subprocess
import sys

from fastapi import APIRouter
from fastapi.testclient import TestClient

from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ConsentRejected, UserActivated
from shared_kernel.infra.runtime import CONSUME_ROLES, Runtime, build_runtime, migrate, running
from shared_kernel.infra.service import service_app
from shared_kernel.infra.settings import ServiceSettings


class Wired:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.ran: list[str] = []

        async def handle(envelope: Envelope) -> None:
            pass

        runtime.consumer.handle(ConsentRejected, handle)
        runtime.publishes(UserActivated)
        runtime.store("users")
        runtime.background(self.job("every"))
        runtime.background(self.job("consume"), roles=CONSUME_ROLES)

    def job(self, name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            self.ran.append(name)
            await asyncio.Event().wait()

        return run


async def started(settings: ServiceSettings, role: str) -> Wired:
    runtime = build_runtime(settings)
    runtime.role = role  # type: ignore[assignment]
    wired = Wired(runtime)
    async with running(runtime):
        await asyncio.sleep(0.2)
        wired.subscribed = runtime.consumer._subscribed  # type: ignore[attr-defined]
        wired.relay = runtime.relay is not None and runtime.relay.lease is not None  # type: ignore[attr-defined]
    return wired


async def test_http_role_runs_no_consumers_nor_consume_jobs(settings: ServiceSettings) -> None:
    http = await started(settings, "http")
    assert http.subscribed is False  # type: ignore[attr-defined]
    assert http.ran == ["every"]
    assert http.relay  # type: ignore[attr-defined]  # it writes: it relays, under the lease


async def test_consume_and_all_roles_run_consumers_and_jobs(settings: ServiceSettings) -> None:
    for role in ("consume", "all"):
        wired = await started(settings, role)
        assert wired.subscribed is True, role  # type: ignore[attr-defined]
        assert sorted(wired.ran) == ["consume", "every"], role


def test_the_consume_role_serves_probes_only(settings: ServiceSettings) -> None:
    router = APIRouter()

    @router.get("/things")
    def things() -> list[str]:
        return []

    for role, status in (("consume", 404), ("http", 200)):
        own = settings.model_copy(update={"process_role": role})
        with TestClient(service_app("t", own, Wired, [router])) as client:
            assert client.get("/things").status_code == status, role
            assert client.get("/healthz").status_code == 200
            assert client.get("/metrics").status_code == 200


async def test_migrate_is_idempotent(settings: ServiceSettings, db: object) -> None:
    runtime = build_runtime(settings)
    Wired(runtime)
    users = runtime.db["users"]
    await users.insert_one({"_id": "old", "version": 3, "_outbox": [{"id": "e1"}]})
    try:
        assert await migrate(runtime) == ["0001-outbox-due-flag"]
        doc = await users.find_one({"_id": "old"})
        assert doc is not None and doc["_outbox_due"] is True and doc["_outbox_pending"] == 1
        assert await migrate(runtime) == []
    finally:
        await runtime.mongo.close()


def test_help_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "judgement", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("serve", "migrate", "evaluate", "feed", "rejudge"):
        assert f"    {command}" in out, out
    serve = subprocess.run(
        [sys.executable, "-m", "consent", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "{http,consume,all}" in serve


async def test_the_local_stack_migrates_at_start_up_elsewhere_the_job_does(
    settings: ServiceSettings,
) -> None:
    """APP_ENV=development runs the pending migrations when the service starts; any other
    environment leaves them to ``python -m <service> migrate`` (the Kubernetes Job)."""
    for environment, expected in (("test", []), ("development", ["0099-startup"])):
        runtime = build_runtime(settings.model_copy(update={"environment": environment}))
        ran: list[str] = []

        async def step(_: Runtime, ran: list[str] = ran) -> None:
            ran.append("0099-startup")

        runtime.migration("0099-startup", step)
        async with running(runtime, relay=False):
            pass
        assert ran == expected, environment
