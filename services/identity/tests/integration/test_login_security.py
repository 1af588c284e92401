"""Login, throttling, rate limits, sessions, password change, profile + audit, validation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

Identity = Any  # the ``identity`` fixture (see conftest.py)
PASSWORD = "Sekkei-2026"
COOKIE = "noryoku_session"
INVALID = {
    "code": "invalid_credentials",
    "message": (
        "ログインIDまたはパスワードが正しくありません。"
        "（利用者本申請がお済みでない場合は、先に本申請を行ってください）"
    ),
}
THROTTLED = {
    "code": "login_throttled",
    "message": (
        "ログインに続けて失敗したため、しばらくログインできません。"
        "時間をおいてから再度お試しください。"
    ),
}


def bearer(response: httpx.Response) -> dict[str, str]:
    return {"authorization": f"Bearer {response.json()['access_token']}"}


async def login(client: httpx.AsyncClient, login_id: str, password: str) -> httpx.Response:
    return await client.post("/sessions", json={"login_id": login_id, "password": password})


async def test_login_sets_the_session_cookie_and_returns_a_short_lived_token(
    identity: Identity,
) -> None:
    client = identity.client()
    await identity.active_employer(client)
    response = await login(client, "Kensetsu01", PASSWORD)
    assert response.status_code == 201
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Max-Age=43200" in cookie and "Secure" not in cookie
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer" and 890 <= body["expires_in"] <= 900
    assert (body["login_id"], body["role"], body["employer_id"]) == (
        "Kensetsu01",
        "employer",
        "12345678901234",
    )
    # over HTTPS the cookie is Secure
    secure = identity.client(scheme="https")
    assert "Secure" in (await login(secure, "Kensetsu01", PASSWORD)).headers["set-cookie"]
    # the login ID is case-sensitive
    assert (await login(client, "kensetsu01", PASSWORD)).json() == INVALID


async def test_token_exchange_and_logout(identity: Identity) -> None:
    client = identity.client()
    await identity.active_employer(client)
    assert (await login(client, "Kensetsu01", PASSWORD)).status_code == 201
    exchanged = await client.post("/sessions/token")
    assert exchanged.status_code == 200, exchanged.text
    principal = await identity.container.runtime.auth.verify(exchanged.json()["access_token"])
    assert (principal.subject, principal.role, principal.employer_id) == (
        "Kensetsu01",
        "employer",
        "12345678901234",
    )
    session = client.cookies[COOKIE]
    logout = await client.delete("/sessions/current")
    assert logout.status_code == 204
    assert f'{COOKIE}=""' in logout.headers["set-cookie"]
    # the revoked session cannot be exchanged, even if the browser kept the cookie
    kept = identity.client()
    kept.cookies.set(COOKIE, session)
    stale = await kept.post("/sessions/token")
    assert stale.status_code == 401
    assert stale.json() == {
        "code": "session_invalid",
        "message": "セッションが無効か期限切れです。再度ログインしてください。",
    }
    assert (await identity.client().post("/sessions/token")).status_code == 401  # no cookie
    stored = await identity.container.service.sessions.find({"login_id": "Kensetsu01"})
    assert [s.revoked_reason for s in stored] == ["logout"]
    assert session not in {s.id for s in stored}  # only its SHA-256 is stored


async def test_session_expires(identity: Identity) -> None:
    client = identity.client()
    await identity.active_employer(client)
    await login(client, "Kensetsu01", PASSWORD)
    service = identity.container.service
    now = service.clock()
    service.clock = lambda: now + timedelta(hours=12, seconds=1)
    assert (await client.post("/sessions/token")).status_code == 401


async def test_throttling_looks_the_same_for_known_and_unknown_login_ids(
    start_identity: Callable[..., Any],
) -> None:
    async with start_identity(rate_limit_per_login_id=50) as identity:
        await check_throttling(identity)


async def check_throttling(identity: Identity) -> None:
    owner = identity.client("203.0.113.5")
    await identity.active_employer(owner)
    service = identity.container.service
    dummy_checks = 0
    verify_dummy = service.hasher.verify_dummy

    async def counting(password: str) -> None:
        nonlocal dummy_checks
        dummy_checks += 1
        await verify_dummy(password)

    service.hasher.verify_dummy = counting
    start = service.clock()
    now = start
    service.clock = lambda: now
    attacker = identity.client("198.51.100.66")
    outcomes: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for login_id in ("Kensetsu01", "Unknown001"):
        outcomes[login_id] = []
        for _ in range(5):  # at once, one after the other
            response = await login(attacker, login_id, "Wrong-Pass1")
            body = response.json()
            body.pop("retry_after_seconds", None)
            outcomes[login_id].append((response.status_code, body))
    # three free failures, the fourth sets a wait of 2 s: the fifth comes too early
    expected = [(401, INVALID)] * 4 + [(429, THROTTLED)]
    assert outcomes["Kensetsu01"] == outcomes["Unknown001"] == expected
    assert dummy_checks == 4  # an unknown ID costs a hash verification like a known one

    # the owner, from his own place, is not locked out: right now, right password
    assert (await login(owner, "Kensetsu01", PASSWORD)).status_code == 201
    # the attacker's source waits, growing: 2 s, 4 s, 8 s … (capped at 15 minutes)
    waits = []
    for _ in range(4):
        throttled = await login(attacker, "Kensetsu01", PASSWORD)  # even the right one
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) == throttled.json()["retry_after_seconds"]
        waits.append(throttled.json()["retry_after_seconds"])
        now += timedelta(seconds=throttled.json()["retry_after_seconds"])
        assert (await login(attacker, "Kensetsu01", "Wrong-Pass2")).status_code == 401
    assert waits == [2, 4, 8, 16]
    # the audit trail: per login ID and source, and the sessions name where they came from
    trail = await service.attempts.get("Kensetsu01|198.51.100.66")
    assert trail is not None
    assert (trail.total_failures, trail.throttled) == (8, 5)
    assert trail.first_failure_at < trail.last_failure_at
    [session] = await service.sessions.find({"login_id": "Kensetsu01"})
    assert session.source == "203.0.113.5"
    # a success from the source forgets its failures
    now += timedelta(seconds=32)
    assert (await login(attacker, "Kensetsu01", PASSWORD)).status_code == 201
    cleared = await service.attempts.get("Kensetsu01|198.51.100.66")
    assert cleared is not None and cleared.failures == 0 and cleared.total_failures == 8


async def test_a_spread_guess_meets_the_hourly_cap_but_not_the_owners_known_place(
    start_identity: Callable[..., Any],
) -> None:
    async with start_identity(
        rate_limit_per_login_id=100, login_account_failures_per_hour=6
    ) as identity:
        owner = identity.client("203.0.113.5")
        await identity.active_employer(owner)
        assert (await login(owner, "Kensetsu01", PASSWORD)).status_code == 201  # known place
        codes = []
        for n in range(10):  # one guess from each of many addresses
            guess = await login(identity.client(f"198.51.100.{n}"), "Kensetsu01", "Wrong-Pass1")
            codes.append(guess.status_code)
        assert codes == [401] * 6 + [429] * 4
        assert (await login(identity.client("192.0.2.77"), "Kensetsu01", PASSWORD)).status_code == (
            429  # a new place waits until the hour ends …
        )
        assert (await login(owner, "Kensetsu01", PASSWORD)).status_code == 201  # … not his


async def test_rate_limits_per_ip_and_per_login_id(start_identity: Callable[..., Any]) -> None:
    async with start_identity(rate_limit_per_ip=3, rate_limit_per_login_id=2) as identity:
        one = identity.client(ip="10.0.0.1")
        statuses = [(await login(one, f"Someone{n:03d}", "x")).status_code for n in range(4)]
        assert statuses == [401, 401, 401, 429]
        limited = await one.post("/registrations", json={})  # any public endpoint
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert limited.json()["message"] == (
            "リクエストが多すぎます。しばらく時間をおいてから再度お試しください。"
        )
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # per login ID and address: a flood naming the ID does not keep its owner out
        two, three = identity.client(ip="10.0.0.2"), identity.client(ip="10.0.0.3")
        assert (await login(three, "Target0001", "x")).status_code == 401
        assert (await login(three, "Target0001", "x")).status_code == 401
        assert (await login(three, "Target0001", "x")).status_code == 429
        assert (await login(two, "Target0001", "x")).status_code == 401
        assert (await login(two, "Other00001", "x")).status_code == 401


async def test_validation_errors_are_japanese_per_field(identity: Identity) -> None:
    client = identity.client()
    response = await client.post(
        "/registrations",
        json={
            "login_id": "ｋｅｎｓｅｔｓｕ０１",
            "email": "taro@",
            "employer_id": "1234",
            "employer_name": "株式会社テスト建設",
            "address": "",
            "representative_name": "山田 太郎",
            "phone_number": "1234",
            "permit_number": "東京都知事許可(般-19)1234号",
        },
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "入力内容に誤りがあります。",
        "errors": [
            {
                "field": "login_id",
                "code": "invalid",
                "message": "ログインIDは半角英数字8〜16文字で入力してください",
            },
            {
                "field": "email",
                "code": "invalid",
                "message": "メールアドレスの形式が正しくありません",
            },
            {
                "field": "employer_id",
                "code": "invalid",
                "message": "事業者IDは14桁の数字で入力してください",
            },
            {"field": "address", "code": "invalid", "message": "所在地を入力してください"},
            {
                "field": "phone_number",
                "code": "invalid",
                "message": "電話番号は0から始まる10桁または11桁の数字で"
                "入力してください（ハイフン可）",
            },
            {
                "field": "permit_number",
                "code": "invalid",
                "message": "建設業許可番号は「国土交通大臣許可(特-25)第123号」または"
                "「東京都知事許可(般-19)第1234号」の形式で入力してください",
            },
        ],
    }
    typed = await client.post("/sessions", json={"login_id": 12345678, "password": None})
    assert typed.status_code == 422
    assert typed.json()["errors"] == [
        {"field": "login_id", "message": "ログインIDは文字列で入力してください"}
    ]
    empty = await client.post("/sessions", json={})
    assert empty.json()["errors"] == [
        {"field": "login_id", "code": "invalid", "message": "ログインIDを入力してください"},
        {"field": "password", "code": "invalid", "message": "パスワードを入力してください"},
    ]
    weak = await client.post(
        "/activations",
        json={
            "token": "whatever",
            "new_password": "kensetsu01",
            "new_password_confirmation": "kensetsu01",
        },
    )
    assert weak.json()["errors"] == [
        {
            "field": "new_password",
            "code": "invalid",
            "message": "新しいパスワードは英大文字・英小文字と、"
            "数字または記号を組み合わせて入力してください",
        }
    ]
    not_json = await client.post(
        "/sessions", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["errors"][0]["message"] == "リクエストの本文をJSONとして読み取れません"


async def test_password_change_revokes_the_other_sessions(identity: Identity) -> None:
    browser, other = identity.client(), identity.client()
    await identity.active_employer(browser)
    token = bearer(await login(browser, "Kensetsu01", PASSWORD))
    await login(other, "Kensetsu01", PASSWORD)
    wrong = await browser.put(
        "/me/password",
        headers=token,
        json={
            "current_password": "Not-The-One1",
            "new_password": "Kaisou-2027",
            "new_password_confirmation": "Kaisou-2027",
        },
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "code": "invalid_current_password",
        "message": "現在のパスワードが正しくありません。",
    }
    changed = await browser.put(
        "/me/password",
        headers=token,
        json={
            "current_password": PASSWORD,
            "new_password": "Kaisou-2027",
            "new_password_confirmation": "Kaisou-2027",
        },
    )
    assert changed.status_code == 200
    assert changed.json() == {"message": "パスワードを変更しました。"}
    assert (await browser.post("/sessions/token")).status_code == 200  # this one is kept
    assert (await other.post("/sessions/token")).status_code == 401
    assert (await login(browser, "Kensetsu01", PASSWORD)).status_code == 401
    assert (await login(browser, "Kensetsu01", "Kaisou-2027")).status_code == 201
    unauthenticated = await identity.client().put("/me/password", json={})
    assert unauthenticated.status_code == 401


async def test_employer_profile_update_is_audited(identity: Identity) -> None:
    client = identity.client()
    await identity.active_employer(client)
    token = bearer(await login(client, "Kensetsu01", PASSWORD))
    profile = (await client.get("/employers/me", headers=token)).json()
    assert profile["permit_number"] == "東京都知事許可(般-19)第1234号"
    assert profile["permit"]["code"] == "13-001234"
    update = {
        "employer_name": "株式会社テスト建設ホールディングス",
        "address": "東京都千代田区霞が関1-1",
        "representative_name": "山田 花子",
        "phone_number": "０３－９８７６－５４３２",
        "permit_number": "国土交通大臣許可(特-6)第123号",
    }
    changed = await client.put(
        "/employers/me", headers={**token, "x-correlation-id": "audit-1"}, json=update
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone_number"] == "03-9876-5432"
    assert changed.json()["permit_number"] == "国土交通大臣許可(特-06)第123号"
    history = (await client.get("/employers/me/history", headers=token)).json()
    [entry] = history
    assert entry["by"] == "Kensetsu01" and entry["role"] == "employer"
    assert entry["correlation_id"] == "audit-1"
    assert entry["changes"]["employer_name"] == {
        "before": "株式会社テスト建設",
        "after": "株式会社テスト建設ホールディングス",
    }
    assert entry["changes"]["representative_name"] == {"before": "山田 太郎", "after": "山田 花子"}
    assert entry["changes"]["phone_number"] == {"before": "03-1234-5678", "after": "03-9876-5432"}
    assert entry["changes"]["permit_number"]["before"]["text"] == "東京都知事許可(般-19)第1234号"
    assert entry["changes"]["permit_number"]["after"]["text"] == "国土交通大臣許可(特-06)第123号"
    assert set(entry["changes"]) == {
        "employer_name",
        "representative_name",
        "phone_number",
        "permit_number",
    }
    # the same values again: no new audit entry
    assert (await client.put("/employers/me", headers=token, json=update)).status_code == 200
    assert len((await client.get("/employers/me/history", headers=token)).json()) == 1
    # the login ID and 事業者ID cannot be changed
    immutable = await client.put(
        "/employers/me",
        headers=token,
        json={**update, "login_id": "Other0001", "employer_id": "99999999999999"},
    )
    assert immutable.status_code == 422
    assert immutable.json()["errors"] == [
        {"field": "login_id", "message": "ログインIDは変更できません"},
        {"field": "employer_id", "message": "事業者IDは変更できません"},
    ]
    me = (await client.get("/me", headers=token)).json()
    assert (me["login_id"], me["employer_id"]) == ("Kensetsu01", "12345678901234")
    assert me["employer_name"] == "株式会社テスト建設ホールディングス"
