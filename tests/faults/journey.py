"""The employer's journey through the services' HTTP APIs, robust to services that die.

Preconditions (before the faults): CCUS snapshots of synthetic workers (the CCUS feed
tool), employers registered and activated through identity (the activation link read
from the private mail sink), consents filed and signed forms uploaded through consent
(auto-approved). Under faults: applications drafted, filled with worker lines and submitted
through the application service; every call is retried while a service is down, and the
submission carries one ``Idempotency-Key`` per application so that a retried submit never
submits twice.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.faults.stack import Stack

PASSWORD = "Fault-Test-2026"
SIGNED_FORM = (  # a one-page PDF: signed forms are parsed and written anew (docs/security.md)
    b"%PDF-1.4\n% signed consent form (fault suite)\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
ADDRESS = {
    "postal_code": "100-0001",
    "prefecture": "東京都",
    "city_address": "千代田区千代田1-1",
    "addressee": "株式会社障害試験建設 御中",
    "phone": "03-1234-5678",
}
DECLARATIONS = {"career_certified": True, "card_issuance_consented": True}
RETRYABLE = {429, 500, 502, 503, 504}
HISTORY_KEPT = 120  # work records per synthetic worker


class Gave(Exception):
    """A call kept failing for longer than the retry deadline."""


@dataclass
class Worker:
    worker_id: str
    name: str
    name_kana: str
    birth_date: str
    trade: str


@dataclass
class Employer:
    employer_id: str
    login_id: str
    email: str
    token: str = ""
    workers: list[Worker] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Submitted:
    application_id: str
    employer_id: str
    line_ids: list[str]


@dataclass
class Tally:
    """What the driver saw: retries per reason, calls that failed over."""

    retries: dict[str, int] = field(default_factory=dict)

    def retried(self, why: str) -> None:
        self.retries[why] = self.retries.get(why, 0) + 1


async def call(
    client: httpx.AsyncClient,
    tally: Tally,
    method: str,
    url: str,
    *,
    ok: Callable[[httpx.Response], bool] = lambda r: r.status_code < 300,
    deadline: float = 300,
    **kwargs: Any,
) -> httpx.Response:
    """One request, retried while the service is down or answers 5xx/429."""
    give_up = time.monotonic() + deadline
    pause = 0.2
    while True:
        try:
            response = await client.request(method, url, **kwargs)
            if ok(response) or response.status_code not in RETRYABLE:
                return response
            tally.retried(f"http {response.status_code}")
        except httpx.TransportError as exc:
            tally.retried(type(exc).__name__)
        if time.monotonic() > give_up:
            raise Gave(f"{method} {url} kept failing for {deadline}s")
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)


def expect(response: httpx.Response, *codes: int) -> Any:
    if response.status_code not in codes:
        raise AssertionError(
            f"{response.request.method} {response.request.url} → {response.status_code}: "
            f"{response.text[:500]}"
        )
    return response.json() if response.content else {}


def seed_workers(stack: Stack, count: int, seed: int, out: Path) -> list[Worker]:
    """Generate synthetic CCUS workers and publish their snapshots with the feed tool."""
    env = stack.service_env("judgement", 0)
    command = [sys.executable, "-m", "judgement", "feed"]
    subprocess.run(
        [*command, "synthetic", "--count", str(count), "--seed", str(seed), "--out", str(out)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=300,
    )
    # Only the newest work records are kept: the fault suite tests delivery, not the levels,
    # and FerretDB is slow with the full histories (~65 KB per worker).
    snapshots = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for snap in snapshots:
        snap["work_history"] = snap["work_history"][-HISTORY_KEPT:]
    out.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in snapshots), "utf-8")
    subprocess.run(
        [*command, "file", str(out)], env=env, check=True, stdout=subprocess.DEVNULL, timeout=600
    )
    workers = []
    for snap in snapshots:
        workers.append(
            Worker(
                snap["worker_id"],
                snap["name"],
                snap["name_kana"],
                snap["birth_date"],
                snap["_trade"],
            )
        )
    return workers


def activation_token(maildir: Path, address: str) -> str | None:
    """The token of the newest activation link identity mailed to ``address`` (from the
    sink's .eml files)."""
    found: tuple[float, str] | None = None
    for path in maildir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address not in str(message.get("To", "")):
            continue
        part = message.get_body(("plain",))
        text = part.get_content() if part is not None else ""
        match = re.search(r"/register/activate\?token=(\S+)", text)
        if match and (found is None or path.stat().st_mtime > found[0]):
            found = (path.stat().st_mtime, match.group(1))
    return found[1] if found else None


async def register_employer(
    stack: Stack, client: httpx.AsyncClient, tally: Tally, n: int
) -> Employer:
    employer = Employer(
        employer_id=f"{77000000000000 + n:014d}",
        login_id=f"Fault{n:04d}x{stack.run_id[-5:]}",
        email=f"fault{n}.{stack.run_id}@example.jp",
    )
    identity = stack.url("identity")
    expect(
        await call(
            client,
            tally,
            "POST",
            f"{identity}/registrations",
            json={
                "login_id": employer.login_id,
                "email": employer.email,
                "employer_id": employer.employer_id,
                "employer_name": f"株式会社障害試験建設{n}",
                "address": "東京都千代田区千代田1-1",
                "representative_name": "髙橋 一郎",
                "phone_number": "03-1234-5678",
            },
        ),
        201,
    )
    token = None
    for _ in range(600):
        token = activation_token(stack.infra.maildir, employer.email)
        if token:
            break
        await asyncio.sleep(0.2)
    assert token, f"no activation link mailed to {employer.email}"
    expect(
        await call(
            client,
            tally,
            "POST",
            f"{identity}/activations",
            json={
                "token": token,
                "new_password": PASSWORD,
                "new_password_confirmation": PASSWORD,
            },
        ),
        200,
    )
    login = expect(
        await call(
            client,
            tally,
            "POST",
            f"{identity}/sessions",
            json={"login_id": employer.login_id, "password": PASSWORD},
        ),
        201,
    )
    employer.token = login["access_token"]
    return employer


async def grant_consents(
    stack: Stack, client: httpx.AsyncClient, tally: Tally, employer: Employer
) -> None:
    """File one 個人情報利用申請 for the employer's workers and upload every signed form."""
    consent = stack.url("consent")
    body = {
        "employer": {
            "employer_name": "株式会社障害試験建設",
            "representative_name": "髙橋 一郎",
            "postal_code": "100-0001",
            "address": "東京都千代田区千代田1-1",
            "phone_number": "03-1234-5678",
        },
        "workers": [
            {
                "worker_id": w.worker_id,
                "name": w.name,
                "name_kana": w.name_kana,
                "birth_date": w.birth_date,
            }
            for w in employer.workers
        ],
        "consent_items": {
            "view_ccus_data": True,
            "proxy_application": True,
            "card_issuance": True,
            "fee": True,
        },
    }
    filed = expect(
        await call(
            client,
            tally,
            "POST",
            f"{consent}/consent-applications",
            json=body,
            headers=employer.auth,
            deadline=120,
        ),
        201,
    )
    ids = [c["consent_id"] for c in filed["consents"]]
    semaphore = asyncio.Semaphore(8)

    async def upload(consent_id: str) -> None:
        async with semaphore:
            response = await call(
                client,
                tally,
                "PUT",
                f"{consent}/consents/{consent_id}/signed-form",
                content=SIGNED_FORM,
                headers={**employer.auth, "X-File-Name": "signed.pdf"},
            )
            expect(response, 200, 201)

    await asyncio.gather(*(upload(i) for i in ids))


async def wait_selectable(
    stack: Stack, client: httpx.AsyncClient, tally: Tally, employer: Employer, timeout: float
) -> None:
    """Until the application service's consent read model offers every worker."""
    wanted = {w.worker_id for w in employer.workers}
    give_up = time.monotonic() + timeout
    while True:
        listed = expect(
            await call(
                client, tally, "GET", f"{stack.url('application')}/workers", headers=employer.auth
            ),
            200,
        )
        have = {w["worker_id"] for w in listed}
        if wanted <= have:
            return
        if time.monotonic() > give_up:
            raise TimeoutError(f"{employer.employer_id}: {len(wanted - have)} workers missing")
        await asyncio.sleep(1)


async def apply(
    stack: Stack,
    client: httpx.AsyncClient,
    tally: Tally,
    employer: Employer,
    workers: list[Worker],
    key: str,
) -> Submitted:
    """Draft → lines → submit, tolerant of the services dying meanwhile."""
    base = f"{stack.url('application')}/applications"
    draft = expect(
        await call(
            client,
            tally,
            "POST",
            base,
            json={"delivery_address": ADDRESS, "declarations": DECLARATIONS},
            headers=employer.auth,
        ),
        201,
    )
    application_id = draft["application_id"]
    for worker in workers:
        line = {"worker_id": worker.worker_id, "trade": worker.trade, "requested_level": 2}
        response = await call(
            client,
            tally,
            "POST",
            f"{base}/{application_id}/lines",
            json=line,
            headers=employer.auth,
        )
        if response.status_code != 201:
            # a retry after a lost answer finds its own line there already
            detail = expect(
                await call(client, tally, "GET", f"{base}/{application_id}", headers=employer.auth),
                200,
            )
            if worker.worker_id not in {x["worker_id"] for x in detail["lines"]}:
                expect(response, 201)
    submitted = expect(
        await call(
            client,
            tally,
            "POST",
            f"{base}/{application_id}/submit",
            headers={**employer.auth, "Idempotency-Key": key},
        ),
        200,
        201,
    )
    detail = expect(
        await call(client, tally, "GET", f"{base}/{application_id}", headers=employer.auth), 200
    )
    assert detail["status"] != "draft", submitted
    line_ids = [x["line_id"] for x in detail["lines"]]
    assert len(line_ids) == len(workers), detail
    return Submitted(application_id, employer.employer_id, line_ids)


async def apply_all(
    stack: Stack,
    client: httpx.AsyncClient,
    tally: Tally,
    plan: list[tuple[Employer, list[Worker]]],
    concurrency: int,
    on_done: Callable[[int], Awaitable[None]] | None = None,
) -> list[Submitted]:
    semaphore = asyncio.Semaphore(concurrency)
    done: list[Submitted] = []

    async def one(n: int, employer: Employer, workers: list[Worker]) -> None:
        async with semaphore:
            result = await apply(stack, client, tally, employer, workers, f"{stack.run_id}-{n}")
            done.append(result)
            if on_done is not None:
                await on_done(len(done))

    await asyncio.gather(*(one(n, e, w) for n, (e, w) in enumerate(plan)))
    return done
