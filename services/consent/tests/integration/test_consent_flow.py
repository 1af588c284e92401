"""The consent service end to end in one process: real Kafka, real database (and GridFS).

CCUS snapshots are published first (as the CCUS feed would) to fill the service's read
model; then employers and evaluators use the HTTP API as the portal would.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from consent.config import Settings
from consent.inject import Container, create_app
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    CcusWorkerSnapshot,
    ConsentGranted,
    ConsentRejected,
)
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import (
    Expected,
    eventually,
    expect_events,
    isolated,
    judgement_completed,
    publisher,
    signed_token,
)
from shared_kernel.principal import Principal
from shared_kernel.time import JST

EMPLOYER_A = "10000000000001"
EMPLOYER_B = "10000000000002"
YAMADA = "20000000000001"  # 詳細型
SUZUKI = "20000000000002"  # 簡略型
TANAKA = "20000000000003"  # 詳細型
MB = 1024 * 1024
# a one-page PDF (uploads are parsed and written anew: it must be a real one)
PDF = (
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
PNG = (  # 1×1 grey, as Pillow writes it
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00"
    b"\x00:~\x9bU\x00\x00\x00\nIDATx\x9cch\x00\x00\x00\x82\x00\x81w\xcdr\xb6"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64

EMPLOYER_DETAILS = {
    "employer_name": "株式会社髙橋建設",
    "representative_name": "髙橋 一郎",
    "postal_code": "100-0001",
    "address": "東京都千代田区千代田1-1",
    "phone_number": "03-1234-5678",
}
ALL_ITEMS = {"view_ccus_data": True, "proxy_application": True, "card_issuance": True, "fee": True}


def snapshot(worker_id: str, name: str, kana: str, born: date, *, simple: bool = False) -> Envelope:
    return Envelope(
        CcusWorkerSnapshot(
            worker_id=worker_id,
            taken_at=datetime(2026, 11, 1, tzinfo=UTC),
            registration_type="simple" if simple else "detailed",
            registered_on=date(2020, 4, 1),
            name=name,
            name_kana=kana,
            birth_date=born,
        ),
        source="ccus",
    )


SNAPSHOTS = [
    snapshot(YAMADA, "山田 太郎", "ヤマダ タロウ", date(1980, 4, 1)),
    snapshot(SUZUKI, "鈴木 花子", "スズキ ハナコ", date(1990, 6, 15), simple=True),
    snapshot(TANAKA, "田中 次郎", "タナカ ジロウ", date(1975, 1, 31)),
]


def worker(worker_id: str, name: str, kana: str, born: str) -> dict[str, str]:
    return {"worker_id": worker_id, "name": name, "name_kana": kana, "birth_date": born}


YAMADA_IN = worker(YAMADA, "山田　太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "1980-04-01")  # half-width kana
SUZUKI_IN = worker(SUZUKI, "鈴木 花子", "スズキ ハナコ", "1990-06-15")
TANAKA_IN = worker(TANAKA, "田中 次郎", "タナカ ジロウ", "1975-01-31")


def application(*workers: dict[str, str]) -> dict[str, Any]:
    return {"employer": EMPLOYER_DETAILS, "workers": list(workers), "consent_items": ALL_ITEMS}


def bearer(settings: Settings, principal: Principal) -> dict[str, str]:
    token = signed_token(principal)
    return {"Authorization": f"Bearer {token}"}


class Api:
    """The consent service's HTTP API with a token per role."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://consent"
        )
        self.container: Container = app.state.container
        self.a = bearer(
            settings, Principal(subject="kensetsu01", role="employer", employer_id=EMPLOYER_A)
        )
        self.b = bearer(
            settings, Principal(subject="kensetsu02", role="employer", employer_id=EMPLOYER_B)
        )
        self.evaluator = bearer(settings, Principal(subject="hyoka01", role="evaluator"))
        self.operator = bearer(settings, Principal(subject="unyo01", role="operator"))

    async def upload(
        self, consent_id: str, content: Any, name: str, headers: dict[str, str], ctype: str
    ) -> httpx.Response:
        return await self.client.put(
            f"/consents/{consent_id}/signed-form",
            content=content,
            headers={**headers, "Content-Type": ctype, "X-File-Name": quote(name)},
        )


@asynccontextmanager
async def consent_api(base: ServiceSettings, **overrides: Any) -> AsyncIterator[Api]:
    settings = isolated(
        Settings,
        topic_prefix=base.topic_prefix,
        db_name=base.db_name,
        consumer_backoff_seconds=0.05,
        outbox_poll_seconds=0.2,
        **overrides,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), publisher(settings) as publish:
        api = Api(app, settings)
        for envelope in SNAPSHOTS:
            await publish(envelope)
        workers = api.container.service.workers
        await eventually(lambda: _all_known(workers))
        try:
            yield api
        finally:
            await api.client.aclose()


async def _all_known(workers: Any) -> bool:
    return len(await workers.find({})) == len(SNAPSHOTS)


def a_year_from_today() -> str:
    return (datetime.now(JST).date() + timedelta(days=365)).isoformat()


async def test_file_return_resubmit_approve_and_end(settings: ServiceSettings, db: object) -> None:
    async with consent_api(settings) as api:
        http = api.client
        # refused: unknown id, kana and birth date not as in CCUS; one and the same answer
        # for each row, naming no field (no CCUS oracle: docs/security.md)
        wrong = await http.post(
            "/consent-applications",
            json=application(
                worker("29999999999999", "佐藤 三郎", "サトウ サブロウ", "1970-01-01"),
                {**YAMADA_IN, "name_kana": "ヤマダ ジロウ", "birth_date": "1980-04-02"},
            ),
            headers=api.a,
        )
        assert wrong.status_code == 422
        assert wrong.json() == {
            "code": "validation_error",
            "message": "入力内容に誤りがあります。",
            "errors": [
                {
                    "field": f"workers.{row}",
                    "message": f"技能者 {row + 1}：入力内容がCCUSの登録情報と一致しません"
                    "（技能者ID・氏名カナ・生年月日をご確認ください）",
                }
                for row in (0, 1)
            ],
        }
        assert await api.container.service.consents.find({}) == []  # nothing was filed

        filed = await http.post(
            "/consent-applications", json=application(YAMADA_IN, SUZUKI_IN), headers=api.a
        )
        assert filed.status_code == 201, filed.text
        assert filed.json()["warnings"] == [
            {
                "field": "workers.1.worker_id",
                "code": "simple_registration",
                "message": "簡略型の技能者はレベル判定を受けられません（詳細型での登録が必要です）",
            }
        ]
        yamada_id, suzuki_id = f"{EMPLOYER_A}-{YAMADA}", f"{EMPLOYER_A}-{SUZUKI}"
        listed = (await http.get("/consents", headers=api.a)).json()
        assert [(c["consent_id"], c["status_ja"], c["complete"]) for c in listed] == [
            (yamada_id, "申請中", False),
            (suzuki_id, "申請中", False),
        ]
        assert listed[0]["worker_name_kana"] == "ヤマダ タロウ"  # NFKC-normalised
        assert listed[1]["registration_type"] == "simple"

        # files are checked by content: refused ones leave the consent as it was
        exe = await api.upload(yamada_id, EXE, "同意書.pdf", api.a, "application/pdf")
        assert (exe.status_code, exe.json()["code"]) == (415, "unsupported_file_type")
        empty = await api.upload(yamada_id, b"", "同意書.pdf", api.a, "application/pdf")
        assert (empty.status_code, empty.json()["code"]) == (422, "empty_file")
        big = await api.upload(yamada_id, PDF + bytes(11 * MB), "大.pdf", api.a, "application/pdf")
        assert (big.status_code, big.json()["message"]) == (
            413,
            "ファイルサイズが上限（10MB）を超えています。",
        )

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
            yield PDF
            for _ in range(11):
                yield bytes(MB)

        streamed = await api.upload(yamada_id, chunks(), "大.pdf", api.a, "application/pdf")
        assert streamed.status_code == 413
        png = await api.upload(yamada_id, PNG, "署名済み同意書.pdf", api.a, "application/pdf")
        assert png.status_code == 200, png.text
        assert png.json()["signed_form"]["content_type"] == "image/png"
        assert png.json()["signed_form"]["filename"] == "署名済み同意書.png"
        assert png.json()["complete"] is True

        # the evaluator sees complete applications only, and returns this one with a reason
        queue = (await http.get("/reviews", headers=api.evaluator)).json()
        assert [c["consent_id"] for c in queue] == [yamada_id]
        assert (await http.get("/reviews", headers=api.a)).status_code == 403
        no_reason = await http.post(
            f"/consents/{yamada_id}/return", json={"reason": " "}, headers=api.evaluator
        )
        assert no_reason.status_code == 422
        assert no_reason.json()["errors"] == [
            {"field": "reason", "message": "差戻し理由を入力してください"}
        ]
        reason = "同意書に技能者本人の署名がありません"
        expected = [
            Expected(
                ConsentRejected,
                {
                    "consent_id": yamada_id,
                    "employer_id": EMPLOYER_A,
                    "worker_id": YAMADA,
                    "reason": reason,
                },
            )
        ]
        async with expect_events(settings, expected):
            returned = await http.post(
                f"/consents/{yamada_id}/return", json={"reason": reason}, headers=api.evaluator
            )
            assert returned.status_code == 200, returned.text
        mine = (await http.get(f"/consents/{yamada_id}", headers=api.a)).json()
        assert (mine["status_ja"], mine["return_reason"]) == ("差戻し", reason)
        assert (await http.get("/reviews", headers=api.evaluator)).json() == []

        # re-submission with a new signed form: 申請中 again, then approved
        again = await api.upload(yamada_id, PDF, "同意書（再）.png", api.a, "image/png")
        assert again.json()["status_ja"] == "申請中"
        assert again.json()["signed_form"]["filename"] == "同意書（再）.pdf"
        form_id = again.json()["signed_form"]["file_id"]
        valid_until = a_year_from_today()
        expected = [
            Expected(
                ConsentGranted,
                {
                    "consent_id": yamada_id,
                    "employer_id": EMPLOYER_A,
                    "worker_id": YAMADA,
                    "worker_name": "山田 太郎",
                    "worker_name_kana": "ヤマダ タロウ",
                    "birth_date": "1980-04-01",
                    "scopes": ["view_ccus_data", "proxy_application", "card_issuance", "fee"],
                    "valid_until": valid_until,
                    "ends_on_first_judgement": True,
                },
            )
        ]
        async with expect_events(settings, expected):
            approved = await http.post(
                f"/consents/{yamada_id}/approve",
                json={"signed_form_id": form_id},
                headers=api.evaluator,
            )
            assert approved.status_code == 200, approved.text
        assert approved.json()["validity_ja"] == f"有効（{valid_until}まで）"
        twice = await http.post(f"/consents/{yamada_id}/approve", headers=api.evaluator)
        assert (twice.status_code, twice.json()["code"]) == (409, "not_pending")
        refile = await http.post(
            "/consent-applications", json=application(YAMADA_IN), headers=api.a
        )
        assert refile.json()["errors"] == [
            {
                "field": "workers.0.worker_id",
                "message": f"この技能者の個人情報利用申請は承認済みです（有効期限：{valid_until}）",
            }
        ]

        granted = (await http.get("/consents/granted", headers=api.a)).json()
        assert [(g["worker_id"], g["valid_until"]) for g in granted] == [(YAMADA, valid_until)]
        download = await http.get(f"/consents/{yamada_id}/signed-form", headers=api.a)
        assert download.status_code == 200
        # what is stored and served is the file written anew (docs/security.md)
        assert download.content.startswith(b"%PDF-") and download.content != PDF
        assert hashlib.sha256(download.content).hexdigest() == again.json()["signed_form"]["sha256"]
        assert download.headers["content-type"] == "application/pdf"
        assert (
            "filename*=UTF-8''" + quote("同意書（再）.pdf")
            in download.headers["content-disposition"]
        )
        detail = (await http.get(f"/consents/{yamada_id}", headers=api.evaluator)).json()
        assert [h["action"] for h in detail["history"]] == [
            "filed",
            "form_attached",
            "returned",
            "resubmitted",
            "approved",
        ]
        assert len(detail["previous_forms"]) == 1  # the returned PNG is kept as evidence

        # a completed judgement of this worker ends the consent
        judged = judgement_completed(
            application_id="A-1",
            line_id="A-1-1",
            employer_id=EMPLOYER_A,
            worker_id=YAMADA,
            evaluation_body="一般社団法人 日本鉄筋業協会",
            judged_at=datetime.now(UTC) + timedelta(seconds=1),
        )
        async with publisher(settings) as publish:
            await publish(Envelope(judged, source="judgement"))

        async def ended() -> bool:
            doc = await api.container.service.consents.get(yamada_id)
            return doc is not None and doc.status == "ended"

        await eventually(ended)
        assert (await http.get("/consents/granted", headers=api.a)).json() == []

        # APPI: every read of personal data was logged, queryable by worker and employer
        assert (await http.get("/access-log", headers=api.a)).status_code == 403
        log = (
            await http.get("/access-log", params={"worker_id": YAMADA}, headers=api.operator)
        ).json()
        assert sorted({e["action"] for e in log}) == [
            "ccus_check",
            "ccus_check_failed",  # the refused filing above: who tried which 技能者ID
            "download_signed_form",
            "get_consent",
            "list_consents",
            "list_granted",
            "list_reviews",
        ]
        download_entry = next(e for e in log if e["action"] == "download_signed_form")
        assert download_entry["actor"] == "kensetsu01"
        assert download_entry["actor_role"] == "employer"
        assert download_entry["endpoint"] == "GET /consents/{consent_id}/signed-form"
        assert download_entry["purpose"] == "署名済み個人情報利用同意書の閲覧・ダウンロード"
        assert download_entry["worker_ids"] == [YAMADA]
        assert download_entry["consent_ids"] == [yamada_id]
        evaluator_reads = [e for e in log if e["actor"] == "hyoka01"]
        assert {e["action"] for e in evaluator_reads} == {"list_reviews", "get_consent"}
        by_employer = (
            await http.get("/access-log", params={"employer_id": EMPLOYER_A}, headers=api.evaluator)
        ).json()
        assert len(by_employer) >= len(log)
        assert {w for e in by_employer for w in e["worker_ids"]} == {
            YAMADA,
            SUZUKI,
            "29999999999999",  # tried, unknown to CCUS: recorded as a failed check
        }
        failed = next(e for e in by_employer if e["action"] == "ccus_check_failed")
        assert (failed["worker_ids"], failed["actor"]) == (
            sorted(["29999999999999", YAMADA]),
            "kensetsu01",
        )
        assert (
            await http.get("/access-log", params={"employer_id": EMPLOYER_B}, headers=api.evaluator)
        ).json() == []
        stored = await api.container.service.access.documents.find({})
        assert len({d["_id"] for d in stored}) == len(stored)  # one document per access


async def test_auto_approval_grants_complete_applications(
    settings: ServiceSettings, db: object
) -> None:
    async with consent_api(settings, auto_approve=True, valid_days=30) as api:
        filed = await api.client.post(
            "/consent-applications", json=application(TANAKA_IN), headers=api.b
        )
        assert filed.json()["consents"][0]["status_ja"] == "申請中"  # no signed form yet
        tanaka_id = f"{EMPLOYER_B}-{TANAKA}"
        valid_until = (datetime.now(JST).date() + timedelta(days=30)).isoformat()
        expected = [
            Expected(
                ConsentGranted,
                {"consent_id": tanaka_id, "worker_id": TANAKA, "valid_until": valid_until},
            )
        ]
        async with expect_events(settings, expected):
            uploaded = await api.upload(tanaka_id, PDF, "同意書.pdf", api.b, "application/pdf")
        assert uploaded.json()["status_ja"] == "承認"
        detail = (await api.client.get(f"/consents/{tanaka_id}", headers=api.b)).json()
        assert detail["history"][-1]["by"] == "auto-approval"


def judgement(worker_id: str, *, sequence: int, judged_at: datetime) -> Envelope:
    """A JudgementCompletedV2 of line A-9-01 of employer A: its first judgement, or with
    ``sequence`` > 1 a re-judgement (再判定) of run R1, judged at ``judged_at``."""
    rejudged = sequence > 1
    return Envelope(
        judgement_completed(
            judgement_id="J-A-9-01-R1" if rejudged else "J-A-9-01",
            application_id="A-9",
            line_id="A-9-01",
            employer_id=EMPLOYER_A,
            worker_id=worker_id,
            worker_name="田中 次郎",
            decision="rejected" if rejudged else "approved",
            eligible_level=1 if rejudged else 2,
            judged_at=judged_at,
            sequence=sequence,
            supersedes="J-A-9-01" if rejudged else None,
            previous_decision="approved" if rejudged else None,
            previous_eligible_level=2 if rejudged else None,
            rejudgement_run_id="R1" if rejudged else None,
            rejudgement_reason="判定基準の訂正" if rejudged else None,
        ),
        source="judgement",
    )


async def test_a_rejudgement_leaves_a_consent_granted_after_the_first_judgement(
    settings: ServiceSettings, db: object
) -> None:
    async with consent_api(settings, auto_approve=True) as api:
        http = api.client
        tanaka_id = f"{EMPLOYER_A}-{TANAKA}"
        consumer = api.container.runtime.consumer

        async def status() -> str:
            doc = await api.container.service.consents.get(tanaka_id)
            assert doc is not None
            return doc.status

        async def granted() -> list[str]:
            found = (await http.get("/consents/granted", headers=api.a)).json()
            return [g["worker_id"] for g in found]

        await http.post("/consent-applications", json=application(TANAKA_IN), headers=api.a)
        uploaded = await api.upload(tanaka_id, PDF, "同意書.pdf", api.a, "application/pdf")
        assert uploaded.json()["status_ja"] == "承認"

        # the line's first judgement (sequence 1) ends the consent
        async with publisher(settings) as publish:
            await publish(judgement(TANAKA, sequence=1, judged_at=datetime.now(UTC)))

        async def ended() -> bool:
            return await status() == "ended"

        await eventually(ended)
        assert await granted() == []

        # the worker consents again, for his next application
        refiled = await http.post(
            "/consent-applications", json=application(TANAKA_IN), headers=api.a
        )
        assert refiled.status_code == 201, refiled.text
        again = await api.upload(tanaka_id, PDF, "同意書（更新）.pdf", api.a, "application/pdf")
        assert again.json()["status_ja"] == "承認"
        before = await api.container.service.consents.get(tanaka_id)
        assert before is not None

        # the old line is judged again (再判定) after that grant: the consent stays 承認
        rejudgement = judgement(TANAKA, sequence=2, judged_at=datetime.now(UTC))
        assert before.approval is not None
        assert rejudgement.event.judged_at > before.approval.at  # type: ignore[attr-defined]
        async with publisher(settings) as publish:
            await publish(rejudgement)
            await publish(rejudgement)  # redelivered
        await eventually(lambda: consumer.inbox.seen(consumer.group, rejudgement.id))
        after = await api.container.service.consents.get(tanaka_id)
        assert after is not None
        kept = ("status", "approval", "ended", "history", "valid_until")
        assert after.model_dump(include=set(kept)) == before.model_dump(include=set(kept))
        assert after.status == "approved"
        assert await granted() == [TANAKA]
        detail = (await http.get(f"/consents/{tanaka_id}", headers=api.a)).json()
        assert (detail["status_ja"], detail["valid"]) == ("承認", True)
        assert [h["action"] for h in detail["history"]] == [
            "filed",
            "form_attached",
            "approved",
            "ended",  # by the first judgement, never by the re-judgement
            "renewed",
            "form_attached",
            "approved",
        ]


async def test_an_employer_never_sees_another_employers_workers_or_files(
    settings: ServiceSettings, db: object
) -> None:
    async with consent_api(settings) as api:
        http = api.client
        await http.post("/consent-applications", json=application(YAMADA_IN), headers=api.a)
        yamada_a = f"{EMPLOYER_A}-{YAMADA}"
        assert (await api.upload(yamada_a, PDF, "a.pdf", api.a, "application/pdf")).is_success

        # employer B: nothing of A's, and 404 (not 403) for A's consent and file
        assert (await http.get("/consents", headers=api.b)).json() == []
        assert (
            await http.get("/consents", params={"employer_id": EMPLOYER_A}, headers=api.b)
        ).json() == []
        for path in (f"/consents/{yamada_a}", f"/consents/{yamada_a}/signed-form"):
            response = await http.get(path, headers=api.b)
            assert (response.status_code, response.json()["code"]) == (404, "not_found")
        stolen = await api.upload(yamada_a, PDF, "b.pdf", api.b, "application/pdf")
        assert stolen.status_code == 404
        assert (await http.post(f"/consents/{yamada_a}/approve", headers=api.b)).status_code == 403

        # B may file for the same worker: a consent of its own, separate from A's
        filed = await http.post("/consent-applications", json=application(YAMADA_IN), headers=api.b)
        assert filed.status_code == 201
        yamada_b = f"{EMPLOYER_B}-{YAMADA}"
        assert [c["consent_id"] for c in (await http.get("/consents", headers=api.b)).json()] == [
            yamada_b
        ]
        assert (await http.get(f"/consents/{yamada_b}/signed-form", headers=api.b)).json()[
            "code"
        ] == "signed_form_not_found"
        a_form = (await http.get(f"/consents/{yamada_a}/signed-form", headers=api.a)).content
        assert a_form.startswith(b"%PDF-")
        # the evaluator sees both employers' consents
        everyone = (await http.get("/consents", headers=api.evaluator)).json()
        assert [c["consent_id"] for c in everyone] == [yamada_a, yamada_b]
        only_b = (
            await http.get("/consents", params={"employer_id": EMPLOYER_B}, headers=api.evaluator)
        ).json()
        assert [c["consent_id"] for c in only_b] == [yamada_b]
        assert (await http.get("/consents")).status_code == 401
        assert (await http.get("/consents", headers=api.operator)).status_code == 403


async def test_a_malformed_request_is_answered_in_japanese_by_field(
    settings: ServiceSettings, db: object
) -> None:
    async with consent_api(settings) as api:
        answer = await api.client.post(
            "/consent-applications", json={"workers": "山田"}, headers=api.a
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["message"] == "技能者は配列で指定してください"
        refused = await api.client.post(
            f"/consents/{EMPLOYER_A}-{YAMADA}/approve",
            json={"signed_form_id": "f1", "note": "x"},
            headers=api.evaluator,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["message"] == "noteは指定できない項目です"
