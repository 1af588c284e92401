"""Issue 22, findings 1 and 2, against the whole stack: the local stack's own secrets, and
tokens signed by identity alone (EdDSA) that every other service verifies with identity's
published public key — through a key rollover, with identity unreachable.

The stack (conftest.py) runs on what ``make run`` generates: ``deploy/local/secrets.sh``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr

from document.core import signing
from portal.adapters.outbound.session_cookie import SessionCodec
from portal.config import DEVELOPMENT_COOKIE_SECRET
from portal.core.session import Session
from shared_kernel.infra.auth import RemoteKeys, RemoteRevocations, SigningKey, load_signing_keys

from .conftest import EMPLOYERS, HTML, PASSWORD, ROOT, Stack, login, make_run_secrets

pytestmark = pytest.mark.timeout(600)
DEVELOPMENT_DOCUMENT_KEY = "changethis-development-document-signing-key"
SERVICES = ("consent", "application", "judgement", "notification", "document")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_make_run_generates_its_own_secrets_and_keeps_them_private() -> None:
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        first, again, other = make_run_secrets(one), make_run_secrets(one), make_run_secrets(two)
        assert first == again  # kept: generated on the first start only
        assert set(first) == {
            "IDENTITY_SIGNING_KEYS",
            "PORTAL_COOKIE_SECRET",
            "DOCUMENT_SIGNING_KEY",
        }
        for name, value in first.items():
            assert value != other[name], name  # random per machine
            assert not value.startswith("changethis") and len(value.encode()) >= 32, name
        assert len(load_signing_keys(first["IDENTITY_SIGNING_KEYS"])) == 1
        assert stat.S_IMODE(os.stat(one).st_mode) == 0o700
        for path in Path(one).iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    # where make run keeps them is never committed
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "var/secrets/portal-cookie-secret"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0
    # and each service gets its own only: identity alone the signing key
    script = (ROOT / "deploy/local/services.sh").read_text(encoding="utf-8")
    assert (
        "deploy/local/secrets.sh env" in script
        and "SECRET_OF=([identity]=IDENTITY_SIGNING_KEYS" in script
    )


@pytest.mark.parametrize(
    ("service", "variable"),
    [("portal", "PORTAL_COOKIE_SECRET"), ("document", "DOCUMENT_SIGNING_KEY")],
)
def test_a_development_service_refuses_to_serve_on_a_published_placeholder(
    service: str, variable: str
) -> None:
    """Started by hand without make run's secrets, a development service stops at once
    (before: it served on the placeholders the repository publishes)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (variable, "APP_ENV", "ENVIRONMENT") and not k.startswith("PYTEST")
    }
    env |= {"APP_ENV": "development", f"{service.upper()}_HTTP_PORT": str(port)}
    started = subprocess.Popen(
        [sys.executable, "-m", service, "serve"],
        env=env,
        cwd=tempfile.gettempdir(),  # no .env of a developer's
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, err = started.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        started.kill()
        started.communicate()
        pytest.fail(f"{service} served with the development placeholder of {variable}")
    assert started.returncode == 2
    assert variable in err and "make run" in err


async def test_the_portal_cookie_and_notice_codes_are_not_made_with_development_secrets(
    stack: Stack,
) -> None:
    """A cookie sealed with the published PORTAL_COOKIE_SECRET placeholder — naming a real,
    open identity session and a valid token — is an anonymous one; a 結果通知書 code made
    with the placeholder DOCUMENT_SIGNING_KEY verifies nothing (both worked on make run's
    stack before)."""
    assert (
        stack.settings["portal"].cookie_secret.get_secret_value()
        == (stack.secrets["PORTAL_COOKIE_SECRET"])
    )
    token = stack.headers["employer_a"]["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    session = Session()
    session.log_in(
        login_id=EMPLOYERS["employer_a"][0],
        role="employer",
        employer_id=EMPLOYERS["employer_a"][1],
        identity_session=stack.sessions["employer_a"],
        access_token=token,
        access_expires_at=float(claims["exp"]),
        session_expires_at=time.time() + 3600,
        session_id=claims["sid"],
    )
    forged = SessionCodec(DEVELOPMENT_COOKIE_SECRET, 3600).seal(session, time.time())
    async with stack.portal_client() as client:
        client.cookies.set("noryoku_portal", forged)
        page = await client.get("/menu", headers=HTML)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")

    document = stack.client("document")
    notice = stack.ids["notice_a"]
    made_up = signing.verification_code(DEVELOPMENT_DOCUMENT_KEY, notice)
    assert (await document.get(f"/verify/{made_up}")).status_code == 404
    real = signing.verification_code(stack.secrets["DOCUMENT_SIGNING_KEY"], notice)
    assert (await document.get(f"/verify/{real}")).json()["authentic"] is True


async def test_only_identity_holds_a_private_key_the_others_read_its_public_one(
    stack: Stack,
) -> None:
    jwks = (await stack.client("identity").get("/.well-known/jwks.json")).json()
    [published] = jwks["keys"]
    assert published["kty"] == "OKP" and published["crv"] == "Ed25519"
    assert "d" not in published  # the public half only
    kid = jwt.get_unverified_header(stack.headers["employer_a"]["Authorization"][7:])["kid"]
    assert published["kid"] == kid == stack.container("identity").keyring.signer.kid
    for service in (*SERVICES, "portal"):
        settings = stack.settings[service]
        assert settings.auth_jwks is None  # read from identity, not configured
        held = [v.get_secret_value() if isinstance(v, SecretStr) else v for _, v in settings]
        assert not [v for v in held if "PRIVATE KEY" in str(v)], service
        keys = authenticator(stack, service).keys
        assert isinstance(keys, RemoteKeys) and keys.keys is not None and kid in keys.keys
    # the public key as an HMAC secret (algorithm confusion) opens nothing
    confused = jwt.encode(
        {"sub": "x", "role": "operator", "sid": "s", "iss": "noryoku-identity", "exp": 2**31},
        published["x"],
        algorithm="HS256",
        headers={"kid": kid},
    )
    for service in SERVICES:
        path = {"notification": "/mails", "consent": "/consents"}.get(service, "/access-log")
        answer = await stack.client(service).get(path, headers=bearer(confused))
        assert answer.status_code == 401, service


def authenticator(stack: Stack, service: str) -> Any:
    """The service's token verifier (the portal, which owns no runtime, holds its own)."""
    if service == "portal":
        return stack.portal.state.container.auth
    return stack.apps[service].state.container.runtime.auth


async def _refresh_keys(stack: Stack) -> None:
    for service in (*SERVICES, "portal"):
        keys = authenticator(stack, service).keys
        assert isinstance(keys, RemoteKeys)
        await keys.fetch()  # what the periodic refresh does (AUTH_KEYS_REFRESH_SECONDS)


async def statuses(stack: Stack, token: str) -> dict[str, int]:
    paths = {"consent": "/consents", "application": "/applications", "document": "/notices"}
    paths |= {"judgement": "/judgements", "identity": "/me"}
    return {
        service: (await stack.client(service).get(path, headers=bearer(token))).status_code
        for service, path in paths.items()
    }


async def test_a_key_rollover_keeps_every_token_valid_then_retires_the_old_key(
    stack: Stack,
) -> None:
    """The documented rollover (docs/security.md): publish the new key, sign with it, retire
    the old one after a token lifetime — with both keys accepted in between."""
    keyring = stack.container("identity").keyring
    old, new = keyring.signer, SigningKey.generate()
    old_token = stack.headers["employer_a"]["Authorization"][7:]
    identity = stack.client("identity")
    try:
        keyring.use([old, new])  # 1. publish the new key (the old still signs)
        await _refresh_keys(stack)
        keyring.use([new, old])  # 2. sign with the new one
        fresh = await login(identity, EMPLOYERS["employer_b"][0], PASSWORD)
        new_token = fresh.json()["access_token"]
        assert jwt.get_unverified_header(new_token)["kid"] == new.kid
        every = dict.fromkeys(("consent", "application", "document", "judgement", "identity"), 200)
        assert await statuses(stack, new_token) == every
        assert await statuses(stack, old_token) == every  # both during the rollover
        keyring.use([new])  # 3. after a token lifetime, the old key goes
        await _refresh_keys(stack)
        assert set((await statuses(stack, old_token)).values()) == {401}
        assert await statuses(stack, new_token) == every
        jwks = (await identity.get("/.well-known/jwks.json")).json()
        assert [k["kid"] for k in jwks["keys"]] == [new.kid]
    finally:
        keyring.use([old])  # the rest of the package uses tokens of the old key
        await _refresh_keys(stack)
    assert (await statuses(stack, old_token))["consent"] == 200


async def test_identity_unreachable_503_then_the_service_resumes(stack: Stack) -> None:
    """A service that cannot refresh identity's list of ended sessions for
    AUTH_REVOCATION_MAX_STALE_SECONDS answers 503 auth_unavailable instead of trusting an old
    list; when identity answers again, it serves at once."""
    auth = stack.container("consent").runtime.auth
    revocations = auth.revocations
    assert isinstance(revocations, RemoteRevocations) and auth.client is not None
    token = stack.headers["employer_a"]

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("identity is down")

    original = auth.client.transport
    auth.use_transport(httpx.MockTransport(down))
    try:
        await asyncio.sleep(0)
        assert revocations.synced_at is not None
        revocations.synced_at -= revocations.max_stale_seconds + 1  # a minute without identity
        answer = await stack.client("consent").get("/consents", headers=token)
        assert answer.status_code == 503
        assert answer.json()["code"] == "auth_unavailable"
        # without a token nothing changes (the probes, public pages)
        assert (await stack.client("consent").get("/healthz")).status_code == 200
    finally:
        assert original is not None
        auth.use_transport(original)
    assert (await stack.client("consent").get("/consents", headers=token)).status_code == 200
