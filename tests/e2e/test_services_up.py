"""Every service starts as its own process and answers its probes against real infrastructure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from shared_kernel.infra.settings import ServiceSettings

SERVICES = ["portal", "identity", "consent", "application", "judgement", "notification", "document"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def running_services(settings: ServiceSettings) -> Iterator[dict[str, int]]:
    ports = {name: free_port() for name in SERVICES}
    procs: list[subprocess.Popen[bytes]] = []
    for name, port in ports.items():
        env = {
            **os.environ,
            # a test: the placeholder secrets are fine here (a development service would
            # refuse to serve with them: make run generates real ones)
            "APP_ENV": "test",
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "MONGODB_URL": settings.mongodb_url,
            "TOPIC_PREFIX": settings.topic_prefix,
            f"{name.upper()}_HTTP_PORT": str(port),
            f"{name.upper()}_DB_NAME": f"{settings.db_name}_{name}",
            # the portal owns no data: it is ready when identity (log-in) answers
            "PORTAL_IDENTITY_URL": f"http://127.0.0.1:{ports['identity']}",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", name, "serve"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_ready(client: httpx.Client, port: int, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = client.get(f"http://127.0.0.1:{port}/readyz")
            if response.status_code == 200 or time.monotonic() > deadline:
                return response
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_every_service_is_healthy_ready_and_exports_metrics(
    running_services: dict[str, int],
) -> None:
    with httpx.Client(timeout=5) as client:
        for name, port in running_services.items():
            ready = wait_ready(client, port)
            assert ready.status_code == 200, (name, ready.text)
            checks = {"identity": "ok"} if name == "portal" else {"database": "ok", "kafka": "ok"}
            assert ready.json() == {"status": "ready", "checks": checks}
            assert client.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
            about = client.get(f"http://127.0.0.1:{port}/", headers={"X-Correlation-ID": "e2e-1"})
            assert about.json()["service"] == name
            assert about.headers["X-Correlation-ID"] == "e2e-1"
            metrics = client.get(f"http://127.0.0.1:{port}/metrics").text
            assert 'http_requests_total{method="GET",route="/",status="200"} 1.0' in metrics
