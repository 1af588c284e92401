"""Reading an uploaded PDF and choosing JSON or HTML (pure HTTP helpers)."""

from __future__ import annotations

import os

import httpx
import pytest

from document.adapters.inbound.uploads import uploaded_pdf, wants_html

PDF = b"%PDF-1.7\r\n" + os.urandom(5000) + b"\n\r\n\r--boundary-like\r\n%%EOF\n"


def multipart(files: dict[str, tuple[str, bytes, str]], data: dict[str, str]) -> tuple[str, bytes]:
    request = httpx.Request("POST", "http://document/verify", files=files, data=data)
    return request.headers["content-type"], request.read()


def test_raw_pdf_body() -> None:
    assert uploaded_pdf("application/pdf", PDF) == PDF
    assert uploaded_pdf("application/octet-stream", PDF) == PDF
    assert uploaded_pdf("application/pdf", b"not a pdf") is None


def test_multipart_upload_is_read_byte_for_byte() -> None:
    content_type, body = multipart({"file": ("notice.pdf", PDF, "application/pdf")}, {"a": "b"})
    assert uploaded_pdf(content_type, body) == PDF


def test_multipart_without_a_pdf_file() -> None:
    content_type, body = multipart({"file": ("notes.txt", b"hello", "text/plain")}, {})
    assert uploaded_pdf(content_type, body) is None
    assert uploaded_pdf("multipart/form-data; boundary=x", b"garbage") is None


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("application/json", False),
        ("*/*", False),
        (None, False),
        ("", False),
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=0", False),
        ("text/html;q=abc", False),
    ],
)
def test_browsers_get_the_page_api_clients_json(accept: str | None, html: bool) -> None:
    assert wants_html(accept) is html
