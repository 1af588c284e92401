"""Fixes from the browser walk at 375 px (issue 25): the upload error names its worker row;
the consent list's names do not wrap per character; the 職長・班長 levels of the line form
come from ``/options`` (the judgement master's rule), not from fixed text."""

from __future__ import annotations

from .conftest import HTML, Portal, csrf_of, login, reply

CONSENT = "10000000000001-99000000000001"
ROW = {
    "consent_id": CONSENT,
    "worker_id": "99000000000001",
    "worker_name": "髙橋 健太",
    "worker_name_kana": "タカハシ ケンタ",
    "status": "pending",
    "status_ja": "申請中",
    "warnings": [],
}
APPLICATION = "AP-20261129-ABC123"


async def test_a_refused_upload_names_the_worker_row_it_belongs_to(portal: Portal) -> None:
    client, services = portal
    await login(client, services)
    services.routes[("GET", "/employers/me")] = reply(200, {"employer_name": "株式会社髙﨑建設"})
    services.routes[("GET", "/consents")] = reply(200, [ROW])
    services.routes[("GET", f"/consents/{CONSENT}")] = reply(200, ROW)
    services.routes[("PUT", f"/consents/{CONSENT}/signed-form")] = reply(
        422, {"code": "invalid", "message": "PDF・JPEG・PNGのファイルを添付してください"}
    )
    page = await client.get("/consents", headers=HTML)
    assert '<td class="name-cell"><span class="name">髙橋 健太</span>' in page.text
    assert "髙橋 健太さんの署名後添付（PDF・JPEG・PNG、10MBまで）" in page.text  # the label
    assert "<li>技能者本人が署名</li>" in page.text and "<li>署名後添付</li>" in page.text
    sent = await client.post(
        f"/consents/{CONSENT}/signed-form",
        data={"csrf_token": csrf_of(page)},
        files={"signed_form": ("a.txt", b"text", "text/plain")},
        headers=HTML,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/consents?upload_error={CONSENT}#consent-{CONSENT}"
    after = await client.get(sent.headers["location"].split("#")[0], headers=HTML)
    assert (
        "髙橋 健太さん（技能者ID 99000000000001）の署名後添付：署名済み同意書を添付できません"
        "でした：PDF・JPEG・PNGのファイルを添付してください" in after.text
    )
    assert f'<tr id="consent-{CONSENT}" class="is-alert">' in after.text
    assert f'aria-describedby="upload-{CONSENT}-error"' in after.text


async def test_the_line_form_names_the_levels_the_master_asks_management_years_for(
    portal: Portal,
) -> None:
    client, services = portal
    await login(client, services)
    services.routes[("GET", f"/applications/{APPLICATION}")] = reply(
        200,
        {"application_id": APPLICATION, "status": "draft", "editable": True, "lines": []},
    )
    services.routes[("GET", "/workers")] = reply(200, [])
    services.routes[("GET", "/options")] = reply(
        200, {"levels": [2, 3, 4], "management_required_levels": [4], "trades": ["鉄筋"]}
    )
    page = await client.get(f"/applications/{APPLICATION}/lines/new", headers=HTML)
    assert page.status_code == 200, page.text
    assert "職長・班長としての就業年数（レベル4の申請時）" in page.text
    assert "レベル2～3の申請では入力しません" in page.text
    assert 'data-foreman="4"' in page.text and "レベル3～4" not in page.text


async def test_the_line_form_takes_worker_trade_and_level_from_the_outlooks_button(
    portal: Portal,
) -> None:
    client, services = portal
    await login(client, services)
    services.routes[("GET", f"/applications/{APPLICATION}")] = reply(
        200,
        {"application_id": APPLICATION, "status": "draft", "editable": True, "lines": []},
    )
    worker = {"worker_id": "99000000000001", "worker_name": "髙橋 健太", "worker_name_kana": "タ"}
    services.routes[("GET", "/workers")] = reply(200, [worker])
    services.routes[("GET", "/workers/99000000000001/career-prefill")] = reply(
        200, {"career_period": {"start": "2016-04-01", "end": "2026-11-20"}}
    )
    services.routes[("GET", "/options")] = reply(
        200, {"levels": [2, 3, 4], "management_required_levels": [3, 4], "trades": ["鉄筋"]}
    )
    page = await client.get(
        f"/applications/{APPLICATION}/lines/new",
        params={"worker_id": "99000000000001", "trade": "鉄筋", "level": "2"},
        headers=HTML,
    )
    assert page.status_code == 200, page.text
    assert '<option value="99000000000001" selected>' in page.text
    assert '<option value="鉄筋" selected>' in page.text
    assert 'name="requested_level" value="2" checked' in page.text
    assert 'value="2016-04-01"' in page.text  # the CCUS period prefilled
