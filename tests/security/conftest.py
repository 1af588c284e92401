"""The whole system in this process for the security tests: every service's real app (its
runtime, consumers and relay) against the real Kafka and database, and the portal in front
of them (its service calls go to the apps over ASGI instead of sockets).

The stack runs on the secrets ``make run`` generates (``deploy/local/secrets.sh`` into a
directory of the run's own): identity alone holds the token signing key, every other
service reads identity's public key from its JWKS and polls its list of ended sessions —
over ASGI here, as over HTTP in the local stack. The activation links identity mails go to
the real SMTP sink (127.0.0.1:1025) and are kept here too, for the tests and the secret
search of ``test_trail.py``.

The stack is started once per module. It holds two employers (A and B) and staff with real
accounts (logged in through identity: real sessions and tokens): an evaluator of a body
of B's 分野 (配管), an evaluator of another body (鉄筋, A's 分野), an evaluator without a
binding (every 分野), an operator, a criteria editor and a criteria approver — their
bindings resolved from the judgement service's real criteria master as the admin command
line does. For each employer there is a consent (signed form attached, auto-approved), a
submitted application whose line was judged, its 結果通知書 and a draft — so every "other
employer's" or "other 分野's" id in the matrix is a real one, not a made-up one.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import structlog
from fastapi import FastAPI

from application.adapters.outbound.judgement_http import HttpJudgement
from application.config import Settings as ApplicationSettings
from application.inject import create_app as application_app
from consent.config import Settings as ConsentSettings
from consent.inject import create_app as consent_app
from document.config import Settings as DocumentSettings
from document.inject import create_app as document_app
from identity.config import Settings as IdentitySettings
from identity.core.activation_mail import ActivationMail
from identity.core.binding import parse_master, resolve
from identity.core.service import create_staff
from identity.inject import create_app as identity_app
from judgement.config import Settings as JudgementSettings
from judgement.feed.files import read_json
from judgement.inject import create_app as judgement_app
from notification.config import Settings as NotificationSettings
from notification.inject import create_app as notification_app
from portal.config import Settings as PortalSettings
from portal.inject import create_app as portal_app
from portal.ports.transport import Reply, Unreachable
from shared_kernel.events import Envelope
from shared_kernel.infra.logging import configure_logging
from shared_kernel.infra.mongo import connect
from shared_kernel.infra.testing import eventually, isolated, publisher

SERVICES = ("identity", "consent", "application", "judgement", "notification", "document")
ROOT = Path(__file__).resolve().parents[2]
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
PASSWORD = "Anzen-Kakunin-2026"
REVOCATION_REFRESH_SECONDS = 1.0
"""How often every service of the stack polls identity's ended sessions (default 5 s)."""
# every service verifies with identity's published key and polls its ended sessions
VERIFY_WITH_IDENTITY = {
    "auth_jwks": None,
    "auth_revocation_check": True,
    "auth_issuer_url": "http://identity",
    "auth_revocation_refresh_seconds": REVOCATION_REFRESH_SECONDS,
}
# a one-page PDF: signed forms are parsed and written anew, so it must be a real one
PDF = (
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
DEMO = Path(__file__).resolve().parents[2] / "services/judgement/src/judgement/feed"
HTML = {"Accept": "text/html,application/xhtml+xml"}

EMPLOYERS = {
    # role key: (login id, 事業者ID, demo worker, trade)
    "employer_a": ("anzenA2026", "31000000000001", "99000000000001", "鉄筋"),
    "employer_b": ("anzenB2026", "32000000000002", "99000000000008", "配管"),
}
SECOND_WORKER_B = "99000000000005"  # consented, never applied for: B may read his CCUS data
BODY_B = "全国管工事業協同組合連合会"  # a body of 配管 (B's 分野)
BODY_OTHER = "全国鉄筋工事業協会"  # the body of 鉄筋 (A's 分野, not B's); legal form omitted
STAFF = {
    # role key: (login id, role, --body, --trade …) as given to create-user
    "evaluator": ("hyokaAnzen01", "evaluator", BODY_B, ()),
    "evaluator_other": ("hyokaTekkin01", "evaluator", BODY_OTHER, ()),
    "evaluator_all": ("hyokaZenbu01", "evaluator", None, ()),
    "operator": ("unyoAnzen01", "operator", None, ()),
    "criteria_editor": ("kijunAnzen01", "criteria_editor", None, ("配管",)),
    "criteria_approver": ("shoninAnzen01", "criteria_approver", None, ()),
}
ROLES = (
    "anonymous",
    "employer_a",
    "employer_b",
    "evaluator",
    "evaluator_other",
    "evaluator_all",
    "operator",
    "criteria_editor",
    "criteria_approver",
)


def login_id_of(role: str) -> str:
    return EMPLOYERS[role][0] if role in EMPLOYERS else STAFF[role][0]


class AsgiServices:
    """The portal's transport: requests to ``http://<service>`` go to that app over ASGI."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.clients = {
            name: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50001)),
                base_url=f"http://{name}",
            )
            for name, app in apps.items()
        }
        self.sent: list[tuple[str, str]] = []

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: float,
    ) -> Reply:
        match = re.match(r"^https?://([^/:]+)(?::\d+)?(/.*)?$", url)
        if match is None or match.group(1) not in self.clients:
            raise Unreachable(url, "unknown service")
        path = match.group(2) or "/"
        if path.split("?")[0] not in ("/healthz", "/readyz", "/metrics"):
            self.sent.append((method, url))
        client = self.clients[match.group(1)]
        answer = await client.request(
            method, path, headers=[(k, v) for k, v in headers], content=body
        )
        return Reply(
            answer.status_code,
            tuple((k.lower(), v) for k, v in answer.headers.multi_items()),
            answer.content,
        )

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def make_run_secrets(directory: str) -> dict[str, str]:
    """What ``make run`` gives the services: ``deploy/local/secrets.sh env`` into
    ``directory`` (generated there, as under var/secrets)."""
    done = subprocess.run(
        [str(ROOT / "deploy/local/secrets.sh"), "env"],
        env={**os.environ, "SECRETS_DIR": directory},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found = {}
    for word in shlex.split(done.stdout):  # export NAME='value' … (a key spans lines)
        if word != "export":
            name, _, value = word.partition("=")
            found[name] = value
    return found


class CapturingMailer:
    """Identity's real SMTP sender, keeping each activation link's token for the tests."""

    def __init__(self, real: Any, tokens: list[str]) -> None:
        self.real = real
        self.tokens = tokens
        self.links: dict[str, str] = {}

    async def send(self, mail: ActivationMail) -> None:
        token = parse_qs(urlsplit(mail.link).query)["token"][0]
        self.tokens.append(token)
        self.links[mail.to] = token
        await self.real.send(mail)


@dataclass
class Stack:
    apps: dict[str, FastAPI]
    settings: dict[str, Any]
    clients: dict[str, httpx.AsyncClient]
    portal: FastAPI
    portal_services: AsgiServices
    secrets: dict[str, str] = field(default_factory=dict)  # what make run generated
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # identity session cookie per role
    ids: dict[str, str] = field(default_factory=dict)
    activation_tokens: list[str] = field(default_factory=list)
    log: io.StringIO = field(default_factory=io.StringIO)  # every log line (JSON, DEBUG)
    responses: list[tuple[str, bytes]] = field(default_factory=list)  # (request, body)

    async def record(self, response: httpx.Response) -> None:
        """httpx response hook: keep every answer's body for the secret search."""
        await response.aread()
        request = response.request
        self.responses.append((f"{request.method} {request.url}", response.content))

    def hooks(self) -> dict[str, list[Any]]:
        return {"response": [self.record]}

    def client(self, service: str) -> httpx.AsyncClient:
        return self.clients[service]

    def portal_client(self, scheme: str = "http") -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.portal, client=("127.0.0.1", 50002)),
            base_url=f"{scheme}://portal.test",
            follow_redirects=False,
            event_hooks=self.hooks(),
        )

    def container(self, service: str) -> Any:
        return self.apps[service].state.container

    def activation_token(self, address: str) -> str:
        """The token of the last activation link identity mailed to ``address``."""
        mailer = self.container("identity").service.mailer
        assert isinstance(mailer, CapturingMailer)
        return mailer.links[address]


def _settings(base: dict[str, Any]) -> dict[str, Any]:
    prefix = f"test-{os.urandom(5).hex()}."
    return {"topic_prefix": prefix, "environment": "test", **base}


async def login(identity: httpx.AsyncClient, login_id: str, password: str) -> httpx.Response:
    return await identity.post("/sessions", json={"login_id": login_id, "password": password})


async def _employer(stack: Stack, role: str) -> None:
    login_id, employer_id, _, _ = EMPLOYERS[role]
    identity = stack.client("identity")
    email = f"{login_id.lower()}@example.jp"
    registered = await identity.post(
        "/registrations",
        json={
            "login_id": login_id,
            "email": email,
            "employer_id": employer_id,
            "employer_name": f"株式会社安全{role[-1].upper()}建設",
            "address": "東京都千代田区霞が関1-1",
            "representative_name": "安全 太郎",
            "phone_number": "03-1234-5678",
        },
    )
    assert registered.status_code == 201, registered.text
    activated = await identity.post(
        "/activations",
        json={
            "token": stack.activation_token(email),
            "new_password": PASSWORD,
            "new_password_confirmation": PASSWORD,
        },
    )
    assert activated.status_code == 200, activated.text


async def _log_in_everyone(stack: Stack) -> None:
    identity = stack.client("identity")
    for role in ROLES[1:]:
        answer = await login(identity, login_id_of(role), PASSWORD)
        assert answer.status_code == 201, answer.text
        stack.headers[role] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        stack.sessions[role] = answer.cookies["noryoku_session"]
    stack.headers["anonymous"] = {}


async def _consent(stack: Stack, role: str, worker_id: str) -> str:
    """A consent of the employer for the worker: filed, signed form attached, auto-approved."""
    employer_id = EMPLOYERS[role][1]
    headers = stack.headers[role]
    snapshot = next(s for s in _demo_snapshots() if s.worker_id == worker_id)
    consent = stack.client("consent")
    filed = await consent.post(
        "/consent-applications",
        headers=headers,
        json={
            "employer": {
                "employer_name": "株式会社安全建設",
                "representative_name": "安全 太郎",
                "address": "東京都千代田区霞が関1-1",
                "phone_number": "03-1234-5678",
            },
            "workers": [
                {
                    "worker_id": worker_id,
                    "name": snapshot.name,
                    "name_kana": snapshot.name_kana,
                    "birth_date": snapshot.birth_date.isoformat(),
                }
            ],
            "consent_items": {
                "view_ccus_data": True,
                "proxy_application": True,
                "card_issuance": True,
                "fee": True,
            },
        },
    )
    assert filed.status_code == 201, filed.text
    consent_id = f"{employer_id}-{worker_id}"
    signed = await consent.put(
        f"/consents/{consent_id}/signed-form",
        content=PDF,
        headers={**headers, "Content-Type": "application/pdf", "X-File-Name": "signed.pdf"},
    )
    assert signed.status_code == 200, signed.text
    return consent_id


async def _consent_and_apply(stack: Stack, role: str) -> None:
    """A consent, a judged application and a draft for the employer."""
    _, _, worker_id, trade = EMPLOYERS[role]
    headers = stack.headers[role]
    stack.ids[f"consent_{role[-1]}"] = await _consent(stack, role, worker_id)
    stack.ids[f"worker_{role[-1]}"] = worker_id
    application = stack.client("application")

    async def selectable() -> bool:
        found = await application.get("/workers", headers=headers)
        return found.status_code == 200 and any(w["worker_id"] == worker_id for w in found.json())

    await eventually(selectable, timeout=90)
    address = {
        "postal_code": "100-0001",
        "prefecture": "東京都",
        "city_address": "千代田区千代田1-1",
        "addressee": "安全 太郎",
        "phone": "03-1234-5678",
    }
    declarations = {"career_certified": True, "card_issuance_consented": True}
    created = await application.post(
        "/applications",
        headers=headers,
        json={"delivery_address": address, "declarations": declarations},
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["application_id"]
    line = await application.post(
        f"/applications/{application_id}/lines",
        headers=headers,
        json={"worker_id": worker_id, "trade": trade, "requested_level": 2},
    )
    assert line.status_code == 201, line.text
    line_id = line.json()["line_id"]
    submitted = await application.post(
        f"/applications/{application_id}/submit",
        headers={**headers, "Idempotency-Key": f"security-{role}"},
    )
    assert submitted.status_code == 200, submitted.text
    draft = await application.post("/applications", headers=headers, json={})
    assert draft.status_code == 201, draft.text
    stack.ids[f"application_{role[-1]}"] = application_id
    stack.ids[f"line_{role[-1]}"] = line_id
    stack.ids[f"draft_{role[-1]}"] = draft.json()["application_id"]
    stack.ids[f"notice_{role[-1]}"] = f"RN-{line_id}"


async def _notices_ready(stack: Stack) -> bool:
    document = stack.client("document")
    for who in ("a", "b"):
        found = await document.get(
            f"/notices/{stack.ids[f'notice_{who}']}/pdf", headers=stack.headers[f"employer_{who}"]
        )
        if found.status_code != 200:
            return False
    return True


def _demo_snapshots() -> list[Any]:
    wanted = {worker for _, _, worker, _ in EMPLOYERS.values()} | {SECOND_WORKER_B}
    everyone = read_json(str(DEMO / "demo_workers.json"), now=datetime(2026, 11, 21, tzinfo=UTC))
    return [s for s in everyone if s.worker_id in wanted]


async def start_stack(stack_exit: AsyncExitStack) -> Stack:
    common = _settings({})
    apps: dict[str, FastAPI] = {}
    settings: dict[str, Any] = {}
    fast = {"outbox_poll_seconds": 0.2, "consumer_backoff_seconds": 0.05}
    secrets_dir = stack_exit.enter_context(tempfile.TemporaryDirectory(prefix="secrets-"))
    secrets = make_run_secrets(secrets_dir)
    settings["identity"] = isolated(
        IdentitySettings,
        **common,
        **fast,
        **CHEAP_ARGON2,
        signing_keys=secrets["IDENTITY_SIGNING_KEYS"],
        trusted_proxies="127.0.0.1",  # the portal (as in make run)
        # every call comes from 127.0.0.1: nine roles logging in to the portal page by page
        # would pass the per-IP limit (its own test: services/identity/tests)
        rate_limit_per_ip=1000,
        registrations_per_ip=1000,
    )
    verify = {**common, **fast, **VERIFY_WITH_IDENTITY}
    settings["consent"] = isolated(ConsentSettings, **verify, auto_approve=True)
    settings["judgement"] = isolated(JudgementSettings, **verify, review_policy="auto")
    settings["application"] = isolated(ApplicationSettings, **verify)
    settings["notification"] = isolated(NotificationSettings, **verify)
    settings["document"] = isolated(
        DocumentSettings, **verify, DOCUMENT_SIGNING_KEY=secrets["DOCUMENT_SIGNING_KEY"]
    )
    apps["identity"] = identity_app(settings["identity"])
    apps["consent"] = consent_app(settings["consent"])
    apps["judgement"] = judgement_app(settings["judgement"])
    judgement_client = HttpJudgement(
        "http://judgement",
        timeout=10,
        trades_ttl=60,
        transport=httpx.ASGITransport(app=apps["judgement"]),
    )
    apps["application"] = application_app(settings["application"], judgement=judgement_client)
    apps["notification"] = notification_app(settings["notification"])
    apps["document"] = document_app(settings["document"])
    to_identity = httpx.ASGITransport(app=apps["identity"], client=("127.0.0.1", 50003))
    for app in apps.values():
        app.state.auth_transport = to_identity  # the JWKS and the ended sessions
        await stack_exit.enter_async_context(app.router.lifespan_context(app))
    stack_exit.push_async_callback(_drop, [s.db_name for s in settings.values()], common)
    portal_services = AsgiServices(apps)
    stack_exit.push_async_callback(portal_services.aclose)
    urls = {f"{name}_url": f"http://{name}" for name in SERVICES}
    settings["portal"] = isolated(
        PortalSettings,
        **common,
        **urls,
        **VERIFY_WITH_IDENTITY,
        cookie_secret=secrets["PORTAL_COOKIE_SECRET"],
        ops_sample_seconds=3600,
        max_upload_bytes=1 << 20,
    )
    portal = portal_app(settings["portal"], transport=portal_services)
    portal.state.auth_transport = to_identity
    await stack_exit.enter_async_context(portal.router.lifespan_context(portal))
    clients = {
        name: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
            base_url=f"http://{name}",
        )
        for name, app in apps.items()
    }
    for client in clients.values():
        stack_exit.push_async_callback(client.aclose)
    stack = Stack(apps, settings, clients, portal, portal_services, secrets)
    for client in clients.values():
        client.event_hooks = stack.hooks()
    identity_service = stack.container("identity").service
    identity_service.mailer = CapturingMailer(identity_service.mailer, stack.activation_tokens)

    async with publisher(settings["judgement"]) as publish:
        for snapshot in _demo_snapshots():
            await publish(Envelope(snapshot, source="ccus"))
    await eventually(lambda: _snapshots_known(stack), timeout=90)

    for role in EMPLOYERS:
        await _employer(stack, role)
    hasher = stack.container("identity").service.hasher
    users = stack.container("identity").service.users
    master = parse_master((await stack.client("judgement").get("/trades")).json())
    for login_id, role, body, trades in STAFF.values():
        await create_staff(
            users,
            role=role,  # type: ignore[arg-type]
            login_id=login_id,
            email=f"{login_id.lower()}@example.jp",
            password_hash=await hasher.hash(PASSWORD),
            now=datetime.now(UTC),
            binding=resolve(role, body, list(trades), master),
        )
    await _log_in_everyone(stack)
    for role in EMPLOYERS:
        await _consent_and_apply(stack, role)
    stack.ids["consent_b2"] = await _consent(stack, "employer_b", SECOND_WORKER_B)
    stack.ids["worker_b2"] = SECOND_WORKER_B
    await eventually(lambda: _selectable(stack, "employer_b", SECOND_WORKER_B), timeout=90)
    await eventually(lambda: _notices_ready(stack), timeout=120)
    return stack


async def _selectable(stack: Stack, role: str, worker_id: str) -> bool:
    found = await stack.client("application").get("/workers", headers=stack.headers[role])
    return found.status_code == 200 and any(w["worker_id"] == worker_id for w in found.json())


async def _snapshots_known(stack: Stack) -> bool:
    consent = await stack.container("consent").service.workers.find({})
    judged = await stack.container("judgement").service.workers.find({})
    return len(consent) >= len(EMPLOYERS) + 1 and len(judged) >= len(EMPLOYERS) + 1


async def _drop(db_names: list[str], common: dict[str, Any]) -> None:
    client = connect(os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"))
    try:
        for name in set(db_names):
            await client.drop_database(name)
    finally:
        await client.close()


def capture_logs(buffer: io.StringIO) -> Callable[[], None]:
    """Production logging (JSON lines, DEBUG) into ``buffer``; returns the undo."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_structlog = structlog.get_config()
    configure_logging("security", "DEBUG")
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)

    def restore() -> None:
        root.removeHandler(handler)
        for kept in saved_handlers:
            if not type(kept).__module__.startswith("_pytest"):
                root.addHandler(kept)
        root.setLevel(saved_level)
        structlog.configure(**saved_structlog)
        structlog.contextvars.clear_contextvars()

    return restore


@pytest.fixture(scope="package")
async def stack(infrastructure: dict[str, str]) -> AsyncIterator[Stack]:
    buffer = io.StringIO()
    restore = capture_logs(buffer)
    try:
        async with AsyncExitStack() as stack_exit:
            running = await start_stack(stack_exit)
            running.log = buffer
            yield running
    finally:
        restore()


Check = Callable[[int], bool]


SINK = os.environ.get("SMTP_SINK_URL", "http://127.0.0.1:8025")


async def sink_mails(to: str) -> list[Any]:
    """The mails the SMTP sink (deploy/local/smtp_sink.py) received for ``to``, parsed."""
    import email
    import email.policy

    async with httpx.AsyncClient(base_url=SINK, timeout=30) as sink:
        listed = (await sink.get("/api/messages")).json()
        found = []
        for item in listed:
            if to in item.get("envelope_to", []):
                raw = (await sink.get(f"/messages/{item['name']}")).content
                found.append(email.message_from_bytes(raw, policy=email.policy.default))
        return found
