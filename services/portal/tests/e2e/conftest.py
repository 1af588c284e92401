"""The local stack for the portal's browser tests: every service as its own process.

``stack`` starts identity, consent, application, judgement, notification, document and the
portal with ``python -m <service> serve`` on free ports, with a topic prefix and databases
of this test session's own, pointed at each other, mails going to the running SMTP sink.
It publishes the demo workers' CCUS snapshots (``python -m judgement feed demo``) and
creates an evaluator and an operator with identity's admin command line, as an operator
would. Every service's log goes to ``var/test-artifacts/portal/logs/``.

Test-only settings (none of them a backdoor): the demo auto-approval of complete consent
applications (``CONSENT_AUTO_APPROVE``, as in ``make run``), cheaper argon2 parameters, and
faster polling of the mail sender and the outbox.

Accessibility (issue 25): ``AXE.check(page, name)`` runs axe-core (``axe-playwright-python``,
which bundles ``axe.min.js``) on the page as it is; the journeys' ``shot`` helpers call it on
every screen they reach, and the ``accessibility`` fixture (autouse) fails a test that
reached a page with a ``serious`` or ``critical`` violation. Every result goes to
``var/test-artifacts/portal/axe/`` (one JSON per screen).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page
from pymongo import MongoClient

from shared_kernel.infra.testing import TEST_PREFIXES

ROOT = Path(__file__).resolve().parents[4]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "portal"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SINK = os.environ.get("SMTP_SINK_URL", "http://127.0.0.1:8025")
SERVICES = ["identity", "consent", "application", "judgement", "notification", "document", "portal"]
PASSWORDS = {"evaluator": "Hyoka-e2e-2026", "operator": "Unyou-e2e-2026"}


BLOCKING = ("serious", "critical")


class AxeAudit:
    """axe-core on the portal's pages, the findings of the running test collected."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.found: list[dict[str, object]] = []
        self.audited: list[str] = []
        self.out = ARTIFACTS / "axe"
        self.without_js: list[BrowserContext] = []
        self.mirrors: dict[int, Page] = {}

    def without_javascript(self, context: BrowserContext) -> None:
        """A context without JavaScript: axe cannot run in it, so its pages are audited as
        they are (their HTML, with the portal's CSS) in a page of a context with it."""
        self.without_js.append(context)

    def _mirror(self, page: Page) -> Page:
        browser = page.context.browser
        assert browser is not None
        mirror = self.mirrors.get(id(browser))
        if mirror is None or mirror.is_closed():
            mirror = browser.new_context(locale="ja-JP").new_page()
            self.mirrors[id(browser)] = mirror
        if page.viewport_size:
            mirror.set_viewport_size(page.viewport_size)
        html = page.content().replace("<head>", f'<head><base href="{page.url}">', 1)
        mirror.set_content(html, wait_until="load")
        return mirror

    def check(self, page: Page, name: str) -> None:
        """Run axe on ``page`` as it is now (after a navigation or a change of the page)."""
        audited = page
        if any(page.context is c for c in self.without_js):
            audited = self._mirror(page)
        result = self.axe.run(audited)
        violations = result.response.get("violations", [])
        self.out.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        (self.out / f"{safe}.json").write_text(
            json.dumps({"url": page.url, "violations": violations}, ensure_ascii=False, indent=1)
        )
        self.audited.append(page.url)
        for v in violations:
            if v.get("impact") in BLOCKING:
                self.found.append(
                    {
                        "screen": name,
                        "url": page.url,
                        "rule": v.get("id"),
                        "impact": v.get("impact"),
                        "help": v.get("help"),
                        "nodes": [n.get("target") for n in v.get("nodes", [])][:5],
                    }
                )

    def report(self) -> str:
        return "\n".join(
            f"{f['screen']} {f['url']}: {f['impact']} {f['rule']} ({f['help']}) {f['nodes']}"
            for f in self.found
        )


AXE = AxeAudit()


@pytest.fixture(autouse=True)
def accessibility() -> Iterator[AxeAudit]:
    """Zero serious or critical axe violations on every page a test reached."""
    AXE.found.clear()
    yield AXE
    found, report = list(AXE.found), AXE.report()
    AXE.found.clear()
    if found:
        pytest.fail(f"axe: {len(found)} serious/critical violation(s):\n{report}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    run: str
    ports: dict[str, int]
    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    chromium: str = CHROMIUM
    sink: str = SINK
    artifacts: Path = ARTIFACTS

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def portal(self) -> str:
        return self.url("portal")

    def staff(self, role: str) -> tuple[str, str]:
        return f"{role[:5]}{self.run[:8]}", PASSWORDS[role]


def _environment(run: str, ports: dict[str, int]) -> dict[str, str]:
    TEST_PREFIXES.add(f"e2e-portal-{run}.")  # deleted with the session's topics
    env = {
        **os.environ,
        "APP_ENV": "test",
        "TOPIC_PREFIX": f"e2e-portal-{run}.",
        "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        "MONGODB_URL": os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"),
        "CONSENT_AUTO_APPROVE": "true",
        "IDENTITY_ARGON2_MEMORY_KIB": "8192",
        "IDENTITY_ARGON2_TIME_COST": "1",
        "NOTIFICATION_SENDER_POLL_SECONDS": "0.5",
        "NOTIFICATION_PORTAL_BASE_URL": f"http://127.0.0.1:{ports['portal']}",
        "DOCUMENT_PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['document']}",
        "APPLICATION_JUDGEMENT_URL": f"http://127.0.0.1:{ports['judgement']}",
        "PORTAL_OPS_SAMPLE_SECONDS": "2",
        # every service verifies with this identity's published key and polls its ended
        # sessions; identity mails the activation link (to the sink) with this portal's
        # address, and believes X-Forwarded-For from the portal only
        "AUTH_ISSUER_URL": f"http://127.0.0.1:{ports['identity']}",
        "IDENTITY_PORTAL_BASE_URL": f"http://127.0.0.1:{ports['portal']}",
        "IDENTITY_TRUSTED_PROXIES": "127.0.0.1",
        "LOG_LEVEL": "INFO",
    }
    for name in SERVICES:
        env[f"{name.upper()}_HTTP_PORT"] = str(ports[name])
        env[f"{name.upper()}_DB_NAME"] = f"e2e_portal_{run}_{name}"
        if name != "portal":
            env[f"PORTAL_{name.upper()}_URL"] = f"http://127.0.0.1:{ports[name]}"
    return env


def _wait_ready(stack: Stack, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    waiting = set(SERVICES)
    with httpx.Client(timeout=3) as client:
        while waiting:
            for name in sorted(waiting):
                proc = stack.procs[name]
                if proc.poll() is not None:
                    log = (stack.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                    pytest.fail(f"{name} exited with {proc.returncode}:\n{log}")
                try:
                    if client.get(f"{stack.url(name)}/readyz").status_code == 200:
                        waiting.discard(name)
                except httpx.TransportError:
                    pass
            if waiting and time.monotonic() > deadline:
                pytest.fail(f"not ready after {timeout}s: {sorted(waiting)}")
            if waiting:
                time.sleep(0.3)


def _run(stack: Stack, *args: str, stdin: str | None = None) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *args],
        env=stack.env,
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (args, done.stderr.decode(errors="replace"))


@pytest.fixture(scope="session")
def stack(infrastructure: dict[str, str]) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (Debian package `chromium`)")
    run = uuid.uuid4().hex[:10]
    ports = {name: free_port() for name in SERVICES}
    logs = ARTIFACTS / "logs"
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    logs.mkdir(parents=True)
    stack = Stack(run, ports, _environment(run, ports), logs)
    try:
        for name in SERVICES:
            with (logs / f"{name}.log").open("wb") as out:
                stack.procs[name] = subprocess.Popen(
                    [sys.executable, "-m", name, "serve"],
                    env=stack.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                )
        _wait_ready(stack)
        _run(stack, "judgement", "feed", "demo")
        for role in ("evaluator", "operator"):
            login_id, password = stack.staff(role)
            _run(
                stack,
                "identity",
                "create-user",
                "--role",
                role,
                "--login-id",
                login_id,
                "--email",
                f"{login_id}@example.jp",
                stdin=password + "\n",
            )
        yield stack
    finally:
        for proc in stack.procs.values():
            proc.terminate()
        for proc in stack.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        with MongoClient(stack.env["MONGODB_URL"], serverSelectionTimeoutMS=5000) as mongo:
            for name in SERVICES:
                mongo.drop_database(f"e2e_portal_{run}_{name}")
