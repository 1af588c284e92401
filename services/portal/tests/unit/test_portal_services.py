"""Calling the services with the user's token: renewal, retries, errors (the portal's
pooled clients over ``httpx.MockTransport``: scripted services, no network)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from portal.adapters.outbound.http_pool import PooledTransport
from portal.adapters.outbound.services import (
    Forbidden,
    NotFound,
    ServiceError,
    Services,
    ServiceUnavailable,
    SessionExpired,
    UserApi,
    error_of,
    set_cookies,
)
from portal.config import Settings
from portal.core.session import Session
from portal.ports.transport import Reply
from shared_kernel.infra.logging import correlation_scope

NOW = 1_800_000_000.0
KANA = "氏名カナは全角カタカナで入力してください"


def reply(status: int, body: Any = None, headers: Sequence[tuple[str, str]] = ()) -> Reply:
    data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    return Reply(status, (("content-type", "application/json"), *headers), data)


class Fake:
    """The services behind ``httpx.MockTransport``: answers from a script (a ``Reply``, or
    an ``httpx`` error raised as the network would) and remembers every request."""

    def __init__(self, *answers: Reply | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str, httpx.Headers, bytes | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(
            (request.method, str(request.url), request.headers, request.content or None)
        )
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer.status, headers=list(answer.headers), content=answer.body)


def session(expires_in: float = 900) -> Session:
    s = Session()
    s.log_in(
        login_id="kensetsu2026",
        role="employer",
        employer_id="10000000000001",
        identity_session="sid-123",
        access_token="old-token",
        access_expires_at=NOW + expires_in,
        session_expires_at=NOW + 3600,
    )
    return s


def api(fake: Fake, s: Session) -> UserApi:
    settings = Settings(identity_url="http://identity.test", consent_url="http://consent.test/")
    transport = PooledTransport(
        settings.service_urls(), settings.service_pool(), transport=httpx.MockTransport(fake)
    )
    return UserApi(Services(settings, transport), s, "192.0.2.7", now=NOW)


async def test_a_call_carries_the_token_and_the_json_body() -> None:
    fake = Fake(reply(201, {"consents": []}))
    found = await api(fake, session()).post("consent", "/consent-applications", {"名前": "𠮷"})
    assert found == {"consents": []}
    method, url, headers, body = fake.sent[0]
    assert (method, url) == ("POST", "http://consent.test/consent-applications")
    assert headers["Authorization"] == "Bearer old-token"
    assert headers["Content-Type"] == "application/json"
    assert "X-Forwarded-For" not in headers  # only identity needs the browser's address
    assert headers["User-Agent"] == "noryoku-portal"
    assert json.loads(body or b"") == {"名前": "𠮷"}


async def test_a_call_carries_the_correlation_id_of_the_request_being_handled() -> None:
    fake = Fake(reply(200, []))
    with correlation_scope("corr-2026"):
        await api(fake, session()).get("consent", "/consents")
    assert fake.sent[0][2]["X-Correlation-ID"] == "corr-2026"
    assert fake.sent[0][2]["Accept"] == "application/json"


async def test_a_token_about_to_expire_is_renewed_first() -> None:
    s = session(expires_in=30)
    fake = Fake(
        reply(200, {"access_token": "new-token", "expires_in": 900}),
        reply(200, [{"consent_id": "x"}]),
    )
    assert await api(fake, s).get("consent", "/consents", status="pending") == [{"consent_id": "x"}]
    renew, call = fake.sent
    assert renew[:2] == ("POST", "http://identity.test/sessions/token")
    assert renew[2]["Cookie"] == "noryoku_session=sid-123"
    assert renew[2]["X-Forwarded-For"] == "192.0.2.7"
    assert call[1] == "http://consent.test/consents?status=pending"
    assert call[2]["Authorization"] == "Bearer new-token"
    assert s.access_token == "new-token" and s.access_expires_at == NOW + 900 and s.dirty


async def test_a_401_is_retried_once_after_renewal_then_the_login_is_over() -> None:
    fake = Fake(
        reply(401, {"code": "unauthenticated"}),
        reply(200, {"access_token": "new-token", "expires_in": 900}),
        reply(200, {"ok": True}),
    )
    assert await api(fake, session()).get("consent", "/x") == {"ok": True}
    assert [h["Authorization"] for _, _, h, _ in fake.sent if "Authorization" in h] == [
        "Bearer old-token",
        "Bearer new-token",
    ]
    ended = Fake(reply(401, {}), reply(401, {"code": "session_invalid"}))
    with pytest.raises(SessionExpired):
        await api(ended, session()).get("consent", "/x")


async def test_no_login_or_an_expired_login_never_reaches_a_service() -> None:
    fake = Fake()
    with pytest.raises(SessionExpired):
        await api(fake, Session()).get("consent", "/consents")
    old = session()
    old.session_expires_at = NOW - 1
    with pytest.raises(SessionExpired):
        await api(fake, old).get("consent", "/consents")
    assert fake.sent == []


async def test_an_outage_is_service_unavailable() -> None:
    for answer in (
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("no answer"),
        httpx.RemoteProtocolError("not HTTP"),
        reply(500, {}),
        reply(503),
    ):
        with pytest.raises(ServiceUnavailable) as caught:
            await api(Fake(answer), session()).get("consent", "/x")
        assert caught.value.service == "consent"
        assert caught.value.service_ja == "個人情報利用申請サービス"


def test_errors_keep_the_services_japanese_messages_by_field() -> None:
    failure = error_of(
        "consent",
        reply(
            422,
            {
                "code": "validation_error",
                "message": "入力内容に誤りがあります。",
                "errors": [
                    {
                        "field": "workers.0.name_kana",
                        "message": "氏名カナは全角カタカナで入力してください",
                    },
                    {"field": "workers.0.name_kana", "message": "second message is not kept"},
                    {"field": "", "message": "ignored"},
                ],
            },
        ),
    )
    assert isinstance(failure, ServiceError)
    assert failure.status == 422 and failure.code == "validation_error"
    assert failure.fields == {"workers.0.name_kana": KANA}
    conflict = error_of("identity", reply(409, {"code": "login_id_taken", "message": "使用済み"}))
    assert isinstance(conflict, ServiceError) and conflict.message == "使用済み"
    assert isinstance(error_of("consent", reply(404, {"message": "ありません"})), NotFound)
    assert isinstance(error_of("consent", reply(403, {})), Forbidden)
    plain = error_of("consent", Reply(400, (), b"not json"))
    assert isinstance(plain, ServiceError) and plain.message.startswith("処理できませんでした")


def test_the_identity_session_cookie_is_read_from_set_cookie() -> None:
    answer = reply(
        201,
        {},
        [
            (
                "set-cookie",
                "noryoku_session=abc_DEF-123; HttpOnly; Max-Age=43200; Path=/; SameSite=lax",
            ),
            ("set-cookie", "other=1; Path=/"),
        ],
    )
    assert set_cookies(answer) == {"noryoku_session": "abc_DEF-123", "other": "1"}
    assert set_cookies(reply(201, {})) == {}
