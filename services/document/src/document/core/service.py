"""The document service's use cases: notices on JudgementCompleted, checks, consent forms.

Storage only through ports: ``Aggregates`` of :class:`Notice` and :class:`Employer` (each
change with its events in one write), ``Files`` (the PDFs) and ``Renderer``. Who may see a
notice is decided here (``access``), not by the routes.

One notice per judgement (``RN-<line>`` for a line's first, ``RN-<line>-<n>`` for its n-th,
a 再判定), exactly once, whatever is redelivered or wherever a crash falls:

1. the notice document exists (``_id`` = notice number)  → nothing to do;
2. the line already has a notice of this or a higher sequence (an out-of-order or
   replayed older judgement) → nothing to do;
3. otherwise render the PDF and store it under the notice number unless a file is there
   already (an earlier attempt stored it and crashed): ``Files.put_once`` returns the
   stored bytes, and those are hashed and signed;
4. insert the notice document with ``ResultNoticeGenerated`` in its outbox and the
   consumed event's id (``applied_event_id``), in one write; a concurrent insert of the
   same number loses with ``AlreadyExists`` and publishes nothing.

Which notice of a line is current is never written: it is derived when read
(``lineage``), so the earlier notice needs no second write to become superseded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from document.core import lineage, notice, signing
from document.core.access import sees_notice
from document.core.errors import NoEmployer, NoticeNotFound
from document.core.models import Employer, Notice
from document.ports import Files, Renderer
from shared_kernel.aggregate import Aggregates
from shared_kernel.context import get_logger
from shared_kernel.errors import AlreadyExists
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    JudgementCompletedV2,
    ResultNoticeGenerated,
    UserActivated,
)
from shared_kernel.labels import card_colour
from shared_kernel.principal import Principal

log = get_logger(__name__)
SOURCE = "document"
NOTICE_TEMPLATE = "result_notice.typ"
CONSENT_TEMPLATE = "consent_form.typ"


def utcnow() -> datetime:
    return datetime.now(UTC)


class DocumentService:
    def __init__(
        self,
        notices: Aggregates[Notice],
        employers: Aggregates[Employer],
        files: Files,
        renderer: Renderer,
        *,
        signing_key: str,
        public_base_url: str,
        clock: Callable[[], datetime] = utcnow,
        on_generated: Callable[[str], None] | None = None,
    ) -> None:
        self.notices = notices  # one document per notice: hash, signature, file id, owner
        self.employers = employers  # read model: employer_id -> employer_name
        self.files = files
        self.renderer = renderer
        self.key = signing_key
        self.base_url = public_base_url.rstrip("/")
        self.clock = clock
        self.on_generated = on_generated  # e.g. count PDFs by kind

    # --- identity events: the employers' names ---------------------------------------------

    async def on_user(self, envelope: Envelope) -> None:
        """Keep the employer's name (printed on notices) from the identity events."""
        event = envelope.event
        assert isinstance(event, UserActivated)

        def remember(known: Employer | None) -> tuple[Employer, list[Envelope]] | None:
            if known is not None and known.employer_name == event.employer_name:
                return None
            version = known.version if known else 0
            return Employer(
                id=event.employer_id, version=version, employer_name=event.employer_name
            ), []

        await self.employers.update(event.employer_id, remember, applied_event_id=envelope.id)

    async def employer_name(self, employer_id: str | None) -> str | None:
        if not employer_id:
            return None
        found = await self.employers.get(employer_id)
        return found.employer_name if found else None

    # --- 結果通知書 -------------------------------------------------------------------------

    def verify_url(self, code: str) -> str:
        return f"{self.base_url}/verify/{code}"

    async def on_judgement(self, envelope: Envelope) -> None:
        """Render, store and sign the 結果通知書 of one judgement; announce it once."""
        event = envelope.event
        assert isinstance(event, JudgementCompletedV2)
        number = notice.notice_id(event.line_id, event.sequence)
        existing = await self.notices.get(number)
        if existing is not None:
            if existing.judgement_id != event.judgement_id:  # two judgements, one sequence
                log.warning(
                    "notice.sequence_taken",
                    notice_id=number,
                    judgement_id=event.judgement_id,
                    held_judgement_id=existing.judgement_id,
                    event_id=envelope.id,
                )
            else:
                log.info("notice.exists", notice_id=number, event_id=envelope.id)
            return
        held = [(n.id, n.sequence) for n in await self.notices.find({"line_id": event.line_id})]
        highest = max((seq for _, seq in held), default=0)
        if event.sequence <= highest:  # an older judgement, late or replayed
            log.info(
                "notice.stale",
                notice_id=number,
                line_id=event.line_id,
                judgement_id=event.judgement_id,
                sequence=event.sequence,
                held_sequence=highest,
                event_id=envelope.id,
            )
            return
        previous = notice.previous_notice_id(event.line_id, event.sequence, held)
        code = signing.verification_code(self.key, number)
        pdf = await self.files.get(number)
        if pdf is None:  # not stored by an earlier attempt: render it now
            context = notice.context(
                event,
                number=number,
                code=code,
                employer_name=await self.employer_name(event.employer_id),
                verify_url=self.verify_url(code),
                previous_number=previous,
            )
            rendered = await self.renderer.render(
                NOTICE_TEMPLATE, context, qr_url=self.verify_url(code), created=event.judged_at
            )
            pdf = await self.files.put_once(number, f"{number}.pdf", rendered)
        digest = signing.content_hash(pdf)
        now = self.clock()
        judged = event.model_dump(
            include={
                "judgement_id",
                "application_id",
                "line_id",
                "employer_id",
                "worker_id",
                "sequence",
            }
        )
        generated = ResultNoticeGenerated(
            **judged,
            notice_id=number,
            document_id=number,
            sha256=digest,
            generated_at=now,
            supersedes_notice_id=previous,
        )
        doc = Notice(
            **judged,
            **event.model_dump(
                include={
                    "rejudgement_run_id",
                    "rejudgement_reason",
                    "trade",
                    "evaluation_body",
                    "requested_level",
                    "eligible_level",
                    "decision",
                    "criteria_version",
                }
            ),
            id=number,
            code=code,
            sha256=digest,
            signature=signing.sign(self.key, digest),
            file_id=number,
            size=len(pdf),
            supersedes_notice_id=previous,
            supersedes_judgement_id=event.supersedes,
            card_colour=card_colour(event.eligible_level).name_ja,
            issued_on=notice.judged_on(event),
            generated_at=now,
        )
        try:
            await self.notices.insert(
                doc,
                [Envelope(generated, source=SOURCE, correlation_id=envelope.correlation_id)],
                applied_event_id=envelope.id,
            )
        except AlreadyExists:
            log.info("notice.exists", notice_id=number, event_id=envelope.id)
            return
        log.info(
            "notice.generated",
            notice_id=number,
            sequence=event.sequence,
            supersedes_notice_id=previous,
            sha256=digest,
            bytes=len(pdf),
        )
        if self.on_generated is not None:
            self.on_generated("result_notice")

    async def notices_for(
        self, principal: Principal, application_id: str | None
    ) -> list[dict[str, Any]]:
        """The notices ``principal`` may see (of one application if given), as listed."""
        if principal.role == "employer" and principal.employer_id is None:
            raise NoEmployer()
        owner = principal.employer_id if principal.role == "employer" else None
        found = await self.notices_of(owner, application_id)
        return [listed(n, standing) for n, standing in found if sees_notice(principal, n)]

    async def notice_pdf(self, principal: Principal, number: str) -> tuple[Notice, bytes]:
        """The notice and its PDF, if ``principal`` may see it (else, or if there is none,
        ``NoticeNotFound``: another employer's notice is not disclosed)."""
        found = await self.pdf(number)
        if found is None or not sees_notice(principal, found[0]):
            raise NoticeNotFound()
        return found

    async def notices_of(
        self, employer_id: str | None, application_id: str | None
    ) -> list[tuple[Notice, lineage.Standing]]:
        """Notices with their standing, by line then sequence; of one employer unless
        ``employer_id`` is None. A line's notices share its application and employer, so
        the filtered list holds every notice of each listed line."""
        flt: dict[str, Any] = {}
        if employer_id is not None:
            flt["employer_id"] = employer_id
        if application_id:
            flt["application_id"] = application_id
        found = await self.notices.find(flt)
        standing = lineage.standings(found)
        return [(n, standing[n.id]) for n in sorted(found, key=lineage.list_order)]

    async def pdf(self, number: str) -> tuple[Notice, bytes] | None:
        doc = await self.notices.get(number)
        if doc is None:
            return None
        data = await self.files.get(doc.file_id)
        return None if data is None else (doc, data)

    # --- public verification ----------------------------------------------------------------

    async def verify_code(self, typed: str) -> dict[str, Any] | None:
        """What a third party may see of the notice with this verification code, and
        whether it is authentic (signature verifies, stored file unchanged); None if the
        code names no notice."""
        code = signing.normalise_code(typed)
        if code is None:
            return None
        found = await self.notices.find({"code": code}, limit=1)
        if not found:
            return None
        doc = found[0]
        stored = await self.files.get(doc.file_id)
        stored_hash = None if stored is None else signing.content_hash(stored)
        verdict = signing.verdict(self.key, doc, stored_hash)
        return signing.public_view(doc, verdict, await self.standing(doc))

    async def verify_file(self, pdf: bytes) -> dict[str, Any] | None:
        """The notice whose signed hash this exact file has, or None (not one of ours, or
        altered after it was issued)."""
        digest = signing.content_hash(pdf)
        found = await self.notices.find({"sha256": digest}, limit=1)
        if not found:
            return None
        doc = found[0]
        result = signing.verdict(self.key, doc, digest)
        if not result.signature_valid:
            return None
        return signing.public_view(doc, result, await self.standing(doc))

    async def standing(self, doc: Notice) -> lineage.Standing:
        """Whether ``doc`` is its line's current notice, from the line's notices now."""
        of_line = await self.notices.find({"line_id": doc.line_id})
        return lineage.standings(of_line)[doc.id]

    # --- 個人情報利用同意書 -------------------------------------------------------------------

    async def consent_form(
        self,
        *,
        employer_id: str | None,
        employer_name: str | None,
        worker_name: str,
        worker_name_kana: str,
        worker_id: str | None,
    ) -> bytes:
        """The blank consent form, prefilled (not stored)."""
        name = employer_name or await self.employer_name(employer_id)
        pdf = await self.renderer.render(
            CONSENT_TEMPLATE,
            {
                "employer_name": name,
                "worker_name": worker_name,
                "worker_name_kana": worker_name_kana,
                "worker_id": worker_id,
            },
        )
        if self.on_generated is not None:
            self.on_generated("consent_form")
        return pdf


def listed(n: Notice, standing: lineage.Standing) -> dict[str, Any]:
    """A notice as ``GET /notices`` lists it."""
    return {
        "notice_id": n.id,
        "application_id": n.application_id,
        "line_id": n.line_id,
        "judgement_id": n.judgement_id,
        "sequence": standing.sequence,
        "supersedes_notice_id": n.supersedes_notice_id,
        "superseded_by": standing.superseded_by,
        "rejudgement_reason": n.rejudgement_reason,
        "employer_id": n.employer_id,
        "worker_id": n.worker_id,
        "trade": n.trade,
        "decision": n.decision,
        "requested_level": n.requested_level,
        "eligible_level": n.eligible_level,
        "card_colour": n.card_colour,
        "issued_on": n.issued_on.isoformat(),
        "verification_code": n.code,
        "sha256": n.sha256,
        "generated_at": n.generated_at.isoformat(),
        "pdf": f"/notices/{n.id}/pdf",
    }
