"""The signed consent form is checked by its content (magic bytes), never by its name."""

from __future__ import annotations

import hashlib

import pytest

from consent.core.errors import ConsentError
from consent.core.files import JPEG, PDF, PNG, detect, inspect, stored_name

MB = 1024 * 1024
LIMIT = 10 * MB
PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64


def refused(data: bytes, filename: str | None) -> ConsentError:
    with pytest.raises(ConsentError) as caught:
        inspect(data, filename, LIMIT)
    return caught.value


def test_a_renamed_exe_is_refused_whatever_its_name() -> None:
    for name in ("同意書.pdf", "scan.png", "scan.jpg"):
        error = refused(EXE_BYTES, name)
        assert error.code == "unsupported_file_type"
        assert error.message == (
            "添付できるのはPDF・JPEG・PNGのファイルだけです（ファイル名ではなく内容で判定しています）。"
        )
        assert error.body()["errors"] == [
            {"field": "signed_form", "message": "PDF・JPEG・PNGのファイルを添付してください"}
        ]


def test_an_empty_file_is_refused() -> None:
    error = refused(b"", "同意書.pdf")
    assert (error.code, error.message) == (
        "empty_file",
        "ファイルが空です。署名済みの同意書を添付してください。",
    )


def test_an_11_mb_file_is_refused_and_10_mb_is_accepted() -> None:
    error = refused(PDF_BYTES + b"\x00" * (11 * MB), "大きい.pdf")
    assert (error.code, error.message) == (
        "file_too_large",
        "ファイルサイズが上限（10MB）を超えています。",
    )
    exactly = PDF_BYTES + b"\x00" * (LIMIT - len(PDF_BYTES))
    assert inspect(exactly, "ok.pdf", LIMIT).size == LIMIT
    assert refused(exactly + b"\x00", "ok.pdf").code == "file_too_large"


def test_a_pdf_named_png_is_accepted_as_a_pdf() -> None:
    signed = inspect(PDF_BYTES, "scan.png", LIMIT)
    assert signed.kind is PDF
    assert signed.kind.content_type == "application/pdf"
    assert signed.filename == "scan.pdf"
    assert signed.size == len(PDF_BYTES)
    assert signed.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()


def test_a_png_named_pdf_is_accepted_as_a_png() -> None:
    signed = inspect(PNG_BYTES, "同意書_山田.pdf", LIMIT)
    assert (signed.kind, signed.kind.content_type, signed.filename) == (
        PNG,
        "image/png",
        "同意書_山田.png",
    )


def test_a_jpeg_without_a_name_gets_a_default_one() -> None:
    signed = inspect(JPEG_BYTES, None, LIMIT)
    assert (signed.kind, signed.filename) == (JPEG, "個人情報利用同意書.jpg")


def test_magic_bytes_must_be_at_the_start() -> None:
    assert detect(b" %PDF-1.7") is None
    assert detect(b"\x89PNG\r\n\x1a") is None  # truncated signature
    assert detect(b"\xff\xd8") is None
    assert detect(b"%PDF-") is PDF


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("C:\\Users\\a\\署名済み.PDF", "署名済み.pdf"),
        ("a<b>:c?.pdf", "abc.pdf"),
        ("ｽｷｬﾝ.pdf", "ｽｷｬﾝ.pdf"),  # NFC only: half-width kana stay as they are
        ("...", "個人情報利用同意書.pdf"),
        ("report.final.exe", "report.final.pdf"),
        ("x" * 200 + ".pdf", "x" * 80 + ".pdf"),
    ],
)
def test_stored_names_are_safe_and_carry_the_real_extension(name: str, expected: str) -> None:
    assert stored_name(name, PDF) == expected


@pytest.mark.parametrize(
    ("name", "described"),
    [
        ("同意書\u202efdp.exe", "U+202E：書字方向の制御文字"),  # RLO: shows as 同意書exe.pdf
        ("同意書\u202dabc.pdf", "U+202D：書字方向の制御文字"),  # LRO
        ("同意書\u2067x\u2069.pdf", "U+2067：書字方向の制御文字"),  # RLI … PDI
        ("同意書\u2028.pdf", "U+2028：行区切り文字"),
        ("同意書\u2029.pdf", "U+2029：段落区切り文字"),
        ("同意書\x0d\x0a.pdf", "U+000D：制御文字"),
        ("同意書\x9b.pdf", "U+009B：制御文字"),  # C1 (CSI)
        ("同意書\ufeff.pdf", "U+FEFF：書式制御文字"),
    ],
)
def test_control_and_bidi_characters_in_a_file_name_are_refused(name: str, described: str) -> None:
    """Issue 22, finding 10: refused with a Japanese 422, never silently kept or removed."""
    error = refused(PDF_BYTES, name)
    assert error.code == "invalid_file_name"
    assert error.message.startswith("ファイル名に使用できない文字")
    assert error.body()["errors"] == [
        {
            "field": "signed_form",
            "message": f"ファイル名に使用できない文字（{described}）が含まれています",
        }
    ]
