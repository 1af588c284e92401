"""The use cases over in-memory ports: one notice per judgement whatever is redelivered or
wherever a crash falls, a re-judgement's notice superseding the previous one, older
judgements arriving late; verification of a code and of a file (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from document.core import signing
from document.core.models import Employer, Notice
from document.core.service import DocumentService
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ResultNoticeGenerated
from shared_kernel.infra.mongo import APPLIED
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.testing import MemoryDocuments

from ..conftest import EMPLOYER, employer_activated, judged, rejudged

KEY = "test-signing-key-0123456789abcdef"
NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


class MemoryFiles:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def put_once(self, file_id: str, name: str, data: bytes) -> bytes:
        return self.files.setdefault(file_id, data)

    async def get(self, file_id: str) -> bytes | None:
        return self.files.get(file_id)


class FakeRenderer:
    """Renders a stand-in 'PDF' that records the context (deterministic like Typst)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Mapping[str, Any], str | None]] = []
        self.created: list[datetime | None] = []

    async def render(
        self,
        template: str,
        context: Mapping[str, Any],
        *,
        qr_url: str | None = None,
        created: datetime | None = None,
    ) -> bytes:
        self.calls.append((template, context, qr_url))
        self.created.append(created)
        return f"%PDF-fake {template} {sorted(context.items())} {qr_url} {created}".encode()


def make() -> tuple[DocumentService, MemoryDocuments, MemoryFiles, FakeRenderer]:
    notices, files, renderer = MemoryDocuments(), MemoryFiles(), FakeRenderer()
    service = DocumentService(
        Repository(notices, Notice),
        Repository(MemoryDocuments(), Employer),
        files,
        renderer,
        signing_key=KEY,
        public_base_url="https://verify.example.jp/",
        clock=lambda: NOW,
    )
    return service, notices, files, renderer


async def test_one_notice_per_judgement_even_for_a_redelivered_or_reissued_event() -> None:
    service, notices, files, renderer = make()
    await service.on_user(employer_activated(NOW))
    first = Envelope(judged("AP-7-1"), source="judgement")
    await service.on_judgement(first)
    await service.on_judgement(first)  # redelivered
    await service.on_judgement(Envelope(judged("AP-7-1"), source="judgement"))  # new event id
    assert list(notices.docs) == ["RN-AP-7-1"] and len(renderer.calls) == 1
    doc = notices.docs["RN-AP-7-1"]
    pdf = files.files["RN-AP-7-1"]
    assert doc["sha256"] == signing.content_hash(pdf)
    assert signing.verifies(KEY, doc["sha256"], doc["signature"])
    assert doc[APPLIED] == [first.id]
    code = signing.verification_code(KEY, "RN-AP-7-1")
    assert doc["code"] == code
    template, context, qr_url = renderer.calls[0]
    assert template == "result_notice.typ"
    assert renderer.created == [judged("AP-7-1").judged_at]  # the PDF's date: no clock
    assert qr_url == f"https://verify.example.jp/verify/{code}"
    assert context["employer_name"] == "株式会社髙﨑建設"
    [outbox] = notices.outbox()
    assert outbox["type"] == ResultNoticeGenerated.ce_type()
    assert outbox["payload"] == {
        "notice_id": "RN-AP-7-1",
        "judgement_id": "J-AP-7-1",
        "application_id": "AP-7",
        "line_id": "AP-7-1",
        "employer_id": EMPLOYER,
        "worker_id": "99000000000002",
        "document_id": "RN-AP-7-1",
        "sha256": doc["sha256"],
        "generated_at": "2026-11-21T02:00:00Z",
        "sequence": 1,
        "supersedes_notice_id": None,
    }
    assert (doc["sequence"], doc["supersedes_notice_id"]) == (1, None)


async def test_after_a_crash_between_upload_and_notice_the_stored_file_is_signed() -> None:
    service, notices, files, renderer = make()
    files.files["RN-AP-8-1"] = b"%PDF-stored by the first attempt"
    await service.on_judgement(Envelope(judged("AP-8-1")))
    assert renderer.calls == []  # not rendered again
    assert notices.docs["RN-AP-8-1"]["sha256"] == signing.content_hash(
        b"%PDF-stored by the first attempt"
    )


async def test_unknown_employer_prints_the_employer_id() -> None:
    service, _, _, renderer = make()
    await service.on_judgement(Envelope(judged("AP-9-1", employer="55555555555555")))
    assert renderer.calls[0][1]["employer_name"] == "事業者ID 55555555555555"


async def test_verification_by_code_and_by_file() -> None:
    service, notices, files, _ = make()
    await service.on_judgement(Envelope(judged("AP-10-1", approved=False)))
    doc = notices.docs["RN-AP-10-1"]
    typed = doc["code"].lower().replace("-", " ")
    verified = await service.verify_code(typed)
    assert verified is not None
    assert (verified["authentic"], verified["eligible_level"], verified["decision"]) == (
        True,
        2,
        "rejected",
    )
    assert verified["worker_id"] == "9900******0002" and verified["issued_on"] == "2026-11-21"
    assert await service.verify_code("AAAA-BBBB-CCCC-DDDD") is None
    assert await service.verify_code("not a code") is None

    pdf = files.files["RN-AP-10-1"]
    by_file = await service.verify_file(pdf)
    assert by_file is not None and by_file["notice_id"] == "RN-AP-10-1" and by_file["authentic"]
    assert await service.verify_file(pdf + b"%tampered") is None

    files.files["RN-AP-10-1"] = pdf + b"%altered in storage"
    tampered = await service.verify_code(doc["code"])
    assert tampered is not None
    assert (tampered["authentic"], tampered["signature_valid"], tampered["file_intact"]) == (
        False,
        True,
        False,
    )


async def test_consent_form_uses_the_known_employer_name_when_none_is_given() -> None:
    service, _, _, renderer = make()
    named = Employer(id=EMPLOYER, employer_name="株式会社髙﨑建設")
    await service.employers.update(EMPLOYER, lambda _: (named, []))
    await service.consent_form(
        employer_id=EMPLOYER,
        employer_name=None,
        worker_name="𠮷田 茂",
        worker_name_kana="ヨシダ シゲル",
        worker_id=None,
    )
    assert renderer.calls[-1][:2] == (
        "consent_form.typ",
        {
            "employer_name": "株式会社髙﨑建設",
            "worker_name": "𠮷田 茂",
            "worker_name_kana": "ヨシダ シゲル",
            "worker_id": None,
        },
    )


async def test_a_rejudgement_gets_its_own_notice_superseding_the_previous() -> None:
    service, notices, files, renderer = make()
    await service.on_judgement(Envelope(judged("AP-20-1", approved=False)))
    second = Envelope(rejudged("AP-20-1", 2, approved=True), source="judgement")
    await service.on_judgement(second)
    await service.on_judgement(second)  # redelivered
    await service.on_judgement(Envelope(rejudged("AP-20-1", 2)))  # replayed with a new id
    assert sorted(notices.docs) == ["RN-AP-20-1", "RN-AP-20-1-2"] and len(renderer.calls) == 2
    first, new = notices.docs["RN-AP-20-1"], notices.docs["RN-AP-20-1-2"]
    assert first[APPLIED] != [] and new[APPLIED] == [second.id]
    assert (new["sequence"], new["supersedes_notice_id"], new["judgement_id"]) == (
        2,
        "RN-AP-20-1",
        "J-AP-20-1-RJ-20261201",
    )
    assert (new["eligible_level"], new["issued_on"], new["code"]) == (
        3,
        "2026-12-01",
        signing.verification_code(KEY, "RN-AP-20-1-2"),
    )
    assert new["rejudgement_reason"] == "判定基準の改定（電気工事@2026-12-01）"
    assert new["sha256"] == signing.content_hash(files.files["RN-AP-20-1-2"])
    # nothing written to the first notice: its standing is derived when read
    assert "superseded_by" not in first and first["version"] == 1
    context = renderer.calls[1][1]
    assert context["number"] == "RN-AP-20-1-2"
    assert context["rejudgement"]["previous_number"] == "RN-AP-20-1"
    [generated] = [o for o in notices.outbox() if o["payload"]["notice_id"] == "RN-AP-20-1-2"]
    assert (generated["payload"]["sequence"], generated["payload"]["supersedes_notice_id"]) == (
        2,
        "RN-AP-20-1",
    )

    [(old, old_standing), (current, standing)] = await service.notices_of(EMPLOYER, "AP-20")
    assert (old.id, old_standing.superseded_by, old_standing.current_notice_id) == (
        "RN-AP-20-1",
        "RN-AP-20-1-2",
        "RN-AP-20-1-2",
    )
    assert (current.id, standing.current) == ("RN-AP-20-1-2", True)

    by_code = await service.verify_code(first["code"])
    assert by_code is not None
    assert (by_code["authentic"], by_code["current"], by_code["current_notice_id"]) == (
        True,
        False,
        "RN-AP-20-1-2",
    )
    assert by_code["message"].startswith("この結果通知書は再判定により更新されています。")
    assert "RN-AP-20-1-2（令和8年12月1日付け）" in by_code["message"]
    by_file = await service.verify_file(files.files["RN-AP-20-1"])
    assert by_file is not None and by_file["message"] == by_code["message"]
    assert await service.pdf("RN-AP-20-1") is not None  # still downloadable
    now_current = await service.verify_code(new["code"])
    assert now_current is not None and now_current["current"] and now_current["authentic"]
    assert now_current["superseded_by"] is None and now_current["sequence"] == 2


async def test_an_older_judgement_arriving_after_a_newer_one_creates_nothing() -> None:
    service, notices, _, renderer = make()
    await service.on_judgement(Envelope(rejudged("AP-21-1", 2)))
    assert list(notices.docs) == ["RN-AP-21-1-2"]
    # it names the notice the previous judgement gets, though that is not held (yet)
    assert notices.docs["RN-AP-21-1-2"]["supersedes_notice_id"] == "RN-AP-21-1"
    await service.on_judgement(Envelope(judged("AP-21-1")))  # sequence 1, late
    assert list(notices.docs) == ["RN-AP-21-1-2"] and len(renderer.calls) == 1


async def test_a_skipped_judgement_is_superseded_by_number_of_the_notice_held() -> None:
    service, notices, _, renderer = make()
    await service.on_judgement(Envelope(judged("AP-22-1")))
    await service.on_judgement(Envelope(rejudged("AP-22-1", 3, run_id="RJ-3")))
    await service.on_judgement(Envelope(rejudged("AP-22-1", 2, run_id="RJ-2")))  # late: nothing
    assert sorted(notices.docs) == ["RN-AP-22-1", "RN-AP-22-1-3"]
    # the holder of RN-AP-22-1 is told which notice replaces it
    assert notices.docs["RN-AP-22-1-3"]["supersedes_notice_id"] == "RN-AP-22-1"
    assert renderer.calls[-1][1]["rejudgement"]["previous_number"] == "RN-AP-22-1"
    [(first, standing), _] = await service.notices_of(None, None)
    assert (first.id, standing.superseded_by) == ("RN-AP-22-1", "RN-AP-22-1-3")


async def test_a_rejudgements_crash_between_upload_and_notice_signs_the_stored_file() -> None:
    service, notices, files, renderer = make()
    await service.on_judgement(Envelope(judged("AP-23-1")))
    files.files["RN-AP-23-1-2"] = b"%PDF-stored by the first attempt"
    await service.on_judgement(Envelope(rejudged("AP-23-1", 2)))
    assert len(renderer.calls) == 1  # the re-judgement's notice was not rendered again
    assert notices.docs["RN-AP-23-1-2"]["sha256"] == signing.content_hash(
        b"%PDF-stored by the first attempt"
    )


async def test_listed_by_line_then_sequence_numerically() -> None:
    service, _, _, _ = make()
    await service.on_judgement(Envelope(judged("AP-24-2")))
    for sequence in (2, 10):  # 3 … 9 never reached this service
        await service.on_judgement(Envelope(rejudged("AP-24-2", sequence, run_id=f"R{sequence}")))
    await service.on_judgement(Envelope(judged("AP-24-10")))
    listed = await service.notices_of(EMPLOYER, "AP-24")
    assert [(d.id, s.superseded_by) for d, s in listed] == [
        ("RN-AP-24-2", "RN-AP-24-2-2"),
        ("RN-AP-24-2-2", "RN-AP-24-2-10"),
        ("RN-AP-24-2-10", None),
        ("RN-AP-24-10", None),
    ]
