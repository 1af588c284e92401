"""Sessions and tokens across the services, CSRF on every portal form, login throttling,
enumeration, the activation link's expiry instant, and the portal's security headers.

Runs on the same in-process stack as the access matrix (``conftest.py``). Identity calls go
through clients with their own client addresses, so identity's per-IP rate limit (60 per
minute) is not shared with the other security tests.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx
import jwt
import pytest

from shared_kernel.infra.auth import SigningKey, issue_token
from shared_kernel.infra.settings import DEVELOPMENT_SECRET
from shared_kernel.infra.testing import eventually
from shared_kernel.principal import Principal

from .conftest import EMPLOYERS, HTML, PASSWORD, REVOCATION_REFRESH_SECONDS, Stack, login
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
EVERY_SERVICE = ("identity", "consent", "application", "judgement", "notification", "document")
BEARER_ENDPOINT = {
    # one endpoint per service a made-up operator or evaluator would reach
    **PROTECTED,
    "notification": "/mails",
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
    done = await identity.post("/registrations", json=registration(login_id))
    assert done.status_code == 201, done.text
    token = stack.activation_token(registration(login_id)["email"])
    activated = await identity.post("/activations", json=activation(token))
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


def activation(token: str) -> dict[str, str]:
    return {"token": token, "new_password": PASSWORD, "new_password_confirmation": PASSWORD}


# --- tokens --------------------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_a_tampered_forged_or_expired_token_is_refused_everywhere(stack: Stack) -> None:
    """Issue 22, findings 1 and 2: tokens are EdDSA, signed by identity's key only (the
    others verify with its published public key): another key, a borrowed kid, a changed
    payload — refused by every service."""
    token = stack.headers["employer_a"]["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert (await statuses(stack, bearer(token))) == dict.fromkeys(PROTECTED, 200)

    other_employer = _b64({**claims, "employer_id": EMPLOYERS["employer_b"][1]})
    evaluator = _b64({**claims, "role": "evaluator", "employer_id": None})
    identity_key = stack.container("identity").keyring.signer
    principal = Principal(
        subject="anzenA2026", role="employer", employer_id=claims["employer_id"], session="x"
    )
    bad = {
        "payload changed (another employer)": f"{header}.{other_employer}.{signature}",
        "payload changed (evaluator)": f"{header}.{evaluator}.{signature}",
        # the first character carries six bits of the signature (the last one's low bits are
        # padding, so changing the end could leave the decoded signature as it was)
        "signature changed": f"{header}.{payload}.{'B' if signature[0] == 'A' else 'A'}"
        f"{signature[1:]}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "another key": issue_token(SigningKey.generate(), principal),
        "another key, identity's kid": _with_kid(SigningKey.generate(), identity_key),
        "expired": issue_token(identity_key, principal, timedelta(seconds=-1)),
        "not a token": "garbage",
    }
    for what, forged in bad.items():
        found = await statuses(stack, bearer(forged))
        assert found == dict.fromkeys(PROTECTED, 401), what
    answer = await stack.client("consent").get("/consents", headers=bearer(bad["expired"]))
    assert answer.json()["code"] == "unauthenticated"
    assert "Bearer" not in answer.text


def _with_kid(key: SigningKey, named: SigningKey) -> str:
    now = datetime.now(UTC)
    claims = {"sub": "anzenA2026", "role": "employer", "sid": "x", "iss": "noryoku-identity"}
    claims |= {"iat": now, "exp": now + timedelta(minutes=5)}
    return jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": named.kid})


async def test_the_published_placeholder_and_sessionless_tokens_open_nothing(
    stack: Stack,
) -> None:
    """Issue 22, finding 1: with the documented JWT_SECRET placeholder anyone could sign an
    operator's or evaluator's token for a user that does not exist, and identity took a
    token without a session id. Every service of the stack now refuses both."""
    now = datetime.now(UTC)
    base = {"iss": "noryoku-identity", "iat": now, "exp": now + timedelta(minutes=10)}
    made_up = {
        "operator": {**base, "sub": "ghost0001", "role": "operator", "employer_id": None},
        "evaluator": {**base, "sub": "ghost0002", "role": "evaluator", "employer_id": None},
        "employer A": {
            **base,
            "sub": "ghost0003",
            "role": "employer",
            "employer_id": EMPLOYERS["employer_a"][1],
            "sid": "0" * 64,
        },
    }
    for what, claims in made_up.items():
        forged = jwt.encode(claims, DEVELOPMENT_SECRET, algorithm="HS256")
        for service in EVERY_SERVICE:
            path = BEARER_ENDPOINT[service]
            found = await stack.client(service).get(path, headers=bearer(forged))
            assert found.status_code == 401, (what, service, found.status_code)
    # a real signature without a session id (identity accepted one before)
    key = stack.container("identity").keyring.signer
    claims = {**base, "sub": "anzenA2026", "role": "employer"}
    claims["employer_id"] = EMPLOYERS["employer_a"][1]
    sessionless = jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid})
    for service in EVERY_SERVICE:
        path = BEARER_ENDPOINT[service]
        found = await stack.client(service).get(path, headers=bearer(sessionless))
        assert found.status_code == 401, service
    # a real signature, a session id that names no session: identity, which knows its
    # sessions, refuses it
    ghost = issue_token(key, Principal(subject="ghost0004", role="operator", session="f" * 64))
    assert (await stack.client("identity").get("/me", headers=bearer(ghost))).status_code == 401


async def test_logout_ends_the_token_at_every_service_within_the_window(
    stack: Stack, identity: httpx.AsyncClient
) -> None:
    """Issue 22, finding 4: a token of an ended session is refused everywhere, at identity
    at once and at every other service within AUTH_REVOCATION_REFRESH_SECONDS (1 s in this
    stack, 5 s by default); before, the others took it until it expired (15 minutes)."""
    done = await login(identity, EMPLOYERS["employer_a"][0], PASSWORD)
    assert done.status_code == 201
    token, cookie = done.json()["access_token"], done.cookies["noryoku_session"]
    identity.cookies.clear()
    assert (await statuses(stack, bearer(token))) == dict.fromkeys(PROTECTED, 200)

    out = await identity.delete("/sessions/current", headers=session_cookie(cookie))
    assert out.status_code == 204
    ended = time.monotonic()
    identity.cookies.clear()
    me = await identity.get("/me", headers=bearer(token))
    assert (me.status_code, me.json()["code"]) == (401, "session_revoked")
    renewal = await identity.post("/sessions/token", headers=session_cookie(cookie))
    assert renewal.status_code == 401

    async def refused_everywhere() -> bool:
        return set((await statuses(stack, bearer(token))).values()) == {401}

    await eventually(refused_everywhere, timeout=10 * REVOCATION_REFRESH_SECONDS + 10)
    window = time.monotonic() - ended
    # one poll interval, plus this loaded machine's scheduling (the tests' margin)
    assert window <= REVOCATION_REFRESH_SECONDS + 3, window
    for service, path in PROTECTED.items():
        answer = await stack.client(service).get(path, headers=bearer(token))
        assert answer.json()["code"] == "session_revoked", service
    # the other sessions of the same user are untouched
    assert (await statuses(stack, stack.headers["employer_a"])) == dict.fromkeys(PROTECTED, 200)


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

    async def dropped_everywhere() -> bool:
        return set((await statuses(stack, bearer(dropped))).values()) == {401}

    await eventually(dropped_everywhere, timeout=15)
    assert (await statuses(stack, bearer(kept))) == dict.fromkeys(PROTECTED, 200)
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


# --- throttling and user enumeration -------------------------------------------------------


async def test_throttling_looks_the_same_for_unknown_login_ids_and_spares_the_owner(
    stack: Stack, identity: httpx.AsyncClient
) -> None:
    """Issue 22, finding 9: wrong passwords slow down their source (growing waits), for
    existing and unknown login IDs alike; the owner elsewhere logs in at once (five wrong
    passwords locked him out everywhere for 15 minutes before)."""
    known = "rokkuAuto2026"
    await new_employer(stack, identity, known)
    service = stack.container("identity").service
    original = service.clock
    frozen = datetime.now(UTC)  # every attempt at the same instant (a loaded machine)
    service.clock = lambda: frozen
    try:
        answers = await _guess(identity, known)
    finally:
        service.clock = original
    expected = [(401, INVALID_CREDENTIALS)] * 4 + [(429, answers[known][4][1])]
    expected += [(429, "login_throttled")]
    assert answers[known] == answers["daremoInai2026"] == expected

    # the owner, from another place, right away
    owner = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.apps["identity"], client=("192.0.2.44", 1)),
        base_url="http://identity",
    )
    async with owner:
        assert (await login(owner, known, PASSWORD)).status_code == 201
    # the guessing source, once its wait is over (the service's clock)
    later = frozen + timedelta(seconds=3)
    service.clock = lambda: later
    try:
        assert (await login(identity, known, PASSWORD)).status_code == 201
    finally:
        service.clock = original
    trail = await service.attempts.find({"login_id": known, "source": {"$exists": True}})
    assert any(t.total_failures == 4 and t.throttled == 2 for t in trail)


async def _guess(identity: httpx.AsyncClient, known: str) -> dict[str, list[tuple[int, str]]]:
    answers: dict[str, list[tuple[int, str]]] = {}
    for login_id in (known, "daremoInai2026"):
        found = []
        for _ in range(5):
            answer = await login(identity, login_id, "Machigai-Pw-0000")
            found.append((answer.status_code, answer.json()["message"]))
        waiting = await login(identity, login_id, PASSWORD)  # the right password, too early
        found.append((waiting.status_code, waiting.json()["code"]))
        assert 1 <= int(waiting.headers["retry-after"]) <= 2
        answers[login_id] = found
    return answers


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


# --- the activation link's expiry instant (injected clock) ----------------------------------


@pytest.mark.parametrize(
    ("offset", "status"),
    [(timedelta(seconds=1), 410), (timedelta(0), 410), (timedelta(seconds=-1), 200)],
)
async def test_the_activation_link_works_until_just_before_its_expiry_instant(
    stack: Stack, identity: httpx.AsyncClient, offset: timedelta, status: int
) -> None:
    service = stack.container("identity").service
    original_clock = service.clock
    issued = datetime(2026, 12, 4, 14, 59, 59, 500000, tzinfo=UTC)  # 23:59:59.5 in Tokyo
    ttl = timedelta(hours=stack.settings["identity"].activation_ttl_hours)
    login_id = f"kigen{int(offset.total_seconds()) + 1}x2026"
    service.clock = lambda: issued
    try:
        registered = await identity.post("/registrations", json=registration(login_id))
        assert registered.status_code == 201, registered.text
        assert registered.json()["expires_at"].startswith("2026-12-05T14:59:59.5")
        moment = issued + ttl + offset
        service.clock = lambda: moment
        token = stack.activation_token(registration(login_id)["email"])
        answer = await identity.post("/activations", json=activation(token))
    finally:
        service.clock = original_clock
    assert answer.status_code == status, answer.text
    if status == 410:
        assert answer.json()["code"] == "activation_expired"


# --- the portal: CSRF on every form, headers ------------------------------------------------


CSRF_EXEMPT = {"/verify"}
"""The public PDF check passed to the document service (docs/portal.md): it changes nothing,
sends no session or token on, and the document's own page posts its form without a token."""


def portal_role(path: str) -> str:
    if path.startswith("/review"):
        return "evaluator"
    if path.startswith("/ops"):
        return "operator"
    if path in ("/register", "/register/activate", "/login"):
        return "anonymous"
    if path.startswith("/criteria/approvals"):
        return "criteria_approver"
    if path.startswith("/criteria"):
        return "criteria_editor"
    return "employer_a"


async def test_every_portal_form_refuses_a_post_without_the_sessions_csrf_token(
    stack: Stack,
) -> None:
    posts = sorted(p for m, p in routes_of(stack.portal) if m == "POST" and p not in CSRF_EXEMPT)
    assert len(posts) >= 15
    ids = {
        "application_id": stack.ids["draft_a"],
        "line_id": stack.ids["line_a"],
        "consent_id": stack.ids["consent_a"],
        "service": "consent",
        "topic": "x.dlq",
        "partition": "0",
        "offset": "0",
        "draft_id": "CD-20990101-000000",
        "trade": "配管",
    }
    refused: list[str] = []
    clients: dict[str, tuple[httpx.AsyncClient, str]] = {}
    roles = ("anonymous", "employer_a", "evaluator", "operator")
    for role in (*roles, "criteria_editor", "criteria_approver"):  # one login each
        client = stack.portal_client()
        if role != "anonymous":
            await portal_login(stack, client, role)
        page = {
            "anonymous": "/login",
            "employer_a": "/menu",
            "evaluator": "/review",
            "criteria_editor": "/criteria",
            "criteria_approver": "/criteria",
        }.get(role, "/ops")
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
