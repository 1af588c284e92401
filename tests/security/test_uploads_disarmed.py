"""Uploaded signed forms are parsed and written anew (issue 22, finding 6; the file-name part
of finding 10).

Before, ``consent/core/files.py`` scanned the bytes for ``/JS``, ``/JavaScript`` and
``/Launch``; five files went through (``hostile_files.BYPASSES``) and were stored and
served as ``application/pdf``. Now every file goes through the real endpoint
``PUT /consents/{id}/signed-form`` of the running stack, and what the service stores and
serves is parsed again here with pikepdf (``hostile_files.active_content``, a check of
its own): no JavaScript, action, XFA, form or embedded file is left, and the page's own
content is. Images are encoded again without metadata; what cannot be parsed, a file name
with control or bidirectional characters, and a file that takes too long are refused with
a Japanese 422; the size limit still comes before any parsing, and the parsing runs off
the event loop.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx
import pikepdf
import pytest
from PIL import Image

from consent.core import files

from . import hostile_files
from .conftest import HTML, PDF, SECOND_WORKER_B, Stack, _demo_snapshots
from .test_access_matrix import csrf_of
from .test_body_limits import portal_as

JAPANESE = re.compile(r"[ぁ-んァ-ヶ一-龯]")
ITEMS = {"view_ccus_data": True, "proxy_application": True, "card_issuance": True, "fee": True}


@pytest.fixture
async def pending(stack: Stack) -> AsyncIterator[str]:
    """A consent of employer A that stays 申請中 whatever is attached (no auto-approval while
    the test runs), so that every upload is stored and served."""
    service = stack.container("consent").service
    policy = service.policy
    service.policy = replace(policy, auto_approve=False)
    snapshot = next(s for s in _demo_snapshots() if s.worker_id == SECOND_WORKER_B)
    filed = await stack.client("consent").post(
        "/consent-applications",
        headers=stack.headers["employer_a"],
        json={
            "employer": {
                "employer_name": "株式会社安全建設",
                "representative_name": "安全 太郎",
                "address": "東京都千代田区霞が関1-1",
                "phone_number": "03-1234-5678",
            },
            "workers": [
                {
                    "worker_id": SECOND_WORKER_B,
                    "name": snapshot.name,
                    "name_kana": snapshot.name_kana,
                    "birth_date": snapshot.birth_date.isoformat(),
                }
            ],
            "consent_items": ITEMS,
        },
    )
    assert filed.status_code == 201, filed.text
    try:
        yield filed.json()["consents"][0]["consent_id"]
    finally:
        service.policy = policy


async def upload(
    stack: Stack, consent_id: str, data: Any, name: str, ctype: str = "application/pdf"
) -> httpx.Response:
    return await stack.client("consent").put(
        f"/consents/{consent_id}/signed-form",
        content=data,
        headers={
            **stack.headers["employer_a"],
            "Content-Type": ctype,
            "X-File-Name": quote(name),
        },
    )


async def served(stack: Stack, consent_id: str) -> httpx.Response:
    answer = await stack.client("consent").get(
        f"/consents/{consent_id}/signed-form", headers=stack.headers["evaluator_all"]
    )
    assert answer.status_code == 200, answer.text
    return answer


async def stored_files(stack: Stack) -> int:
    db = stack.container("consent").runtime.db
    return int(await db["signed_forms.files"].count_documents({}))


@pytest.mark.parametrize("name", sorted(hostile_files.BYPASSES))
async def test_each_file_that_went_through_the_old_scan_is_stored_disarmed(
    stack: Stack, pending: str, name: str
) -> None:
    data = hostile_files.BYPASSES[name]()
    assert hostile_files.active_content(data)  # it does carry a script
    assert hostile_files.PAGE_TEXT in hostile_files.page_text(data)

    answer = await upload(stack, pending, data, f"{name}.pdf")
    assert answer.status_code == 200, answer.text
    form = answer.json()["signed_form"]
    assert (form["content_type"], form["filename"]) == ("application/pdf", f"{name}.pdf")

    evaluator_copy = await served(stack, pending)  # what an evaluator opens
    stored = await stack.container("consent").service.files.get(form["file_id"])
    assert stored == evaluator_copy.content != data
    assert evaluator_copy.headers["content-type"] == "application/pdf"
    assert hostile_files.active_content(stored) == []
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}
        assert len(pdf.pages) == 1
    # the signed page itself is still there
    assert hostile_files.PAGE_TEXT in hostile_files.page_text(stored)


@pytest.mark.parametrize("name", sorted(hostile_files.MORE))
async def test_embedded_files_links_and_page_actions_are_left_behind(
    stack: Stack, pending: str, name: str
) -> None:
    data = hostile_files.MORE[name]()
    assert hostile_files.active_content(data)
    answer = await upload(stack, pending, data, f"{name}.pdf")
    assert answer.status_code == 200, answer.text
    stored = (await served(stack, pending)).content
    assert hostile_files.active_content(stored) == []
    assert b"MZ\x90" not in stored and b"attacker.example" not in stored
    assert hostile_files.PAGE_TEXT in hostile_files.page_text(stored)


async def test_a_signature_added_in_a_viewer_stays_visible(stack: Stack, pending: str) -> None:
    data = hostile_files.signature_annotation()
    answer = await upload(stack, pending, data, "署名済み.pdf")
    assert answer.status_code == 200, answer.text
    stored = (await served(stack, pending)).content
    assert hostile_files.active_content(stored) == []  # no annotation left …
    assert hostile_files.SIGNATURE_TEXT in hostile_files.page_text(stored)  # … but drawn


async def test_the_portal_upload_ends_disarmed_too(stack: Stack, pending: str) -> None:
    hostile = ("同意書.pdf", hostile_files.comment_stream(), "application/pdf")
    async with portal_as(stack, "employer_a") as client:
        token = csrf_of(await client.get("/consents", headers=HTML))
        sent = await client.post(
            f"/consents/{pending}/signed-form",
            data={"csrf_token": token},
            files={"signed_form": hostile},
            headers=HTML,
        )
        assert sent.status_code == 303, sent.text[:500]
        download = await client.get(f"/consents/{pending}/signed-form", headers=HTML)
    assert download.status_code == 200
    assert hostile_files.active_content(download.content) == []


async def test_images_are_stored_encoded_again_without_metadata(stack: Stack, pending: str) -> None:
    photo = Image.new("RGB", (640, 480), "white")
    exif = photo.getexif()
    exif[0x010F] = "Camera"
    exif[0x8825] = {1: "N", 2: (35.0, 41.0, 0.0)}  # where the photo was taken
    raw = io.BytesIO()
    photo.save(raw, "JPEG", exif=exif.tobytes(), comment=b"hidden comment")
    data = raw.getvalue() + b"PK\x03\x04 a zip after the image"
    answer = await upload(stack, pending, data, "scan.jpg", "image/jpeg")
    assert answer.status_code == 200, answer.text
    assert answer.json()["signed_form"]["content_type"] == "image/jpeg"
    stored = (await served(stack, pending)).content
    assert b"PK\x03\x04" not in stored and b"hidden comment" not in stored
    with Image.open(io.BytesIO(stored)) as again:
        assert again.format == "JPEG" and again.size == (640, 480)
        assert not dict(again.getexif())


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDF-1.4\n% only a header\n%%EOF\n", "pdf_unreadable"),
        (hostile_files.raw_pdf({1: b"<< /Type /Catalog >>"}), "pdf_unreadable"),  # no pages
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image_unreadable"),
    ],
)
async def test_what_cannot_be_parsed_is_refused_in_japanese_and_not_stored(
    stack: Stack, pending: str, data: bytes, code: str
) -> None:
    before = await stored_files(stack)
    kind = "image/png" if data.startswith(b"\x89PNG") else "application/pdf"
    answer = await upload(stack, pending, data, "x.pdf", kind)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == code
    assert JAPANESE.search(answer.json()["message"])
    assert await stored_files(stack) == before


@pytest.mark.parametrize(
    "name",
    [
        "同意書\u202efdp.exe",  # RLO: would show as 同意書exe.pdf
        "同意書\u202d.pdf",  # LRO
        "同意書\u2066x\u2069.pdf",  # LRI … PDI
        "同意書\u2028.pdf",  # line separator
        "同意書\x1b[31m.pdf",  # C0 (an escape sequence)
        "同意書\x9b31m.pdf",  # C1
    ],
)
async def test_file_names_with_control_or_bidi_characters_are_refused(
    stack: Stack, pending: str, name: str
) -> None:
    """Issue 22, finding 10: the X-File-Name (percent-encoded UTF-8) is refused, not kept."""
    before = await stored_files(stack)
    answer = await upload(stack, pending, PDF, name)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "invalid_file_name"
    assert body["message"].startswith("ファイル名に使用できない文字")
    assert await stored_files(stack) == before


async def test_the_size_limit_comes_before_any_parsing(
    stack: Stack, pending: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[int] = []
    original = files.disarm

    def counting(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        parsed.append(len(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(files, "disarm", counting)
    limit = stack.settings["consent"].max_upload_bytes
    too_big = hostile_files.padded_object_stream() + b"%" + b"0" * limit
    answer = await upload(stack, pending, too_big, "big.pdf")
    assert (answer.status_code, answer.json()["code"]) == (413, "file_too_large")

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length
        yield hostile_files.comment_stream()
        for _ in range(limit // 65536 + 2):
            yield b"%" + b"0" * 65535

    answer = await upload(stack, pending, streamed(), "big.pdf")
    assert (answer.status_code, answer.json()["code"]) == (413, "file_too_large")
    assert parsed == []  # never parsed
    assert (await upload(stack, pending, PDF, "ok.pdf")).status_code == 200
    assert parsed == [len(PDF)]


async def test_parsing_runs_off_the_event_loop_within_a_time_limit(
    stack: Stack, pending: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = stack.container("consent").service
    monkeypatch.setattr(service, "uploads", replace(service.uploads, timeout_seconds=0.5))
    released: list[float] = []

    def slow(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        time.sleep(3)  # a parse that takes too long (qpdf cannot be interrupted)
        released.append(time.monotonic())
        return data

    monkeypatch.setattr(files, "disarm", slow)
    before = await stored_files(stack)
    answer, probed_at = await asyncio.gather(
        upload(stack, pending, PDF, "slow.pdf"), _probe_while_busy(stack)
    )
    answered_at = time.monotonic()
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "file_processing_timeout"
    assert JAPANESE.search(answer.json()["message"])
    assert await stored_files(stack) == before
    await _wait_for(lambda: bool(released))
    assert released, "the slow parse never ended"
    assert answered_at < released[0]  # answered at the limit, not when the parse ended
    assert probed_at < released[0]  # the event loop served another request meanwhile


async def _probe_while_busy(stack: Stack) -> float:
    await asyncio.sleep(0.1)
    answer = await stack.client("consent").get("/healthz")
    assert answer.status_code == 200
    return time.monotonic()


async def _wait_for(done: Callable[[], bool]) -> None:
    for _ in range(400):  # 20 s at most
        if done():
            return
        await asyncio.sleep(0.05)
