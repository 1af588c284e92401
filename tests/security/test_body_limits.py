"""The portal's request bodies are limited while they are read (issue 22, finding 7).

Before, the portal parsed a form whatever its size: 100 MB sent to the anonymous
``POST /login`` were read (multipart parts spooled to disk), and the logged-in signed-form
upload read its whole body before checking its 20 MB limit. Now
(``portal/adapters/inbound/body_limit.py``) every body is counted as it is read, by the
outermost layer of the app: the bodies here are streamed (no ``Content-Length``) and each
test counts how much of the stream the portal pulled — it stops just past the route's
limit, and the answer is 413 with a Japanese page and the portal's security headers.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator

import httpx

from portal.adapters.inbound.body_limit import MULTIPART_ALLOWANCE
from portal.core.session import Session

from .conftest import EMPLOYERS, HTML, Stack
from .test_access_matrix import csrf_of

CHUNK = 64 * 1024
HUNDRED_MB = 100 * 1024 * 1024
BOUNDARY = "----limit-test-boundary"


class Stream:
    """A request body of ``total`` bytes that counts how much of it was pulled."""

    def __init__(self, head: bytes, total: int) -> None:
        self.head = head
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.pulled += len(self.head)
        yield self.head
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield b"x" * CHUNK


def multipart_head(fields: dict[str, str], file_field: str) -> bytes:
    head = b""
    for name, value in fields.items():
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; '
        'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n'
    ).encode()
    return head


def portal_as(stack: Stack, role: str) -> httpx.AsyncClient:
    """A portal client already logged in as ``role``: its cookie seals the identity session
    and token the stack's setup logged in with. (Logging in again through the portal would
    count against identity's per-login-ID rate limit, which the other tests of the package
    share.)"""
    token = stack.headers[role]["Authorization"].removeprefix("Bearer ")
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    session = Session()
    session.log_in(
        login_id=EMPLOYERS[role][0],
        role="employer",
        employer_id=EMPLOYERS[role][1],
        identity_session=stack.sessions[role],
        access_token=token,
        access_expires_at=float(claims["exp"]),
        session_expires_at=time.time() + 3600,
        session_id=claims["sid"],
    )
    container = stack.portal.state.container
    client = stack.portal_client()
    client.cookies.set(container.settings.cookie_name, container.codec.seal(session, time.time()))
    return client


def assert_413_page(answer: httpx.Response) -> None:
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert "送信内容が大きすぎます" in answer.text
    assert re.search(r"上限\d", answer.text)
    assert answer.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in answer.headers
    assert answer.headers["cache-control"] == "no-store"


async def test_an_anonymous_100_mb_login_is_cut_at_the_form_limit(stack: Stack) -> None:
    limit = stack.settings["portal"].max_form_bytes
    body = Stream(multipart_head({"login_id": "x", "password": "y"}, "junk"), HUNDRED_MB)
    async with stack.portal_client() as client:
        answer = await client.post(
            "/login",
            content=body,
            headers={**HTML, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    assert_413_page(answer)
    assert "入力内容を確認して" in answer.text
    assert body.pulled <= limit + CHUNK  # read stopped at the first chunk past the limit
    assert body.pulled < HUNDRED_MB // 100


async def test_an_urlencoded_form_is_cut_too_and_json_clients_get_json(stack: Stack) -> None:
    limit = stack.settings["portal"].max_form_bytes
    body = Stream(b"login_id=x&password=", HUNDRED_MB)
    async with stack.portal_client() as client:
        answer = await client.post(
            "/login",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"
    assert re.search(r"[ぁ-んァ-ヶ一-龯]", answer.json()["message"])
    assert body.pulled <= limit + CHUNK


async def test_a_declared_length_over_the_limit_is_refused_before_reading(stack: Stack) -> None:
    pulled: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        pulled.append(1)
        yield b"login_id=x"

    async with stack.portal_client() as client:
        request = client.build_request(
            "POST",
            "/login",
            content=body(),
            headers={
                **HTML,
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Length": str(HUNDRED_MB),
            },
        )
        answer = await client.send(request)
    assert_413_page(answer)
    assert pulled == []  # not a byte was read


async def test_the_logged_in_upload_is_cut_at_the_upload_limit(stack: Stack) -> None:
    upload_limit = stack.settings["portal"].max_upload_bytes
    sent_before = len(stack.portal_services.sent)
    async with portal_as(stack, "employer_a") as client:
        token = csrf_of(await client.get("/consents", headers=HTML))
        body = Stream(multipart_head({"csrf_token": token}, "signed_form"), HUNDRED_MB)
        answer = await client.post(
            f"/consents/{stack.ids['consent_a']}/signed-form",
            content=body,
            headers={**HTML, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    assert_413_page(answer)
    assert "添付ファイルは" in answer.text
    assert body.pulled <= upload_limit + MULTIPART_ALLOWANCE + CHUNK
    assert body.pulled < HUNDRED_MB // 50
    # nothing went to the consent service
    assert not [s for s in stack.portal_services.sent[sent_before:] if s[0] == "PUT"]


async def test_ordinary_forms_and_a_file_within_the_limit_still_go_through(stack: Stack) -> None:
    async with stack.portal_client() as client:  # an ordinary form, read and parsed:
        form = {"csrf_token": "x" * 43, "login_id": "nobody2026", "password": "x" * 200}
        refused = await client.post("/login", data=form, headers=HTML)
        assert refused.status_code == 400  # the CSRF check ran (no login is tried)
        assert "送信を受け付けられませんでした" in refused.text
    async with portal_as(stack, "employer_a") as client:
        page = await client.get("/consents", headers=HTML)
        assert page.status_code == 200
        token = csrf_of(page)
        # a file just over the portal's upload limit but within the body limit: the page's
        # own message (a flash), as before
        limit = stack.settings["portal"].max_upload_bytes
        over = await client.post(
            f"/consents/{stack.ids['consent_a']}/signed-form",
            data={"csrf_token": token},
            files={"signed_form": ("big.pdf", b"%PDF-" + b"0" * (limit + 1), "application/pdf")},
            headers=HTML,
        )
        assert over.status_code == 303
        assert "ファイルが大きすぎます" in (await client.get("/menu", headers=HTML)).text
