"""Sessions and tokens across the services, CSRF on every portal form, lockout, enumeration,
the temporary password's expiry instant, and the portal's security headers.

Runs on the same in-process stack as the access matrix (``conftest.py``). Identity calls go
through clients with their own client addresses, so identity's per-IP rate limit (60 per
minute) is not shared with the other security tests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx
import jwt
import pytest

from shared_kernel.auth import Principal, issue_token

from .conftest import EMPLOYERS, HTML, PASSWORD, Stack, login
from .test_access_matrix import csrf_of, portal_login, routes_of

pytestmark = pytest.mark.timeout(600)

ADDRESSES = (f"198.51.100.{n}" for n in count(10))
NEW_PASSWORD = "Atarashii-Kagi-2027"
INVALID_CREDENTIALS = (
    "ログインIDまたはパスワードが正しくありません。"
    "（利用者本申請がお済みでない場合は、先に本申請を行ってください）"
)
# one endpoint per service that any token of the role passes
PROTECTED = {
    "identity": "/me",
    "consent": "/consents",
    "application": "/applications",
    "judgement": "/judgements",
    "document": "/notices",
}


@pytest.fixture
async def identity(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An identity client from an address of its own (its own rate-limit bucket)."""
    transport = httpx.ASGITransport(app=stack.apps["identity"], client=(next(ADDRESSES), 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://identity", event_hooks=stack.hooks()
    ) as client:
        yield client


def session_cookie(value: str) -> dict[str, str]:
    """Identity's session cookie as a header (the client's own jar is cleared between calls)."""
    return {"Cookie": f"noryoku_session={value}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def statuses(stack: Stack, headers: dict[str, str]) -> dict[str, int]:
    found = {}
    for service, path in PROTECTED.items():
        found[service] = (await stack.client(service).get(path, headers=headers)).status_code
    return found


async def new_employer(stack: Stack, identity: httpx.AsyncClient, login_id: str) -> None:
    """A fresh employer account (tests that revoke sessions must not touch the shared ones)."""
    service = stack.container("identity").service
    original = service.new_temporary_password
    captured: list[str] = []
    service.new_temporary_password = lambda: captured.append(original()) or captured[-1]
    try:
        done = await identity.post("/registrations", json=registration(login_id))
        assert done.status_code == 201, done.text
    finally:
        service.new_temporary_password = original
    stack.temporary_passwords.extend(captured)  # searched for by test_trail.py
    activated = await identity.post("/activations", json=activation(login_id, captured[-1]))
    assert activated.status_code == 200, activated.text


def registration(login_id: str) -> dict[str, str]:
    digits = "".join(str(ord(c) % 10) for c in login_id)
    return {
        "login_id": login_id,
        "email": f"{login_id.lower()}@example.jp",
        "employer_id": ("39" + digits + "0" * 14)[:14],
        "employer_name": "株式会社検証建設",
        "address": "東京都港区芝公園4-2-8",
        "representative_name": "検証 花子",
        "phone_number": "03-5555-0000",
    }


def activation(login_id: str, temporary: str) -> dict[str, str]:
    return {
        "login_id": login_id,
        "temporary_password": temporary,
        "new_password": PASSWORD,
        "new_password_confirmation": PASSWORD,
    }


# --- tokens --------------------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_a_tampered_forged_or_expired_token_is_refused_everywhere(stack: Stack) -> None:
    token = stack.headers["employer_a"]["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (await statuses(stack, bearer(token))) == dict.fromkeys(PROTECTED, 200)

    other_employer = _b64({**claims, "employer_id": EMPLOYERS["employer_b"][1]})
    evaluator = _b64({**claims, "role": "evaluator", "employer_id": None})
    secret = stack.settings["identity"].jwt_secret.get_secret_value()
    principal = Principal(subject="anzenA2026", role="employer", employer_id=claims["employer_id"])
    bad = {
        "payload changed (another employer)": f"{header}.{other_employer}.{signature}",
        "payload changed (evaluator)": f"{header}.{evaluator}.{signature}",
        "signature changed": f"{header}.{payload}.{signature[:-2]}AA",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "another secret": issue_token("x" * 40, principal),
        "expired": issue_token(secret, principal, timedelta(seconds=-1)),
        "not a token": "garbage",
    }
    for what, forged in bad.items():
        found = await statuses(stack, bearer(forged))
        assert found == dict.fromkeys(PROTECTED, 401), what
    answer = await stack.client("consent").get("/consents", headers=bearer(bad["expired"]))
    assert answer.json()["code"] == "unauthenticated"
    assert "Bearer" not in answer.text and secret not in answer.text


async def test_logout_revokes_the_session_and_its_token_at_identity(
    stack: Stack, identity: httpx.AsyncClient
) -> None:
    done = await login(identity, EMPLOYERS["employer_a"][0], PASSWORD)
    assert done.status_code == 201
    token, cookie = done.json()["access_token"], done.cookies["noryoku_session"]
    identity.cookies.clear()
    assert (await identity.get("/me", headers=bearer(token))).status_code == 200

    out = await identity.delete("/sessions/current", headers=session_cookie(cookie))
    assert out.status_code == 204
    identity.cookies.clear()
    me = await identity.get("/me", headers=bearer(token))
    assert (me.status_code, me.json()["code"]) == (401, "session_revoked")
    renewal = await identity.post("/sessions/token", headers=session_cookie(cookie))
    assert renewal.status_code == 401
    # the other services cannot see identity's sessions: the token works there until it
    # expires (IDENTITY_ACCESS_TOKEN_TTL_MINUTES, 15); the portal forgets it at logout
    elsewhere = await stack.client("consent").get("/consents", headers=bearer(token))
    assert elsewhere.status_code == 200
    # the other sessions of the same user are untouched
    assert (await identity.get("/me", headers=stack.headers["employer_a"])).status_code == 200


async def test_a_password_change_revokes_every_other_session(
    stack: Stack, identity: httpx.AsyncClient
) -> None:
    login_id = "kawaruPw2026"
    await new_employer(stack, identity, login_id)
    first, second = [await login(identity, login_id, PASSWORD) for _ in range(2)]
    identity.cookies.clear()
    kept, dropped = first.json()["access_token"], second.json()["access_token"]
    changed = await identity.put(
        "/me/password",
        headers={**bearer(kept), **session_cookie(first.cookies["noryoku_session"])},
        json={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirmation": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 200, changed.text
    identity.cookies.clear()
    assert (await identity.get("/me", headers=bearer(kept))).status_code == 200
    assert (await identity.get("/me", headers=bearer(dropped))).status_code == 401
    renewal = await identity.post(
        "/sessions/token", headers=session_cookie(second.cookies["noryoku_session"])
    )
    assert renewal.status_code == 401
    identity.cookies.clear()
    assert (await login(identity, login_id, PASSWORD)).status_code == 401
    assert (await login(identity, login_id, NEW_PASSWORD)).status_code == 201


async def test_an_expired_session_gives_no_token_and_stops_its_tokens_at_identity(
    stack: Stack, identity: httpx.AsyncClient
) -> None:
    done = await login(identity, EMPLOYERS["employer_b"][0], PASSWORD)
    token, cookie = done.json()["access_token"], done.cookies["noryoku_session"]
    identity.cookies.clear()
    service = stack.container("identity").service
    hours = stack.settings["identity"].session_ttl_hours
    original = service.clock
    at_expiry = datetime.now(UTC) + timedelta(hours=hours, seconds=1)
    service.clock = lambda: at_expiry
    try:
        renewal = await identity.post("/sessions/token", headers=session_cookie(cookie))
        assert (renewal.status_code, renewal.json()["code"]) == (401, "session_invalid")
        assert (await identity.get("/me", headers=bearer(token))).status_code == 401
    finally:
        service.clock = original
    identity.cookies.clear()
    renewal = await identity.post("/sessions/token", headers=session_cookie(cookie))
    assert renewal.status_code == 200


# --- lockout and user enumeration ----------------------------------------------------------


async def test_lockout_after_five_failures_looks_the_same_for_unknown_login_ids(
    stack: Stack, identity: httpx.AsyncClient
) -> None:
    known = "rokkuAuto2026"
    await new_employer(stack, identity, known)
    answers: dict[str, list[tuple[int, str]]] = {}
    for login_id in (known, "daremoInai2026"):
        found = []
        for _ in range(5):
            answer = await login(identity, login_id, "Machigai-Pw-0000")
            found.append((answer.status_code, answer.json()["message"]))
        locked = await login(identity, login_id, PASSWORD)  # the right password, while locked
        found.append((locked.status_code, locked.json()["code"]))
        assert locked.headers["retry-after"].isdigit()
        assert 14 * 60 < int(locked.headers["retry-after"]) <= 15 * 60
        answers[login_id] = found
    expected = [(401, INVALID_CREDENTIALS)] * 4 + [(423, answers[known][4][1])]
    expected += [(423, "login_locked")]
    assert answers[known] == answers["daremoInai2026"] == expected

    # 15 minutes later (the service's clock) the lock is over and the right password works
    service = stack.container("identity").service
    original = service.clock
    later = datetime.now(UTC) + timedelta(minutes=15, seconds=1)
    service.clock = lambda: later
    try:
        assert (await login(identity, known, PASSWORD)).status_code == 201
    finally:
        service.clock = original


async def test_an_unknown_login_id_costs_an_argon2_verification_too(
    stack: Stack, identity: httpx.AsyncClient
) -> None:
    """No timing measurement: the unknown-ID path verifies a real argon2id hash as well."""
    hasher = stack.container("identity").service.hasher
    verified: list[str] = []
    original: Callable[[str, str], Any] = hasher.verify

    async def counting(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        result: bool = await original(password_hash, password)
        return result

    hasher.verify = counting
    try:
        unknown = await login(identity, "shiranaiId2026", "Machigai-Pw-0000")
        unknown_hashes = list(verified)
        verified.clear()
        wrong = await login(identity, EMPLOYERS["employer_a"][0], "Machigai-Pw-0000")
    finally:
        hasher.verify = original
    assert len(unknown_hashes) == len(verified) == 1
    assert unknown_hashes[0].startswith("$argon2id$") and verified[0].startswith("$argon2id$")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    # reset A's failure count (one failure only; a login clears it)
    assert (await login(identity, EMPLOYERS["employer_a"][0], PASSWORD)).status_code == 201


# --- the temporary password's expiry instant (injected clock) -------------------------------


@pytest.mark.parametrize(
    ("offset", "status"),
    [(timedelta(seconds=1), 410), (timedelta(0), 410), (timedelta(seconds=-1), 200)],
)
async def test_the_temporary_password_works_until_just_before_its_expiry_instant(
    stack: Stack, identity: httpx.AsyncClient, offset: timedelta, status: int
) -> None:
    service = stack.container("identity").service
    original_clock, original_generator = service.clock, service.new_temporary_password
    issued = datetime(2026, 12, 4, 14, 59, 59, 500000, tzinfo=UTC)  # 23:59:59.5 in Tokyo
    ttl = timedelta(hours=stack.settings["identity"].temporary_password_ttl_hours)
    login_id = f"kigen{int(offset.total_seconds()) + 1}x2026"
    captured: list[str] = []
    service.new_temporary_password = lambda: captured.append(original_generator()) or captured[-1]
    service.clock = lambda: issued
    try:
        registered = await identity.post("/registrations", json=registration(login_id))
        assert registered.status_code == 201, registered.text
        assert registered.json()["expires_at"].startswith("2026-12-05T14:59:59.5")
        moment = issued + ttl + offset
        service.clock = lambda: moment
        answer = await identity.post("/activations", json=activation(login_id, captured[-1]))
    finally:
        service.clock, service.new_temporary_password = original_clock, original_generator
        stack.temporary_passwords.extend(captured)
    assert answer.status_code == status, answer.text
    if status == 410:
        assert answer.json()["code"] == "temporary_password_expired"


# --- the portal: CSRF on every form, headers ------------------------------------------------


def portal_role(path: str) -> str:
    if path.startswith("/review"):
        return "evaluator"
    if path.startswith("/ops"):
        return "operator"
    if path in ("/register", "/register/activate", "/login"):
        return "anonymous"
    return "employer_a"


async def test_every_portal_form_refuses_a_post_without_the_sessions_csrf_token(
    stack: Stack,
) -> None:
    posts = sorted(p for m, p in routes_of(stack.portal) if m == "POST")
    assert len(posts) >= 15
    ids = {
        "application_id": stack.ids["draft_a"],
        "line_id": stack.ids["line_a"],
        "consent_id": stack.ids["consent_a"],
        "service": "consent",
        "topic": "x.dlq",
        "partition": "0",
        "offset": "0",
    }
    refused: list[str] = []
    clients: dict[str, tuple[httpx.AsyncClient, str]] = {}
    for role in ("anonymous", "employer_a", "evaluator", "operator"):  # one login each
        client = stack.portal_client()
        if role != "anonymous":
            await portal_login(stack, client, role)
        page = {"anonymous": "/login", "employer_a": "/menu", "evaluator": "/review"}.get(
            role, "/ops"
        )
        clients[role] = (client, csrf_of(await client.get(page, headers=HTML)))
    try:
        for template in posts:
            path = template.format(**ids)
            client, token = clients[portal_role(template)]
            for what, data, headers in (
                ("no token", {}, HTML),
                ("wrong token", {"csrf_token": "x" * 43}, HTML),
                (
                    "foreign origin",
                    {"csrf_token": token},
                    {**HTML, "Origin": "https://evil.example"},
                ),
            ):
                stack.portal_services.sent.clear()
                answer = await client.post(path, data=data, headers=headers)
                changed = [s for s in stack.portal_services.sent if s[0] != "GET"]
                if answer.status_code != 400 or changed:
                    refused.append(f"{template} ({what}): {answer.status_code}, sent {changed}")
    finally:
        for client, _ in clients.values():
            await client.aclose()
    assert refused == [], "\n".join(refused)


async def test_portal_security_headers_on_pages_errors_files_and_json(stack: Stack) -> None:
    async with stack.portal_client() as client:
        answers = {
            "page": await client.get("/", headers=HTML),
            "404 page": await client.get("/no-such-page", headers=HTML),
            "json": await client.get("/"),
            "static": await client.get("/static/portal.css"),
        }
        await portal_login(stack, client, "employer_a")
        answers["logged-in page"] = await client.get("/menu", headers=HTML)
        answers["pdf"] = await client.get(
            f"/results/{stack.ids['application_a']}/notices/{stack.ids['notice_a']}"
        )
    assert answers["pdf"].status_code == 200
    assert answers["pdf"].headers["content-type"] == "application/pdf"
    for what, answer in answers.items():
        headers = answer.headers
        csp = headers["content-security-policy"]
        for directive in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'"):
            assert directive in csp, what
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
        assert headers["x-content-type-options"] == "nosniff", what
        assert headers["x-frame-options"] == "DENY", what
        assert headers["referrer-policy"] == "same-origin", what
        assert "strict-transport-security" not in headers, what  # plain HTTP
    assert answers["logged-in page"].headers["cache-control"] == "no-store"
    async with stack.portal_client(scheme="https") as client:
        secure = await client.get("/", headers=HTML)
    assert secure.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "Secure" in secure.headers["set-cookie"]
