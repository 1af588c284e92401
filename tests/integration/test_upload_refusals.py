"""Hostile uploads over HTTP, against the real services (database, GridFS, Kafka).

* consent ``PUT /consents/{id}/signed-form``: empty, oversized (declared and streamed),
  a disguised executable, a decompression-bomb PNG and a file name with an RLO are refused
  with a stable code and a Japanese message before anything is parsed, and nothing is
  stored (PDFs with JavaScript are written anew without it:
  ``tests/security/test_uploads_disarmed.py``);
* document ``POST /verify``: empty, oversized and non-PDF bodies are refused; a PDF with
  JavaScript is only hashed, never opened, so it is simply "not issued by us".
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from consent.config import Settings as ConsentSettings
from consent.inject import create_app as create_consent_app
from document.config import Settings as DocumentSettings
from document.inject import create_app as create_document_app
from shared_kernel.infra.mongo import connect
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import isolated, signed_token
from shared_kernel.principal import Principal

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
JS_PDF = (
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /OpenAction 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /S /JavaScript /JS (app.alert\\(1\\)) >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n"
    b"%%EOF\n"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    chunk = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d"
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(idat))
        + b"IDAT"
        + idat
        + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    )


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert JAPANESE.search(body["message"]), body


async def _chunks(size: int) -> AsyncIterator[bytes]:
    yield b"%PDF-1.7\n"
    sent = 9
    while sent <= size:
        yield b"0" * 65536
        sent += 65536


async def test_consent_refuses_hostile_signed_forms(settings: ServiceSettings) -> None:
    s = isolated(
        ConsentSettings,
        topic_prefix=settings.topic_prefix,
        db_name=settings.db_name,
        max_upload_bytes=1024 * 1024,
    )
    app = create_consent_app(s)
    token = signed_token(
        Principal(subject="kensetsu01", role="employer", employer_id="10000000000001"),
    )
    auth = {"Authorization": f"Bearer {token}"}
    url = "/consents/10000000000001-20000000000001/signed-form"
    mongo = connect(s.mongodb_url)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://consent"
            ) as http,
        ):

            async def put(content: Any, ctype: str, name: str) -> httpx.Response:
                headers = {**auth, "Content-Type": ctype, "X-File-Name": name}
                return await http.put(url, content=content, headers=headers)

            assert_refused(await put(b"", "application/pdf", "a.pdf"), 422, "empty_file")
            assert_refused(
                await put(b"%PDF-" + b"0" * (1024 * 1024), "application/pdf", "a.pdf"),
                413,
                "file_too_large",
            )
            streamed = await put(_chunks(2 * 1024 * 1024), "application/pdf", "a.pdf")
            assert_refused(streamed, 413, "file_too_large")
            assert_refused(await put(EXE, "application/pdf", "a.pdf"), 415, "unsupported_file_type")
            # a PDF with JavaScript passes the checks made before parsing; the parse (which
            # writes it anew without the script, tests/security/test_uploads_disarmed.py)
            # only comes for a consent the caller owns: here there is none
            assert_refused(await put(JS_PDF, "application/pdf", "a.pdf"), 404, "not_found")
            rlo = await put(JS_PDF, "application/pdf", "a%E2%80%AEpdf.exe")  # a<RLO>pdf.exe
            assert_refused(rlo, 422, "invalid_file_name")
            assert_refused(await put(bomb_png(), "image/png", "a.png"), 422, "image_too_large")
            # nothing was stored: no GridFS file, no consent touched
            db = mongo[s.db_name]
            assert await db["signed_forms.files"].count_documents({}) == 0
            assert await db["consents"].count_documents({}) == 0
    finally:
        await mongo.drop_database(s.db_name)
        await mongo.close()


async def test_document_verify_refuses_what_is_not_a_pdf(settings: ServiceSettings) -> None:
    s = isolated(
        DocumentSettings,
        topic_prefix=settings.topic_prefix,
        db_name=settings.db_name,
        DOCUMENT_SIGNING_KEY="upload-refusals-signing-key-0123456789abcdef",
    )
    app = create_document_app(s)
    mongo = connect(s.mongodb_url)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://document"
            ) as http,
        ):

            async def post(content: Any, ctype: str = "application/pdf") -> httpx.Response:
                return await http.post("/verify", content=content, headers={"Content-Type": ctype})

            assert_refused(await post(b""), 422, "not_a_pdf")
            assert_refused(await post(EXE), 422, "not_a_pdf")  # an .exe sent as a PDF
            assert_refused(await post(bomb_png(), "image/png"), 422, "not_a_pdf")
            assert_refused(await post(b"%PDF-" + b"0" * (11 * 1024 * 1024)), 413, "file_too_large")
            assert_refused(await post(_chunks(11 * 1024 * 1024)), 413, "file_too_large")
            garbled = await post(b"--x\r\nnot a multipart body", "multipart/form-data; boundary=x")
            assert_refused(garbled, 422, "not_a_pdf")
            # hashed only, never rendered or stored: JavaScript in it is harmless
            scripted = await post(JS_PDF)
            assert scripted.status_code == 200
            assert scripted.json()["authentic"] is False
    finally:
        await mongo.drop_database(s.db_name)
        await mongo.close()
