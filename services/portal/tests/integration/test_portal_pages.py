"""The portal's pages in process (real runtime, scripted services): cookies, CSRF, errors,
roles.

The services are scripted behind ``httpx.MockTransport`` (under the portal's own pooled
clients), so each test states exactly what identity, consent … answer; the browser
journey against the real services is in ``tests/e2e``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from .conftest import HTML, Portal, csrf_of, login, reply

LOGIN_ID_RULE = "ログインIDは半角英数字8〜16文字で入力してください"


async def test_the_portal_page_sets_a_sealed_lax_httponly_cookie(
    portal: Portal,
) -> None:
    client, _ = portal
    page = await client.get("/", headers=HTML)
    assert page.status_code == 200
    assert "初めての方は仮申請から" in page.text and "本登録完了後は、ここからログイン" in page.text
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("noryoku_portal=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    api = await client.get("/")  # no HTML wanted: the service info every service answers
    assert api.json() == {"service": "portal", "title": "事業者ポータル"}
    assert "set-cookie" not in (await client.get("/healthz")).headers


async def test_a_post_without_the_sessions_token_or_from_elsewhere_is_refused(
    portal: Portal,
) -> None:
    client, services = portal
    services.routes[("POST", "/registrations")] = reply(201, {})
    token = csrf_of(await client.get("/register", headers=HTML))
    for data, headers in (
        ({"login_id": "kensetsu2026"}, HTML),
        ({"csrf_token": token + "x", "login_id": "kensetsu2026"}, HTML),
        ({"csrf_token": token}, {**HTML, "Origin": "https://evil.example"}),
    ):
        refused = await client.post("/register", data=data, headers=headers)
        assert refused.status_code == 400
        assert "送信を受け付けられませんでした" in refused.text
    assert services.sent == []  # nothing reached identity
    fresh = httpx.AsyncClient(transport=client._transport, base_url="http://portal.test")
    async with fresh:  # another browser's token does not work with this one's cookie
        other = csrf_of(await fresh.get("/register", headers=HTML))
    assert other != token
    assert (
        await client.post("/register", data={"csrf_token": other}, headers=HTML)
    ).status_code == 400


async def test_identitys_field_errors_appear_next_to_the_fields_with_the_values_kept(
    portal: Portal,
) -> None:
    client, services = portal
    services.routes[("POST", "/registrations")] = reply(
        422,
        {
            "code": "validation_error",
            "message": "入力内容に誤りがあります。",
            "errors": [
                {
                    "field": "login_id",
                    "message": "ログインIDは半角英数字8〜16文字で入力してください",
                }
            ],
        },
    )
    token = csrf_of(await client.get("/register", headers=HTML))
    page = await client.post(
        "/register",
        data={"csrf_token": token, "login_id": "短い", "employer_name": "株式会社髙﨑建設"},
        headers={**HTML, "X-Forwarded-For": "198.51.100.1"},
    )
    assert page.status_code == 422
    assert re.search(
        r'id="f-login_id-error">.*ログインIDは半角英数字8〜16文字で入力してください', page.text
    )
    assert 'value="株式会社髙﨑建設"' in page.text and 'value="短い"' in page.text
    assert "Traceback" not in page.text
    _, url, _, body = services.sent[0]
    assert url == "http://127.0.0.1:8001/registrations"
    assert json.loads(body or b"")["employer_name"] == "株式会社髙﨑建設"


async def test_an_unreachable_service_is_a_japanese_503_page(
    portal: Portal,
) -> None:
    client, _ = portal
    token = csrf_of(await client.get("/register", headers=HTML))
    page = await client.post("/register", data={"csrf_token": token}, headers=HTML)
    assert page.status_code == 503
    assert "利用者管理サービスに接続できない" in page.text
    assert page.headers["retry-after"] == "30"
    assert "Traceback" not in page.text


async def test_login_keeps_identitys_session_sealed_and_pages_need_the_right_role(
    portal: Portal,
) -> None:
    client, services = portal
    assert (await client.get("/menu", headers=HTML)).headers["location"] == "/login?next=/menu"
    await login(client, services)
    assert "identity-sid" not in str(client.cookies.get("noryoku_portal"))
    services.routes[("GET", "/applications")] = reply(
        200, [{"application_id": "AP-20261129-ABC123", "line_count": 2, "created_at": None}]
    )
    services.routes[("GET", "/consents")] = reply(200, [])
    menu = await client.get("/menu", headers=HTML)
    assert menu.status_code == 200
    assert "未申請の代行申請があります" in menu.text and "AP-20261129-ABC123" in menu.text
    assert "個人情報利用申請が完了しないと代行申請に進めません。" in menu.text
    assert menu.headers["cache-control"] == "no-store"
    call = next(s for s in services.sent if s[1].endswith("/applications?status=draft"))
    assert call[2]["Authorization"] == "Bearer token-1"
    ops = await client.get("/ops", headers=HTML)
    assert ops.status_code == 403 and "権限" in ops.text
    missing = await client.get("/no-such-page", headers=HTML)
    assert missing.status_code == 404 and "ページが見つかりません" in missing.text


async def test_logout_revokes_identitys_session_and_forgets_the_login(
    portal: Portal,
) -> None:
    client, services = portal
    await login(client, services)
    services.routes[("DELETE", "/sessions/current")] = reply(204)
    services.routes[("GET", "/consents")] = reply(200, [])
    services.routes[("GET", "/applications")] = reply(200, [])
    token = csrf_of(await client.get("/menu", headers=HTML))
    out = await client.post("/logout", data={"csrf_token": token}, headers=HTML)
    assert out.status_code == 303 and out.headers["location"] == "/"
    revoke = next(s for s in services.sent if s[0] == "DELETE")
    assert revoke[2]["Cookie"] == "noryoku_session=identity-sid"
    assert (await client.get("/menu", headers=HTML)).status_code == 303
    assert "ログアウトしました。" in (await client.get("/", headers=HTML)).text


async def test_an_expired_identity_session_sends_the_user_to_login(
    portal: Portal,
) -> None:
    client, services = portal
    await login(client, services)
    services.routes[("GET", "/consents")] = reply(401, {"code": "unauthenticated"})
    services.routes[("POST", "/sessions/token")] = reply(401, {"code": "session_invalid"})
    services.routes[("GET", "/employers/me")] = reply(200, {})
    page = await client.get("/consents", headers=HTML)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/consents"
    login_page = await client.get("/login?next=/consents", headers=HTML)
    assert "ログインの有効期限が切れました" in login_page.text


async def test_the_signed_form_goes_to_consent_as_raw_bytes_and_a_huge_one_does_not(
    portal: Portal,
) -> None:
    client, services = portal
    await login(client, services)
    services.routes[("GET", "/applications")] = reply(200, [])
    services.routes[("GET", "/consents")] = reply(200, [])
    consent_id = "10000000000001-99000000000001"
    path = f"/consents/{consent_id}/signed-form"
    services.routes[("PUT", path)] = reply(
        200, {"consent_id": consent_id, "worker_name": "髙橋 健太", "status": "approved"}
    )
    token = csrf_of(await client.get("/menu", headers=HTML))
    scan = b"%PDF-1.7 signed form"
    sent = await client.post(
        path,
        data={"csrf_token": token},
        files={"signed_form": ("同意書 髙橋.pdf", scan, "application/pdf")},
        headers=HTML,
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/consents#consent-{consent_id}"
    _, url, headers, body = next(s for s in services.sent if s[0] == "PUT")
    assert url.endswith(path) and body == scan
    assert headers["X-File-Name"] == "%E5%90%8C%E6%84%8F%E6%9B%B8%20%E9%AB%99%E6%A9%8B.pdf"
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Authorization"] == "Bearer token-1"
    menu = await client.get("/menu", headers=HTML)
    assert (
        "髙橋 健太さんの署名済み同意書を添付しました。個人情報利用申請が承認されました。"
        in menu.text
    )
    puts = len([s for s in services.sent if s[0] == "PUT"])
    huge = await client.post(
        path,
        data={"csrf_token": token},
        files={"signed_form": ("big.pdf", b"%PDF-" + b"x" * 5000, "application/pdf")},
        headers=HTML,
    )
    assert huge.status_code == 303
    assert len([s for s in services.sent if s[0] == "PUT"]) == puts  # never forwarded
    assert "ファイルが大きすぎます" in (await client.get("/menu", headers=HTML)).text


LETTER = {
    "topic": "noryoku.judgement.completed.dlq",
    "partition": 0,
    "offset": 3,
    "original_topic": "noryoku.judgement.completed",
    "ce_type": "jp.ccus.noryoku.JudgementCompleted.v2",
    "ce_id": "ev-1",
    "correlation_id": "corr-42",
    "consumer_group": "document",
    "failed_at": "2026-12-04T01:02:03+00:00",
    "error": "RuntimeError: template missing",
    "replays": [],
}


async def test_an_operator_sees_dead_letters_of_every_service_and_replays_one_with_a_reason(
    portal: Portal,
) -> None:
    client, services = portal
    await login(client, services, role="operator")
    port = "8006"  # the document service (portal settings' default URL)

    def listing(
        method: str, url: str, headers: httpx.Headers, body: bytes | None
    ) -> httpx.Response:
        if ":8005" in url:
            return reply(503, {"code": "kafka_unavailable", "message": "Kafka に接続できません。"})
        return reply(200, [LETTER] if f":{port}" in url else [])

    detail = {
        **LETTER,
        "key": "L-1",
        "headers": {"ce_id": "ev-1"},
        "payload": {"worker_name": "***"},
    }
    path = "/dead-letters/noryoku.judgement.completed.dlq/0/3"
    services.routes[("GET", "/dead-letters")] = listing
    services.routes[("GET", path)] = reply(200, detail)
    page = await client.get("/ops/dead-letters", headers=HTML)
    assert page.status_code == 200
    assert "帳票" in page.text and "corr-42" in page.text and "template missing" in page.text
    assert "次のサービスから一覧を取得できませんでした：通知" in page.text
    link = "/ops/dead-letters/document/noryoku.judgement.completed.dlq/0/3"
    assert f'href="{link}"' in page.text

    shown = await client.get(link, headers=HTML)
    assert (
        shown.status_code == 200
        and "***" in shown.text
        and "まだ再投入されていません" in shown.text
    )
    token = csrf_of(shown)
    blank = await client.post(
        link + "/replay", data={"csrf_token": token, "reason": " "}, headers=HTML
    )
    assert blank.status_code == 422 and "再投入の理由を入力してください。" in blank.text
    assert not [s for s in services.sent if s[0] == "POST" and s[1].endswith("/replay")]
    no_token = await client.post(link + "/replay", data={"reason": "直した"}, headers=HTML)
    assert no_token.status_code == 400

    services.routes[("POST", path + "/replay")] = reply(
        202,
        {
            "audit_id": "a-1",
            "original_topic": "noryoku.judgement.completed",
            "ce_id": "ev-1",
            "correlation_id": "corr-42",
            "operator": "ops01",
            "replayed_at": "2026-12-04T02:00:00+00:00",
        },
    )
    done = await client.post(
        link + "/replay", data={"csrf_token": token, "reason": "テンプレートを修正"}, headers=HTML
    )
    assert done.status_code == 303 and done.headers["location"] == "/ops/dead-letters"
    sent = next(s for s in services.sent if s[0] == "POST" and s[1].endswith("/replay"))
    assert f":{port}/" in sent[1] and json.loads(sent[3] or b"{}") == {
        "reason": "テンプレートを修正"
    }
    assert sent[2]["Authorization"] == "Bearer token-1"
    assert (
        "再投入しました（相関ID corr-42）"
        in (await client.get("/ops/dead-letters", headers=HTML)).text
    )
    assert (await client.get("/ops/dead-letters/portal/x.dlq/0/0", headers=HTML)).status_code == 404


async def test_dead_letters_are_for_operators_only(portal: Portal) -> None:
    client, services = portal
    await login(client, services, role="evaluator")
    for page in ("/ops/dead-letters", "/ops/dead-letters/document/a.dlq/0/1"):
        refused = await client.get(page, headers=HTML)
        assert refused.status_code == 403 and "権限" in refused.text


APPLICATION = "AP-20261129-ABC123"
REJUDGED, FIRST = f"{APPLICATION}-01", f"{APPLICATION}-02"


def text_of(html: str) -> str:
    """HTML without tags, white space folded (what a reader sees, roughly)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def judgement_line(line_id: str, sequence: int, level: int, name: str) -> dict[str, Any]:
    return {
        "line_id": line_id,
        "judgement_id": f"J-{line_id}" + (f"-{sequence}" if sequence > 1 else ""),
        "application_id": APPLICATION,
        "employer_id": "10000000000001",
        "worker_id": "99000000000003",
        "worker_name": name,
        "trade": "とび",
        "requested_level": level,
        "sequence": sequence,
        "status": "completed",
        "status_ja": "判定完了",
        "decision": "approved",
        "eligible_level": level,
        "warnings": [],
        "messages": [],
    }


HISTORY = [
    {
        "sequence": 1,
        "judgement_id": f"J-{REJUDGED}",
        "decision": "approved",
        "eligible_level": 2,
        "criteria_version": "2026-04",
        "judged_at": "2026-12-01T01:00:00+00:00",
        "rejudgement_run_id": None,
        "rejudgement_reason": None,
        "requested_by": None,
        "supersedes": None,
    },
    {
        "sequence": 2,
        "judgement_id": f"J-{REJUDGED}-2",
        "decision": "approved",
        "eligible_level": 3,
        "criteria_version": "2026-04-r1",
        "judged_at": "2026-12-09T16:30:00+00:00",
        "rejudgement_run_id": "RJ-1",
        "rejudgement_reason": "判定基準（とび）の訂正",
        "requested_by": "ops01",
        "supersedes": f"J-{REJUDGED}",
    },
]


def result_line(line_id: str, sequence: int, level: int, name: str) -> dict[str, Any]:
    """A line as the application service's ``GET /results`` lists it."""
    found = judgement_line(line_id, sequence, level, name)
    return {
        k: v
        for k, v in found.items()
        if k not in ("judgement_id", "employer_id", "warnings", "messages")
    }


def notice_of(line_id: str, sequence: int, superseded_by: str | None) -> dict[str, Any]:
    suffix = f"-{sequence}" if sequence > 1 else ""
    return {
        "notice_id": f"RN-{line_id}{suffix}",
        "application_id": APPLICATION,
        "line_id": line_id,
        "judgement_id": f"J-{line_id}{suffix}",
        "sequence": sequence,
        "superseded_by": superseded_by,
        "pdf": f"/notices/RN-{line_id}{suffix}/pdf",
    }


async def test_results_show_the_current_judgement_its_history_and_the_current_notice(
    portal: Portal,
) -> None:
    client, services = portal
    await login(client, services)
    # the application service's result lines: the current result and the notices issued
    rejudged_line = {
        **result_line(REJUDGED, 2, 3, "髙﨑 誠"),
        "notices": [notice_of(REJUDGED, 1, f"RN-{REJUDGED}-2"), notice_of(REJUDGED, 2, None)],
    }
    first_line = {**result_line(FIRST, 1, 2, "髙橋 健太"), "notices": [notice_of(FIRST, 1, None)]}
    services.routes[("GET", "/results")] = reply(200, [rejudged_line, first_line])
    services.routes[("GET", f"/judgements/{REJUDGED}")] = reply(
        200,
        {
            **judgement_line(REJUDGED, 2, 3, "髙﨑 誠"),
            "detail": {"judged_at": HISTORY[1]["judged_at"], "result": {}},
            "history": HISTORY,
        },
    )
    services.routes[("GET", "/workers/99000000000003/ccus")] = reply(404, {"code": "not_found"})
    base = f"/results/{APPLICATION}"

    listed = await client.get(base, headers=HTML)
    assert listed.status_code == 200, listed.text
    rows = re.findall(r"<tr[ >].*?</tr>", listed.text, re.S)
    rejudged = next(r for r in rows if "髙﨑 誠" in r)
    first = next(r for r in rows if "髙橋 健太" in r)
    assert "再判定により更新" in rejudged and "判定レベル：レベル3（シルバー）" in rejudged
    assert "再判定により更新" not in first
    assert f'href="{base}/notices/RN-{REJUDGED}-2" download>結果通知書出力' in rejudged
    assert f'RN-{REJUDGED}"' not in listed.text  # the superseded notice is never the button
    assert f'href="{base}/notices/RN-{FIRST}" download>結果通知書出力' in first

    detail = await client.get(f"{base}?detail={REJUDGED}", headers=HTML)
    assert detail.status_code == 200, detail.text
    shown = text_of(detail.text)
    assert "判定レベル：レベル3（シルバー）再判定により更新" in shown
    button = f'href="{base}/notices/RN-{REJUDGED}-2" download>結果通知書出力（PDF）'
    assert button in detail.text
    assert "更新履歴" in shown
    wrapped = r'<div class="table-wrap"[^>]*>\s*<table[^>]*history.*?</table>'  # scrolls on a phone
    [history] = re.findall(wrapped, detail.text, re.S)
    row = text_of(history)
    assert "2026年12月10日" in row  # 16:30 UTC is the next day in Japan
    assert "レベル2 承認 → レベル3 承認" in row and "判定基準（とび）の訂正" in row
    assert f"RN-{REJUDGED}（更新前） → RN-{REJUDGED}-2" in row
    assert f'href="{base}/notices/RN-{REJUDGED}" download>' in history  # kept for the record
    assert f'href="{base}/notices/RN-{REJUDGED}-2" download>' in history
    assert f"RN-{REJUDGED}-2（更新前）" not in row

    assert not [
        url for _, url, _, _ in services.sent if "/notices?" in url or url.endswith("/notices")
    ]

    # just re-judged: the new notice is not made yet, the old one not superseded yet (the
    # document service is asked while a judged line's notice is missing from the list)
    services.routes[("GET", "/results")] = reply(
        200,
        [{**rejudged_line, "notices": [notice_of(REJUDGED, 1, None)]}, first_line],
    )
    services.routes[("GET", "/notices")] = reply(
        200, [notice_of(REJUDGED, 1, None), notice_of(FIRST, 1, None)]
    )
    pending = await client.get(f"{base}?detail={REJUDGED}", headers=HTML)
    assert "再判定後の結果通知書を作成中です" in pending.text
    assert "結果通知書出力" not in next(
        r for r in re.findall(r"<tr[ >].*?</tr>", pending.text, re.S) if "髙﨑 誠" in r
    )
    assert f'RN-{REJUDGED}" download>結果通知書出力' not in pending.text


async def test_a_submitted_applications_lines_show_the_current_result_and_its_history(
    portal: Portal,
) -> None:
    client, services = portal
    await login(client, services)
    line = {
        "line_id": REJUDGED,
        "worker_id": "99000000000003",
        "worker_name": "髙﨑 誠",
        "worker_name_kana": "タカサキ マコト",
        "trade": "とび",
        "requested_level": 3,
        "career_period": None,
        "foreman": {"years": 10, "months": 0},
        "leader": None,
        "delivery_address_ja": "東京都千代田区",
        "warnings": [],
        "preview": None,
        "status": "completed",
        "status_ja": "判定完了（承認）",
        "decision": "approved",
        "decision_ja": "承認",
        "eligible_level": 3,
        "judgement_id": f"J-{REJUDGED}-2",
        "judged_at": HISTORY[1]["judged_at"],
        "judgement_history": [
            {k: v for k, v in h.items() if k not in ("rejudgement_run_id", "requested_by")}
            for h in HISTORY
        ],
    }
    once = {**line, "line_id": FIRST, "worker_name": "髙橋 健太", "judgement_history": [HISTORY[0]]}
    services.routes[("GET", f"/applications/{APPLICATION}")] = reply(
        200,
        {
            "application_id": APPLICATION,
            "status": "completed",
            "status_ja": "判定完了",
            "created_at": "2026-11-29T01:00:00+00:00",
            "submitted_at": "2026-11-29T02:00:00+00:00",
            "fee_total_yen": 8000,
            "editable": False,
            "withdrawable": False,
            "lines": [line, once],
        },
    )
    page = await client.get(f"/applications/{APPLICATION}", headers=HTML)
    assert page.status_code == 200, page.text
    cards = dict(
        zip(
            re.findall(r'<article class="line-card" id="line-([^"]+)"', page.text),
            re.findall(r"<article.*?</article>", page.text, re.S),
            strict=True,
        )
    )
    rejudged = text_of(cards[REJUDGED])
    assert "判定結果承認（レベル3（シルバー））再判定により更新" in rejudged
    assert "更新履歴" in rejudged and "2026年12月10日" in rejudged
    assert "レベル2 承認 → レベル3 承認" in rejudged and "判定基準（とび）の訂正" in rejudged
    assert f"/results/{APPLICATION}?detail={REJUDGED}#detail" in cards[REJUDGED]
    assert "更新履歴" not in cards[FIRST] and "再判定により更新" not in cards[FIRST]
    assert "table-wrap" in cards[REJUDGED]  # scrolls on a phone instead of the page


async def test_the_confirmation_shows_the_fee_total_the_application_service_computed(
    portal: Portal,
) -> None:
    """The total is the application service's ``fee_total_yen`` (its rule), never the
    portal's own product of today's fee and the lines; without it no total is shown."""
    client, services = portal
    await login(client, services)
    services.routes[("GET", "/options")] = reply(
        200, {"fee_today": {"fee_yen": 4000, "label_ja": "本日申請の手数料"}}
    )
    draft = {
        "application_id": APPLICATION,
        "status": "draft",
        "status_ja": "下書き",
        "created_at": "2026-11-29T01:00:00+00:00",
        "editable": True,
        "lines": [
            {"line_id": f"{APPLICATION}-01", "worker_id": "99000000000001", "worker_name": "甲"},
            {"line_id": f"{APPLICATION}-02", "worker_id": "99000000000002", "worker_name": "乙"},
        ],
    }
    services.routes[("GET", f"/applications/{APPLICATION}")] = reply(
        200, {**draft, "fee_total_yen": 7000}
    )
    page = await client.get(f"/applications/{APPLICATION}/confirm", headers=HTML)
    assert page.status_code == 200, page.text
    assert "4,000円 × 2名 ＝ <strong>7,000円</strong>" in page.text
    assert "8,000円" not in page.text

    services.routes[("GET", f"/applications/{APPLICATION}")] = reply(200, draft)
    page = await client.get(f"/applications/{APPLICATION}/confirm", headers=HTML)
    assert page.status_code == 200, page.text
    assert "4,000円 × 2名" in page.text and "＝" not in text_of(page.text).split("手数料")[1][:40]


async def test_an_unknown_address_is_a_japanese_404_page_or_json(portal: Portal) -> None:
    client, _ = portal
    page = await client.get("/no-such-page", headers=HTML)
    assert page.status_code == 404 and "ページが見つかりません" in page.text
    answer = await client.get("/no-such-page")
    assert answer.status_code == 404
    assert answer.json() == {
        "code": "http_404",
        "message": "お探しのページは見つかりませんでした。",
    }
