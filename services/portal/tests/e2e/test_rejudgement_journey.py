"""再判定 across every service: a corrected criteria table reaches the employer everywhere.

On the portal's process stack (conftest.py): an employer applies for 髙橋 健太 (鉄筋, level 2)
through the services' APIs and is judged level 2 with a 結果通知書. The worker consents
again afterwards (a consent granted after the first judgement). The 鉄筋 table is then
corrected (a test fixture that asks 4,000 days for level 2; the judgement service restarts
with it, as a deployment of the corrected master would) and the operator re-judges the line
with ``python -m judgement rejudge``. Then, as the issue asks:

* ``GET /judgements/{line}`` shows the new level (1, 不承認) and the history of both;
* a new notice ``RN-<line>-2`` exists, its PDF reads (pdftotext) the new result, and the
  old notice verifies as superseded, naming the new one;
* the employer gets exactly one 「レベル判定結果が更新されました」 mail;
* the application detail shows the new result with its history;
* the portal's 結果確認 (a real browser) shows the new level, 更新履歴 and downloads the
  current notice;
* the consent granted after the first judgement is untouched.

The judgement service is restarted without the fixture at the end (the stack is shared).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, expect

from .test_portal_journey import ARTIFACTS, activation_token, browser, log_in, shot

__all__ = ["browser"]  # the module-scoped browser fixture of the journey, shared

Stack = Any
T = TypeVar("T")
PASSWORD = "Saihantei-2026"
WORKER = {
    "worker_id": "99000000000001",
    "name": "髙橋 健太",
    "name_kana": "タカハシ ケンタ",
    "birth_date": "1994-07-15",
}
SIGNED_FORM = (  # a one-page PDF: signed forms are parsed and written anew (docs/security.md)
    b"%PDF-1.4\n% signed consent form (re-judgement journey)\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
CORRECTED_TEKKIN = """\
tables:
  - trade: 鉄筋
    effective_from: 2026-01-01
    source: e2e fixture — the 鉄筋 table corrected (level 2 asks 4,000 days)
    levels:
      2:
        days: 4000
        qualifications: {all_of: [玉掛け技能講習]}
      3:
        days: 5000
        foreman: {scope: 職長又は班長, days: 645}
        qualifications: {all_of: [1級鉄筋施工技能士]}
      4:
        days: 6000
        foreman: {scope: 職長, days: 645}
        qualifications:
          any_of:
            - 登録鉄筋基幹技能者
            - 優秀施工者国土交通大臣顕彰
            - 安全優良職長厚生労働大臣顕彰
            - 卓越した技能者
"""
REASON = "鉄筋の判定基準（レベル2の就業日数）の訂正"
UPDATE_SUBJECT = "レベル判定結果が更新されました"


def until(what: str, probe: Callable[[], T | None], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.3)


def ok(response: httpx.Response, *codes: int) -> Any:
    assert response.status_code in (codes or (200,)), (response.status_code, response.text)
    return response.json() if response.content else None


def restart_judgement(stack: Stack, extra: dict[str, str]) -> None:
    """Stop the stack's judgement process and start it again with ``extra`` settings."""
    proc = stack.procs["judgement"]
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    env = {k: v for k, v in stack.env.items() if k != "JUDGEMENT_CRITERIA_EXTRA"}
    with (stack.logs / "judgement.log").open("ab") as out:
        stack.procs["judgement"] = subprocess.Popen(
            [sys.executable, "-m", "judgement", "serve"],
            env={**env, **extra},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    with httpx.Client(timeout=3) as client:

        def ready() -> bool:
            try:
                return client.get(f"{stack.url('judgement')}/readyz").status_code == 200
            except httpx.TransportError:
                return False

        until("judgement ready again", ready, timeout=90)


def mails_to(stack: Stack, address: str, subject: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=stack.sink, timeout=30) as sink:
        return [
            m
            for m in sink.get("/api/messages").json()
            if m["to"] == address and subject in m["subject"]
        ]


@pytest.fixture
def corrected_master(stack: Stack, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "tekkin-corrected.yaml"
    path.write_text(CORRECTED_TEKKIN, encoding="utf-8")
    try:
        yield path
    finally:
        restart_judgement(stack, {})


@pytest.mark.timeout(400)
def test_a_corrected_table_reaches_every_screen_notice_and_mail(
    stack: Stack, browser: Browser, corrected_master: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    login_id = f"saihan{run}"
    address = f"rejudge.{stack.run}.{run}@example.jp"
    employer_id = f"2{int(time.time() * 1000) % 10**13:013d}"
    with httpx.Client(timeout=30) as http:
        identity, consent, application = (
            stack.url("identity"),
            stack.url("consent"),
            stack.url("application"),
        )
        judgement, document = stack.url("judgement"), stack.url("document")

        # --- an employer with an account ---------------------------------------------------
        ok(
            http.post(
                f"{identity}/registrations",
                json={
                    "login_id": login_id,
                    "email": address,
                    "employer_id": employer_id,
                    "employer_name": "株式会社再判定建設",
                    "address": "東京都千代田区丸の内1-1",
                    "representative_name": "髙﨑 誠一",
                    "phone_number": "03-1234-5678",
                },
            ),
            201,
        )
        ok(
            http.post(
                f"{identity}/activations",
                json={
                    "token": activation_token(stack.sink, address),
                    "new_password": PASSWORD,
                    "new_password_confirmation": PASSWORD,
                },
            )
        )
        token = ok(
            http.post(f"{identity}/sessions", json={"login_id": login_id, "password": PASSWORD}),
            201,
        )["access_token"]
        auth = {"Authorization": f"Bearer {token}"}

        def consent_for_worker() -> str:
            filed = ok(
                http.post(
                    f"{consent}/consent-applications",
                    json={
                        "employer": {
                            "employer_name": "株式会社再判定建設",
                            "representative_name": "髙﨑 誠一",
                            "postal_code": "100-0005",
                            "address": "東京都千代田区丸の内1-1",
                            "phone_number": "03-1234-5678",
                        },
                        "workers": [WORKER],
                        "consent_items": dict.fromkeys(
                            ("view_ccus_data", "proxy_application", "card_issuance", "fee"),
                            True,
                        ),
                    },
                    headers=auth,
                ),
                201,
            )
            consent_id = str(filed["consents"][0]["consent_id"])
            ok(
                http.put(
                    f"{consent}/consents/{consent_id}/signed-form",
                    content=SIGNED_FORM,
                    headers={**auth, "X-File-Name": "signed.pdf"},
                ),
                200,
                201,
            )
            return consent_id

        def consent_status(consent_id: str) -> str:
            return str(ok(http.get(f"{consent}/consents/{consent_id}", headers=auth))["status"])

        first_consent = consent_for_worker()
        until(
            "the worker selectable",
            lambda: any(
                w["worker_id"] == WORKER["worker_id"]
                for w in ok(http.get(f"{application}/workers", headers=auth))
            ),
        )

        # --- 代行申請: 鉄筋 level 2, judged level 2 ------------------------------------------
        draft = ok(
            http.post(
                f"{application}/applications",
                json={
                    "delivery_address": {
                        "postal_code": "100-0005",
                        "prefecture": "東京都",
                        "city_address": "千代田区丸の内1-1",
                        "addressee": "株式会社再判定建設 御中",
                        "phone": "03-1234-5678",
                    },
                    "declarations": {"career_certified": True, "card_issuance_consented": True},
                },
                headers=auth,
            ),
            201,
        )
        application_id = draft["application_id"]
        ok(
            http.post(
                f"{application}/applications/{application_id}/lines",
                json={"worker_id": WORKER["worker_id"], "trade": "鉄筋", "requested_level": 2},
                headers=auth,
            ),
            201,
        )
        ok(
            http.post(
                f"{application}/applications/{application_id}/submit",
                headers={**auth, "Idempotency-Key": f"rejudge-{run}"},
            ),
            200,
            201,
        )
        detail = ok(http.get(f"{application}/applications/{application_id}", headers=auth))
        line_id = detail["lines"][0]["line_id"]

        def judged() -> dict[str, Any] | None:
            found = http.get(f"{judgement}/judgements/{line_id}", headers=auth)
            body = found.json() if found.status_code == 200 else None
            return body if body and body["status"] == "completed" else None

        first = until("the first judgement", judged)
        assert (first["decision"], first["eligible_level"], first["sequence"]) == (
            "approved",
            2,
            1,
        )
        first_number = f"RN-{line_id}"

        def notices() -> list[dict[str, Any]]:
            return list(
                ok(
                    http.get(
                        f"{document}/notices",
                        params={"application_id": application_id},
                        headers=auth,
                    )
                )
            )

        until("the first notice", lambda: [n for n in notices() if n["notice_id"] == first_number])
        # the first judgement ended the consent; the worker consents again after it
        until("the consent ended", lambda: consent_status(first_consent) == "ended")
        second_consent = consent_for_worker()
        until("the new consent granted", lambda: consent_status(second_consent) == "approved")
        first_verify = ok(
            http.post(
                f"{document}/verify",
                content=_pdf(http, document, first_number, auth),
                headers={"Content-Type": "application/pdf"},
            )
        )

        # --- the table is corrected; the operator re-judges -------------------------------
        restart_judgement(stack, {"JUDGEMENT_CRITERIA_EXTRA": json.dumps([str(corrected_master)])})
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "judgement",
                "rejudge",
                "--trade",
                "鉄筋",
                "--line",
                line_id,
                "--reason",
                REASON,
                "--by",
                "e2e-operator",
            ],
            env={**stack.env, "JUDGEMENT_CRITERIA_EXTRA": json.dumps([str(corrected_master)])},
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")

        # the judgement service: the new level and the history
        def rejudged() -> dict[str, Any] | None:
            body = ok(http.get(f"{judgement}/judgements/{line_id}", headers=auth))
            return body if body["sequence"] == 2 else None

        current = until("the re-judgement", rejudged)
        assert (current["decision"], current["eligible_level"]) == ("rejected", 1)
        assert [h["sequence"] for h in current["history"]] == [1, 2]
        assert current["history"][1]["rejudgement_reason"] == REASON
        assert current["history"][1]["criteria_version"] == "鉄筋@2026-01-01"
        listed = ok(http.get(f"{judgement}/judgements", headers=auth))
        assert [(j["line_id"], j["sequence"]) for j in listed] == [(line_id, 2)]

        # the document service: a new notice, the old one superseded
        new_number = f"RN-{line_id}-2"
        until("the new notice", lambda: [n for n in notices() if n["notice_id"] == new_number])
        by_number = {n["notice_id"]: n for n in notices()}
        assert by_number[first_number]["superseded_by"] == new_number
        assert by_number[new_number]["superseded_by"] is None
        new_pdf = _pdf(http, document, new_number, auth)
        text = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=new_pdf, capture_output=True, check=True
        ).stdout.decode()
        assert "髙橋" in text and new_number in text
        assert "不承認" in text, text
        assert _pdf(http, document, first_number, auth)  # kept for the record
        old_verify = ok(
            http.post(
                f"{document}/verify",
                content=_pdf(http, document, first_number, auth),
                headers={"Content-Type": "application/pdf"},
            )
        )
        assert old_verify != first_verify
        assert "この結果通知書は再判定により更新されています" in str(old_verify)
        assert new_number in str(old_verify)

        # the notification service: exactly one update mail
        until("the update mail", lambda: mails_to(stack, address, UPDATE_SUBJECT), timeout=90)
        time.sleep(3)  # a second one would show up by now
        assert len(mails_to(stack, address, UPDATE_SUBJECT)) == 1

        # the application service follows the current judgement
        def app_line() -> dict[str, Any] | None:
            found = ok(http.get(f"{application}/applications/{application_id}", headers=auth))
            line = found["lines"][0]
            return line if len(line.get("judgement_history") or []) == 2 else None

        line = until("the application follows", app_line)
        assert line["eligible_level"] == 1 and line["decision"] == "rejected"

        # the consent granted after the first judgement is untouched
        assert consent_status(second_consent) == "approved"

    # --- 結果確認 in the browser ------------------------------------------------------------
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ja-JP", accept_downloads=True
    )
    page = context.new_page()
    try:
        log_in(page, stack.portal, login_id, PASSWORD)
        page.goto(f"{stack.portal}/results/{application_id}?detail={line_id}")
        expect(page.get_by_text("更新履歴").first).to_be_visible()
        expect(page.get_by_text(REASON).first).to_be_visible()
        body = page.locator("main").inner_text()
        assert "レベル1" in body and "不承認" in body, body
        shot(page, "rejudge-01-results")
        with page.expect_download() as download:
            page.locator(f"a[href$='/notices/{new_number}']").first.click()
        assert new_number in download.value.suggested_filename
        page.set_viewport_size({"width": 375, "height": 800})
        shot(page, "rejudge-02-results-phone")
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / "rejudge-failure.png"), full_page=True)
        raise
    finally:
        context.close()


def _pdf(http: httpx.Client, document: str, number: str, auth: dict[str, str]) -> bytes:
    response = http.get(f"{document}/notices/{number}/pdf", headers=auth)
    assert response.status_code == 200, (number, response.status_code, response.text)
    return response.content
