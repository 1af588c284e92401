"""The document service with the real Kafka and database (GridFS): JudgementCompletedV2 →
one 結果通知書 and one ResultNoticeGenerated per judgement (a re-judgement's superseding
the first), downloads, verification, consent forms."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from gridfs import AsyncGridFSBucket

from document.config import Settings
from document.core import signing
from document.inject import Container, create_app
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ResultNoticeGenerated
from shared_kernel.infra.kafka import EventPublisher, make_broker
from shared_kernel.infra.mongo import OUTBOX
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import Expected, eventually, expect_events, isolated, signed_token
from shared_kernel.principal import Principal, Role

from ..conftest import EMPLOYER, employer_activated, judged, rejudged

OTHER_EMPLOYER = "99999999999999"
NOT_ISSUED = "本システムが発行した結果通知書と一致しません（発行後に改変された可能性があります）。"


def bearer(role: Role, employer_id: str | None = None) -> dict[str, str]:
    principal = Principal(subject=f"{role}-user", role=role, employer_id=employer_id)
    return {"Authorization": "Bearer " + signed_token(principal)}


@asynccontextmanager
async def running(
    settings: ServiceSettings,
) -> AsyncIterator[tuple[Settings, Container, httpx.AsyncClient, EventPublisher]]:
    doc_settings = isolated(
        Settings,
        topic_prefix=settings.topic_prefix,
        db_name=settings.db_name,
        environment="test",
        outbox_poll_seconds=0.2,
        public_base_url="https://verify.example.jp",
        DOCUMENT_SIGNING_KEY="integration-signing-key-0123456789abcdef",
    )
    app = create_app(doc_settings)
    async with app.router.lifespan_context(app):
        broker = make_broker(settings)
        await broker.start()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://document") as client:
            try:
                yield doc_settings, app.state.container, client, EventPublisher(broker, settings)
            finally:
                await broker.stop()


async def handled(container: Container, *envelopes: Envelope) -> bool:
    consumer = container.runtime.consumer
    return all([await consumer.inbox.seen(consumer.group, e.id) for e in envelopes])


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "file.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return "".join(done.stdout.split())


async def test_judgement_gives_one_notice_downloadable_by_its_owner_and_verifiable(
    settings: ServiceSettings, db: object, tmp_path: Path
) -> None:
    async with running(settings) as (doc_settings, container, client, publish):
        service = container.service
        await publish(employer_activated(datetime(2026, 11, 1, tzinfo=UTC)))

        async def employer_known() -> bool:
            return await service.employers.get(EMPLOYER) is not None

        await eventually(employer_known)

        completed = Envelope(judged("AP-9-1", approved=False), source="judgement")
        reissued = Envelope(judged("AP-9-1", approved=False), source="judgement")  # new id
        expected = [
            Expected(
                ResultNoticeGenerated,
                {
                    "notice_id": "RN-AP-9-1",
                    "judgement_id": "J-AP-9-1",
                    "application_id": "AP-9",
                    "line_id": "AP-9-1",
                    "employer_id": EMPLOYER,
                    "worker_id": "99000000000002",
                    "document_id": "RN-AP-9-1",
                },
            )
        ]
        async with expect_events(settings, expected) as recorded:
            await publish(completed)
            await publish(completed)  # redelivered
            await publish(reissued)
            await eventually(lambda: handled(container, completed, reissued))
        generated = recorded.envelopes[0]
        sha = generated.event.sha256  # type: ignore[attr-defined]
        assert generated.correlation_id == completed.correlation_id
        [stored] = await service.notices.store.find({})  # the raw document, with its bookkeeping
        assert stored["_id"] == "RN-AP-9-1" and stored[OUTBOX] == []
        assert stored["_applied"] == [completed.id]
        assert stored["sha256"] == sha and signing.verifies(
            doc_settings.signing_key.get_secret_value(), sha, stored["signature"]
        )

        # --- downloads: the owning employer and evaluators only --------------------------
        owner = bearer("employer", EMPLOYER)
        listed = await client.get("/notices", params={"application_id": "AP-9"}, headers=owner)
        metrics = (await client.get("/metrics")).text  # after real traffic (issue: operations)
        assert 'pdfs_generated_total{kind="result_notice"}' in metrics
        assert "pdf_render_seconds_bucket" in metrics
        assert listed.status_code == 200 and listed.headers["cache-control"] == "private, no-store"
        [row] = listed.json()
        assert (row["notice_id"], row["decision"], row["eligible_level"], row["card_colour"]) == (
            "RN-AP-9-1",
            "rejected",
            2,
            "ブルー",
        )
        assert row["pdf"] == "/notices/RN-AP-9-1/pdf" and row["sha256"] == sha
        pdf = await client.get("/notices/RN-AP-9-1/pdf", headers=owner)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert signing.content_hash(pdf.content) == sha
        text = pdf_text(pdf.content, tmp_path)
        for expected_text in ("株式会社髙﨑建設御中", "𠮷野翔太", "不承認", "レベル2", "ブルー"):
            assert expected_text in text, expected_text
        assert "就業日数が不足しています（必要1,075日、現在900日）" in text

        evaluator = bearer("evaluator")
        assert (await client.get("/notices/RN-AP-9-1/pdf", headers=evaluator)).status_code == 200
        assert [
            n["notice_id"] for n in (await client.get("/notices", headers=evaluator)).json()
        ] == ["RN-AP-9-1"]
        other = bearer("employer", OTHER_EMPLOYER)
        denied = await client.get("/notices/RN-AP-9-1/pdf", headers=other)
        assert denied.status_code == 404
        assert denied.json() == {"code": "not_found", "message": "該当する結果通知書がありません。"}
        assert (await client.get("/notices", headers=other)).json() == []
        operator = await client.get("/notices/RN-AP-9-1/pdf", headers=bearer("operator"))
        assert operator.status_code == 403
        assert operator.json()["message"] == "この操作を行う権限がありません。"
        assert (await client.get("/notices/RN-AP-9-1/pdf")).status_code == 401
        missing = await client.get("/notices/RN-AP-404-1/pdf", headers=owner)
        assert missing.status_code == 404

        # --- public verification ------------------------------------------------------------
        code = row["verification_code"]
        verified = await client.get(f"/verify/{code}")
        assert verified.status_code == 200
        body: dict[str, Any] = verified.json()
        assert (body["authentic"], body["signature_valid"], body["file_intact"]) == (
            True,
            True,
            True,
        )
        assert (body["notice_id"], body["worker_id"], body["trade"], body["sha256"]) == (
            "RN-AP-9-1",
            "9900******0002",
            "電気工事",
            sha,
        )
        assert (body["eligible_level"], body["issued_on"]) == (2, "2026-11-21")
        assert "𠮷野" not in verified.text  # no name on the public endpoint
        page = await client.get(
            f"/verify/{code.lower()}", headers={"Accept": "text/html,*/*;q=0.8"}
        )
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "発行後に改変されていません" in page.text and "9900******0002" in page.text
        assert 'action="https://verify.example.jp/verify"' in page.text
        unknown = await client.get("/verify/AAAA-BBBB-CCCC-DDDD")
        assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_code"
        unknown_page = await client.get("/verify/nonsense", headers={"Accept": "text/html"})
        assert unknown_page.status_code == 404 and "検証コード" in unknown_page.text

        raw = await client.post(
            "/verify", content=pdf.content, headers={"Content-Type": "application/pdf"}
        )
        assert raw.json()["authentic"] is True and raw.json()["notice_id"] == "RN-AP-9-1"
        upload = await client.post(
            "/verify", files={"file": ("RN-AP-9-1.pdf", pdf.content, "application/pdf")}
        )
        assert upload.json()["authentic"] is True
        middle = len(pdf.content) // 2  # one bit changed
        tampered = (
            pdf.content[:middle] + bytes([pdf.content[middle] ^ 1]) + pdf.content[middle + 1 :]
        )
        changed = await client.post(
            "/verify", files={"file": ("RN-AP-9-1.pdf", tampered, "application/pdf")}
        )
        assert changed.status_code == 200
        assert changed.json() == {"authentic": False, "message": NOT_ISSUED}
        not_pdf = await client.post("/verify", content=b"hello")
        assert not_pdf.status_code == 422 and not_pdf.json()["code"] == "not_a_pdf"

        # the stored file altered behind the service's back: no longer authentic
        bucket = AsyncGridFSBucket(container.runtime.db, bucket_name="pdfs")
        await bucket.delete("RN-AP-9-1")
        await bucket.upload_from_stream_with_id("RN-AP-9-1", "RN-AP-9-1.pdf", tampered)
        after = (await client.get(f"/verify/{code}")).json()
        assert (after["authentic"], after["signature_valid"], after["file_intact"]) == (
            False,
            True,
            False,
        )
        assert after["message"] == "保管されている結果通知書が発行時の内容と一致しません。"

        # --- the consent form: prefilled, not stored -----------------------------------------
        form = await client.post(
            "/consent-forms",
            json={"worker_name": "𠮷田 茂", "worker_name_kana": "ヨシダ シゲル"},
            headers=owner,
        )
        assert form.status_code == 200 and form.content.startswith(b"%PDF-")
        form_text = pdf_text(form.content, tmp_path)
        assert "株式会社髙﨑建設御中" in form_text and "𠮷田茂" in form_text
        invalid = await client.post(
            "/consent-forms", json={"worker_name": "", "worker_name_kana": "ア"}, headers=owner
        )
        assert invalid.status_code == 422
        assert invalid.json()["message"] == "入力内容に誤りがあります。"
        as_evaluator = await client.post(
            "/consent-forms",
            json={"worker_name": "𠮷田 茂", "worker_name_kana": "ヨシダ シゲル"},
            headers=evaluator,
        )
        assert as_evaluator.status_code == 403


async def test_crash_windows_of_the_gridfs_upload(settings: ServiceSettings, db: object) -> None:
    """A file stored by an attempt that crashed before the notice, and chunks left by an
    upload cut short: the next attempt signs the stored file, or cleans up and uploads."""
    async with running(settings) as (_, container, client, _publish):
        service = container.service
        bucket = AsyncGridFSBucket(container.runtime.db, bucket_name="pdfs")
        earlier = b"%PDF-1.7 stored by the first attempt\n%%EOF\n"
        await bucket.upload_from_stream_with_id("RN-AP-11-1", "RN-AP-11-1.pdf", earlier)
        # chunks of RN-AP-12-1 without a file document, written a minute ago
        old_id = ObjectId.from_datetime(datetime.now(UTC) - timedelta(minutes=1))
        chunks = container.runtime.db["pdfs.chunks"]
        await chunks.insert_one({"_id": old_id, "files_id": "RN-AP-12-1", "n": 0, "data": b"%P"})

        expected = [
            Expected(
                ResultNoticeGenerated,
                {"notice_id": "RN-AP-11-1", "sha256": signing.content_hash(earlier)},
            ),
            Expected(ResultNoticeGenerated, {"notice_id": "RN-AP-12-1"}),
        ]
        async with expect_events(settings, expected):
            await service.on_judgement(Envelope(judged("AP-11-1")))
            await service.on_judgement(Envelope(judged("AP-12-1")))

        first = await service.notices.get("RN-AP-11-1")
        assert first is not None and first.size == len(earlier)
        second = await service.notices.get("RN-AP-12-1")
        assert second is not None
        stored = [c async for c in chunks.find({"files_id": "RN-AP-12-1"})]
        assert old_id not in [c["_id"] for c in stored]  # the orphan chunk is gone
        assert sum(len(c["data"]) for c in stored) == second.size
        verified = (await client.get(f"/verify/{second.code}")).json()
        assert verified["authentic"] is True


async def test_rejudgement_gives_a_new_notice_and_supersedes_the_first(
    settings: ServiceSettings, db: object, tmp_path: Path
) -> None:
    """Sequence 1 then a re-judgement (sequence 2): two notices, the first still genuine
    but superseded at /verify and in the list; redelivered or late events change nothing."""
    async with running(settings) as (_, container, client, publish):
        service = container.service
        first = Envelope(judged("AP-30-1", approved=False), source="judgement")
        second = Envelope(rejudged("AP-30-1", 2, approved=True), source="judgement")
        expected = [
            Expected(
                ResultNoticeGenerated,
                {
                    "notice_id": "RN-AP-30-1",
                    "judgement_id": "J-AP-30-1",
                    "sequence": 1,
                    "supersedes_notice_id": None,
                },
            ),
            Expected(
                ResultNoticeGenerated,
                {
                    "notice_id": "RN-AP-30-1-2",
                    "judgement_id": "J-AP-30-1-RJ-20261201",
                    "line_id": "AP-30-1",
                    "document_id": "RN-AP-30-1-2",
                    "sequence": 2,
                    "supersedes_notice_id": "RN-AP-30-1",
                },
            ),
        ]
        async with expect_events(settings, expected):
            await publish(first)
            await eventually(lambda: handled(container, first))
            await publish(second)
            await eventually(lambda: handled(container, second))
            await publish(second)  # redelivered
            late = Envelope(judged("AP-30-1", approved=False), source="judgement")
            await publish(late)  # the first judgement replayed (new id): its notice exists
            replayed = Envelope(rejudged("AP-30-1", 2, approved=True), source="judgement")
            await publish(replayed)
            await eventually(lambda: handled(container, late, replayed))
        raw = await service.notices.store.find({"line_id": "AP-30-1"})
        stored = {d["_id"]: d for d in raw}
        assert sorted(stored) == ["RN-AP-30-1", "RN-AP-30-1-2"]
        assert stored["RN-AP-30-1-2"]["_applied"] == [second.id]

        # --- the list: both, by sequence; the first names the one that replaced it ----------
        owner = bearer("employer", EMPLOYER)
        listed = await client.get("/notices", params={"application_id": "AP-30"}, headers=owner)
        rows = listed.json()
        assert [
            (r["notice_id"], r["sequence"], r["judgement_id"], r["line_id"], r["superseded_by"])
            for r in rows
        ] == [
            ("RN-AP-30-1", 1, "J-AP-30-1", "AP-30-1", "RN-AP-30-1-2"),
            ("RN-AP-30-1-2", 2, "J-AP-30-1-RJ-20261201", "AP-30-1", None),
        ]
        assert rows[1]["supersedes_notice_id"] == "RN-AP-30-1"
        assert rows[1]["rejudgement_reason"] == "判定基準の改定（電気工事@2026-12-01）"
        assert (rows[1]["eligible_level"], rows[1]["issued_on"]) == (3, "2026-12-01")

        # --- the new notice prints the new result and says what it replaces -----------------
        new_pdf = await client.get("/notices/RN-AP-30-1-2/pdf", headers=owner)
        assert new_pdf.status_code == 200
        text = pdf_text(new_pdf.content, tmp_path)
        for expected_text in (
            "通知番号RN-AP-30-1-2",
            "再判定により前回の結果通知書（RN-AP-30-1）を更新したものです。",
            "理由：判定基準の改定（電気工事@2026-12-01）",
            "判定結果承認",
            "レベル3",
            "シルバー",
        ):
            assert expected_text in text, expected_text

        # --- /verify: the first is genuine, but superseded; the second is current -----------
        old_pdf = await client.get("/notices/RN-AP-30-1/pdf", headers=owner)
        assert old_pdf.status_code == 200  # still downloadable
        superseded = "この結果通知書は再判定により更新されています"
        old = (await client.get(f"/verify/{rows[0]['verification_code']}")).json()
        assert (old["authentic"], old["current"], old["superseded_by"]) == (
            True,
            False,
            "RN-AP-30-1-2",
        )
        assert (old["current_notice_id"], old["current_issued_on"]) == (
            "RN-AP-30-1-2",
            "2026-12-01",
        )
        assert old["message"].startswith(superseded)
        assert "RN-AP-30-1-2（令和8年12月1日付け）" in old["message"]
        assert "改変されていません" in old["message"]
        assert old["eligible_level"] == 2  # what the first notice printed
        page = await client.get(
            f"/verify/{rows[0]['verification_code']}", headers={"Accept": "text/html"}
        )
        assert page.status_code == 200 and superseded in page.text
        assert "RN-AP-30-1-2" in page.text and "令和8年12月1日" in page.text
        uploaded = await client.post(
            "/verify", files={"file": ("RN-AP-30-1.pdf", old_pdf.content, "application/pdf")}
        )
        assert uploaded.json()["message"] == old["message"]
        assert uploaded.json()["authentic"] is True and uploaded.json()["current"] is False
        uploaded_page = await client.post(
            "/verify",
            files={"file": ("RN-AP-30-1.pdf", old_pdf.content, "application/pdf")},
            headers={"Accept": "text/html"},
        )
        assert superseded in uploaded_page.text and "RN-AP-30-1-2" in uploaded_page.text

        new = (await client.get(f"/verify/{rows[1]['verification_code']}")).json()
        assert (new["authentic"], new["current"], new["superseded_by"], new["sequence"]) == (
            True,
            True,
            None,
            2,
        )
        assert superseded not in new["message"]
        raw = await client.post(
            "/verify", content=new_pdf.content, headers={"Content-Type": "application/pdf"}
        )
        assert raw.json()["notice_id"] == "RN-AP-30-1-2" and raw.json()["current"] is True


async def test_an_older_judgement_arriving_after_the_rejudgement_creates_nothing(
    settings: ServiceSettings, db: object
) -> None:
    async with running(settings) as (_, container, client, publish):
        service = container.service
        second = Envelope(rejudged("AP-31-1", 2), source="judgement")
        late = Envelope(judged("AP-31-1"), source="judgement")
        expected = [
            Expected(
                ResultNoticeGenerated,
                {"notice_id": "RN-AP-31-1-2", "sequence": 2, "supersedes_notice_id": "RN-AP-31-1"},
            )
        ]
        async with expect_events(settings, expected):
            await publish(second)
            await eventually(lambda: handled(container, second))
            await publish(late)
            await eventually(lambda: handled(container, late))
        assert [d.id for d in await service.notices.find({"line_id": "AP-31-1"})] == [
            "RN-AP-31-1-2"
        ]
        assert await container.runtime.db["pdfs.files"].count_documents({"_id": "RN-AP-31-1"}) == 0
        [row] = (await client.get("/notices", headers=bearer("evaluator"))).json()
        assert (row["notice_id"], row["superseded_by"]) == ("RN-AP-31-1-2", None)
        verified = (await client.get(f"/verify/{row['verification_code']}")).json()
        assert verified["current"] is True and verified["authentic"] is True
