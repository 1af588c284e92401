"""Hostile signed forms: active PDF content, decompression bombs, disguised and broken files.

Every refusal has a stable code and a Japanese message; nothing but ``ConsentError`` ever
comes out of ``inspect``, whatever the bytes (a property test).
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from consent.core.errors import ConsentError
from consent.core.files import (
    JPEG,
    MAX_IMAGE_PIXELS,
    PDF,
    PNG,
    image_pixels,
    inspect,
    pdf_active_content,
)

LIMIT = 10 * 1024 * 1024
JAPANESE = "ぁ-んァ-ヶ一-龯"


def refused(data: bytes, name: str = "同意書.pdf") -> ConsentError:
    with pytest.raises(ConsentError) as caught:
        inspect(data, name, LIMIT)
    return caught.value


def pdf(*objects: bytes) -> bytes:
    body = b"".join(b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n" for i, o in enumerate(objects))
    return b"%PDF-1.7\n" + body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    crc = struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 1024)  # a few bytes that would inflate to gigabytes
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + crc
        + struct.pack(">I", len(idat))
        + b"IDAT"
        + idat
        + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
        + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )


def jpeg_sof(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = (
        b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", height, width) + b"\x03" + b"\x01\x11\x00" * 3
    )
    return b"\xff\xd8" + app0 + sof + b"\xff\xda\x00\x08\x01\x01\x00\x00?\x00" + b"\x00" * 64


def real_image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(out, fmt)
    return out.getvalue()


def is_japanese(text: str) -> bool:
    import re

    return re.search(f"[{JAPANESE}]", text) is not None


JS_PDFS = {
    "OpenAction JavaScript": pdf(
        b"<< /Type /Catalog /OpenAction 2 0 R >>",
        b"<< /S /JavaScript /JS (app.alert\\('x'\\)) >>",
    ),
    "names tree": pdf(b"<< /Type /Catalog /Names << /JavaScript 2 0 R >> >>", b"<< >>"),
    "escaped name": pdf(b"<< /Type /Catalog /OpenAction << /S /Java#53cript /J#53 (x) >> >>"),
    "launch": pdf(b"<< /Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >> >>"),
}


@pytest.mark.parametrize("name", sorted(JS_PDFS))
def test_a_pdf_with_active_content_is_refused(name: str) -> None:
    error = refused(JS_PDFS[name])
    assert error.code == "pdf_active_content"
    assert is_japanese(error.message_ja)
    assert error.errors[0]["field"] == "signed_form"


def test_javascript_hidden_in_a_compressed_object_stream_is_found() -> None:
    hidden = zlib.compress(b"2 0 << /S /JavaScript /JS (app.alert(1)) >>")
    data = pdf(
        b"<< /Type /Catalog /OpenAction 2 0 R >>",
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(hidden)
        + hidden
        + b"\nendstream",
    )
    assert pdf_active_content(data) in ("JS", "JavaScript")
    assert refused(data).code == "pdf_active_content"


def test_the_bytes_of_a_js_name_inside_image_data_are_not_active_content() -> None:
    image = b"\x00\x01/JS (not a name, just pixels) /JavaScript\xff"
    data = pdf(
        b"<< /Type /Catalog >>",
        b"<< /Type /XObject /Subtype /Image /Filter /DCTDecode /Length %d >>\nstream\n" % len(image)
        + image
        + b"\nendstream",
    )
    assert inspect(data, "scan.pdf", LIMIT).kind is PDF


def test_a_real_pdf_and_real_images_pass() -> None:
    scanned = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(scanned, "PDF")
    assert inspect(scanned.getvalue(), "scan.pdf", LIMIT).kind is PDF
    assert inspect(real_image("PNG"), "scan.png", LIMIT).kind is PNG
    assert inspect(real_image("JPEG"), "scan.jpg", LIMIT).kind is JPEG
    assert image_pixels(real_image("PNG"), PNG) == 200 * 100
    assert image_pixels(real_image("JPEG"), JPEG) == 200 * 100


@pytest.mark.parametrize(
    ("data", "kind"),
    [(png_header(50_000, 50_000), "png"), (jpeg_sof(65_535, 65_535), "jpeg")],
)
def test_a_decompression_bomb_is_refused_from_its_header(data: bytes, kind: str) -> None:
    assert len(data) < 2048  # tiny file, billions of pixels
    error = refused(data, f"scan.{kind}")
    assert error.code == "image_too_large"
    assert is_japanese(error.message_ja)
    assert f"{MAX_IMAGE_PIXELS:,}" in error.message_ja


def test_an_image_at_the_pixel_limit_passes_and_one_more_row_does_not() -> None:
    width = 10_000
    height = MAX_IMAGE_PIXELS // width
    assert inspect(png_header(width, height), "a.png", LIMIT).kind is PNG
    assert refused(png_header(width, height + 1), "a.png").code == "image_too_large"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"%PDF-" + b"0" * LIMIT, "file_too_large"),
        (b"MZ\x90\x00" + b"\x00" * 64, "unsupported_file_type"),  # an .exe named .pdf
        (b"PK\x03\x04" + b"\x00" * 64, "unsupported_file_type"),  # a zip named .pdf
        (b"<html><script>alert(1)</script>", "unsupported_file_type"),
        (b" %PDF-1.7", "unsupported_file_type"),  # the magic must come first
    ],
)
def test_empty_oversized_and_disguised_files_are_refused(data: bytes, code: str) -> None:
    error = refused(data, "同意書.pdf")
    assert error.code == code
    assert is_japanese(error.message_ja)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=512),
        st.sampled_from([b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"]).flatmap(
            lambda magic: st.binary(max_size=512).map(lambda rest: magic + rest)
        ),
    ),
    st.one_of(st.none(), st.text(max_size=120)),
)
def test_inspect_never_fails_with_anything_but_a_consent_error(
    data: bytes, name: str | None
) -> None:
    try:
        signed = inspect(data, name, 4096)
    except ConsentError as error:
        assert error.code and is_japanese(error.message_ja)
    else:
        assert signed.filename.endswith("." + signed.kind.extension)
        assert "/" not in signed.filename and "\\" not in signed.filename
