"""The document service with the real Kafka and database (GridFS)."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx

from document.config import Settings
from document.inject import create_app
from shared_kernel.auth import Principal, issue_token
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ResultNoticeGenerated, UserActivated
from shared_kernel.kafka import EventPublisher, make_broker
from shared_kernel.settings import ServiceSettings
from shared_kernel.testing import Expected, eventually, expect_events, isolated

from ..conftest import judged

EMPLOYER = "12345678901234"


def bearer(secret: str, role: str, employer_id: str | None = None) -> dict[str, str]:
    principal = Principal(subject=f"{role}-user", role=role, employer_id=employer_id)  # type: ignore[arg-type]
    return {"Authorization": "Bearer " + issue_token(secret, principal)}


async def test_notice_generated_once_downloadable_and_verifiable(
    settings: ServiceSettings, db: object, tmp_path: Path
) -> None:
    doc_settings = isolated(
        Settings,
        topic_prefix=settings.topic_prefix,
        db_name=settings.db_name,
        outbox_poll_seconds=0.2,
    )
    secret = doc_settings.jwt_secret.get_secret_value()
    app = create_app(doc_settings)
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://document"
        )
        broker = make_broker(settings)
        await broker.start()
        publish = EventPublisher(broker, settings)
        await publish(
            Envelope(
                UserActivated(
                    login_id="kensetsu01",
                    email="a@example.jp",
                    employer_id=EMPLOYER,
                    employer_name="株式会社髙﨑建設",
                    activated_at=datetime(2026, 11, 1, tzinfo=UTC),
                ),
                source="identity",
            )
        )
        service = app.state.container.service
        await eventually(lambda: service.employers.get(EMPLOYER))
        completed = Envelope(judged("AP-9-1", approved=True), source="judgement")
        expected = [
            Expected(ResultNoticeGenerated, {"notice_id": "RN-AP-9-1", "line_id": "AP-9-1"})
        ]
        async with expect_events(settings, expected) as recorded:
            await publish(completed)
            await publish(completed)  # redelivered: no second notice
        await broker.stop()
        sha = recorded.envelopes[0].event.sha256  # type: ignore[attr-defined]

        owner = bearer(secret, "employer", EMPLOYER)
        listed = (
            await client.get("/notices", params={"application_id": "AP-9"}, headers=owner)
        ).json()
        assert [n["notice_id"] for n in listed] == ["RN-AP-9-1"]
        pdf = await client.get("/notices/RN-AP-9-1/pdf", headers=owner)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        path = tmp_path / "n.pdf"
        path.write_bytes(pdf.content)
        extracted = await asyncio.to_thread(
            subprocess.run,
            ["pdftotext", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        text = "".join(extracted.stdout.split())
        assert (
            "株式会社髙﨑建設" in text
            and "𠮷野翔太" in text
            and "承認" in text
            and "シルバー" in text
        )
        assert (
            await client.get("/notices/RN-AP-9-1/pdf", headers=bearer(secret, "evaluator"))
        ).status_code == 200
        other = bearer(secret, "employer", "99999999999999")
        assert (await client.get("/notices/RN-AP-9-1/pdf", headers=other)).status_code == 404
        assert (await client.get("/notices", headers=other)).json() == []
        assert (await client.get("/notices/RN-AP-9-1/pdf")).status_code == 401

        code = listed[0]["verification_code"]
        verified = (await client.get(f"/verify/{code}")).json()
        assert verified["authentic"] is True and verified["sha256"] == sha
        assert verified["worker_id"] == "9900******0002"
        assert (await client.get("/verify/AAAA-BBBB-CCCC-DDDD")).status_code == 404
        assert (await client.post("/verify", content=pdf.content)).json()["authentic"] is True
        tampered = pdf.content + b"\n% one byte changed after signing\n"
        assert (await client.post("/verify", content=tampered)).json()["authentic"] is False
        assert (await client.post("/verify", content=b"not a pdf")).status_code == 422

        form = await client.post(
            "/consent-forms",
            json={
                "employer_name": "株式会社髙﨑建設",
                "worker_name": "𠮷野 翔太",
                "worker_name_kana": "ヨシノ ショウタ",
                "worker_id": "99000000000002",
            },
            headers=owner,
        )
        assert form.status_code == 200 and form.content.startswith(b"%PDF-")
        assert (
            await client.post("/consent-forms", json={"employer_name": ""}, headers=owner)
        ).status_code == 422
        await client.aclose()
