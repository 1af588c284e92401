"""The document service's use cases: notices on JudgementCompleted, consent forms, checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from document.core import notice
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    JudgementCompletedV2,
    ResultNoticeGenerated,
    UserActivated,
    UserProvisionallyRegistered,
)
from shared_kernel.mongo import AlreadyExists, Document
from shared_kernel.ports import Documents

SOURCE = "document"


class Renderer(Protocol):
    async def render(self, template: str, context: dict[str, Any]) -> bytes: ...


class Files(Protocol):
    async def put(self, file_id: str, name: str, data: bytes) -> None: ...

    async def get(self, file_id: str) -> bytes | None: ...


class DocumentService:
    def __init__(
        self,
        notices: Documents,
        employers: Documents,
        files: Files,
        renderer: Renderer,
        *,
        signing_key: str,
        public_base_url: str,
        qr: Callable[[str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_generated: Callable[[], None] | None = None,
    ) -> None:
        self.notices = notices
        self.employers = employers
        self.files = files
        self.renderer = renderer
        self.key = signing_key
        self.base_url = public_base_url.rstrip("/")
        self.qr = qr
        self.clock = clock
        self.on_generated = on_generated

    async def on_user(self, envelope: Envelope) -> None:
        """Keep the employer's name (printed on notices) from identity events."""
        event = envelope.event
        assert isinstance(event, UserProvisionallyRegistered | UserActivated)

        def remember(doc: Document | None) -> tuple[Document, list[Envelope]]:
            return {"_id": event.employer_id, "employer_name": event.employer_name}, []

        await self.employers.update(event.employer_id, remember, applied_event_id=envelope.id)

    async def on_judgement(self, envelope: Envelope) -> None:
        """Render, sign and store the 結果通知書 of one judged line; announce it once."""
        event = envelope.event
        assert isinstance(event, JudgementCompletedV2)
        number = notice.notice_id(event.line_id)
        if await self.notices.get(number) is not None:
            return  # redelivered: the notice exists
        employer = await self.employers.get(event.employer_id)
        code = notice.verification_code(self.key, number)
        verify_url = f"{self.base_url}/verify/{code}"
        now = self.clock()
        context = notice.context(
            event,
            number=number,
            code=code,
            employer_name=employer["employer_name"] if employer else None,
            verify_url=verify_url,
            issued_at=now,
        )
        pdf = await self.renderer.render(
            "result_notice.html", {**context, "qr": self.qr(verify_url)}
        )
        digest = notice.content_hash(pdf)
        await self.files.put(number, f"{number}.pdf", pdf)
        generated = ResultNoticeGenerated(
            notice_id=number,
            judgement_id=event.judgement_id,
            application_id=event.application_id,
            line_id=event.line_id,
            employer_id=event.employer_id,
            worker_id=event.worker_id,
            document_id=number,
            sha256=digest,
            generated_at=now,
        )
        doc = {
            "_id": number,
            "code": code,
            "sha256": digest,
            "signature": notice.sign(self.key, digest),
            "file_id": number,
            "application_id": event.application_id,
            "line_id": event.line_id,
            "judgement_id": event.judgement_id,
            "employer_id": event.employer_id,
            "worker_id": event.worker_id,
            "trade": event.trade,
            "eligible_level": event.eligible_level,
            "decision": event.decision,
            "generated_at": now,
        }
        try:
            await self.notices.insert(
                doc, [Envelope(generated, source=SOURCE)], applied_event_id=envelope.id
            )
        except AlreadyExists:
            return
        if self.on_generated is not None:
            self.on_generated()

    async def pdf(self, number: str) -> tuple[Document, bytes] | None:
        doc = await self.notices.get(number)
        if doc is None:
            return None
        data = await self.files.get(doc["file_id"])
        return None if data is None else (doc, data)

    async def verify_code(self, code: str) -> dict[str, Any] | None:
        """What a third party may see of the notice named by ``code``."""
        found = await self.notices.find({"code": code}, limit=1)
        if not found:
            return None
        doc = found[0]
        stored = await self.files.get(doc["file_id"])
        intact = stored is not None and notice.content_hash(stored) == doc["sha256"]
        return {
            "notice_id": doc["_id"],
            "authentic": intact and notice.verifies(self.key, doc["sha256"], doc["signature"]),
            "worker_id": notice.mask_worker_id(doc["worker_id"]),
            "trade": doc["trade"],
            "decision": doc["decision"],
            "eligible_level": doc["eligible_level"],
            "issued_at": doc["generated_at"].isoformat(),
            "sha256": doc["sha256"],
        }

    async def verify_file(self, pdf: bytes) -> dict[str, Any] | None:
        """Is this exact file a notice we issued (its hash signed by us)?"""
        digest = notice.content_hash(pdf)
        found = await self.notices.find({"sha256": digest}, limit=1)
        if not found or not notice.verifies(self.key, digest, found[0]["signature"]):
            return None
        return {"notice_id": found[0]["_id"], "authentic": True, "sha256": digest}

    async def consent_form(self, context: dict[str, Any]) -> bytes:
        return await self.renderer.render("consent_form.html", context)
