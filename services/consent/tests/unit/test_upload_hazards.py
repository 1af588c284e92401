"""Hostile signed forms: active PDF content, decompression bombs, disguised and broken files.

Every refusal has a stable code and a Japanese message; nothing but ``ConsentError`` ever
comes out of ``inspect`` or ``disarm``, whatever the bytes (property tests). PDFs with
active content are not refused: they are written anew without it (``disarm``); the five
files that went through the old byte scan are in ``tests/security/hostile_files.py`` and
are tested over HTTP there (``tests/security/test_uploads_disarmed.py``).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from consent.adapters.outbound.disarm import disarm as qpdf_and_pillow
from consent.adapters.outbound.disarm import leftovers
from consent.core.errors import ConsentError
from consent.core.files import (
    JPEG,
    MAX_IMAGE_PIXELS,
    PDF,
    PNG,
    image_pixels,
    inspect,
)
from consent.core.files import disarm as disarm_with


def disarm(data: bytes, kind: object, **limits: int) -> bytes:
    """What the service does: the core's check around the qpdf/Pillow adapter."""
    return disarm_with(data, kind, disarmer=qpdf_and_pillow, **limits)  # type: ignore[arg-type]


LIMIT = 10 * 1024 * 1024
JAPANESE = "ぁ-んァ-ヶ一-龯"


def refused(data: bytes, name: str = "同意書.pdf") -> ConsentError:
    with pytest.raises(ConsentError) as caught:
        inspect(data, name, LIMIT)
    return caught.value


def disarm_refused(data: bytes, kind: object = PDF) -> ConsentError:
    with pytest.raises(ConsentError) as caught:
        disarm(data, kind)  # type: ignore[arg-type]
    return caught.value


def a_pdf(change: Callable[[pikepdf.Pdf], object] = lambda pdf: None, pages: int = 1) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    for page in pdf.pages:
        page.obj.Contents = pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (SIGNED) Tj ET")
    change(pdf)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def active(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return leftovers(pdf)


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


def _js(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(
        Type=pikepdf.Name.Action, S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")
    )


def _open_action(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = _js(pdf)


def _names_tree(pdf: pikepdf.Pdf) -> None:
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), _js(pdf)]))
    )


def _launch(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))


def _page_aa(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=_js(pdf))


def _form(pdf: pikepdf.Pdf) -> None:
    pdf.Root.AcroForm = pikepdf.Dictionary(
        Fields=pikepdf.Array(), XFA=pdf.make_stream(b"<xdp><script>app.alert(1)</script></xdp>")
    )


def _attachment(pdf: pikepdf.Pdf) -> None:
    pdf.attachments["a.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ" + b"\x00" * 64)


def _js_in_resources(pdf: pikepdf.Pdf) -> None:  # hidden where a page keeps things
    pdf.pages[0].obj.Resources = pikepdf.Dictionary(Hidden=_js(pdf))


ACTIVE_PDFS = {
    "OpenAction JavaScript": _open_action,
    "names tree": _names_tree,
    "launch": _launch,
    "page AA": _page_aa,
    "XFA form": _form,
    "embedded file": _attachment,
    "JavaScript in a page's resources": _js_in_resources,
}


@pytest.mark.parametrize("name", sorted(ACTIVE_PDFS))
def test_a_pdf_with_active_content_comes_out_without_it(name: str) -> None:
    data = a_pdf(ACTIVE_PDFS[name])
    assert active(data)  # the file really has it
    clean = disarm(data, PDF)
    assert active(clean) == []
    assert b"app.alert" not in clean and b"MZ" not in clean
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        assert len(pdf.pages) == 1
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}
        assert pdf.pages[0].obj.Contents.read_bytes() == b"BT /F1 12 Tf 72 720 Td (SIGNED) Tj ET"
        assert not pdf.attachments


def test_the_bytes_of_a_js_name_inside_image_data_are_kept_as_pixels() -> None:
    image = b"\x00\x01/JS (not a name, just pixels) /JavaScript\xff"

    def add(pdf: pikepdf.Pdf) -> None:
        stream = pdf.make_stream(image)
        stream.Type, stream.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        stream.Width, stream.Height, stream.BitsPerComponent = 8, 1, 8
        stream.ColorSpace, stream.Filter = pikepdf.Name.DeviceGray, pikepdf.Name.DCTDecode
        pdf.pages[0].obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=stream))

    clean = disarm(a_pdf(add), PDF)
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        assert pdf.pages[0].Resources.XObject.Im0.read_raw_bytes() == image


def test_pdfs_that_cannot_be_read_or_have_too_many_pages_are_refused() -> None:
    for broken in (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", b"%PDF-" + b"\x00" * 300):
        error = disarm_refused(broken)
        assert error.code == "pdf_unreadable" and is_japanese(error.message)
    many = a_pdf(pages=3)
    with pytest.raises(ConsentError) as caught:
        disarm(many, PDF, max_pages=2)
    assert caught.value.code == "pdf_too_many_pages"
    assert is_japanese(caught.value.message)
    encrypted = io.BytesIO()
    with pikepdf.open(io.BytesIO(a_pdf())) as pdf:
        pdf.save(encrypted, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    assert disarm_refused(encrypted.getvalue()).code == "pdf_encrypted"


def test_images_are_encoded_again_without_metadata_or_anything_appended() -> None:
    photo = Image.new("RGB", (300, 200), "white")
    exif = photo.getexif()
    exif[0x010F] = "Camera maker"
    exif[0x8825] = {1: "N", 2: (35.0, 41.0, 0.0)}  # GPS
    raw = io.BytesIO()
    photo.save(raw, "JPEG", exif=exif.tobytes(), icc_profile=b"\x00" * 128, comment=b"secret")
    jpeg = raw.getvalue() + b"PK\x03\x04 zip appended after the image"
    clean = disarm(jpeg, JPEG)
    with Image.open(io.BytesIO(clean)) as again:
        assert again.format == "JPEG" and again.size == (300, 200)
        assert not dict(again.getexif())
        assert "icc_profile" not in again.info and "comment" not in again.info
    assert b"PK\x03\x04" not in clean and b"secret" not in clean

    text = PngInfo()
    text.add_text("Comment", "secret")
    raw = io.BytesIO()
    Image.new("P", (50, 50)).save(raw, "PNG", pnginfo=text, transparency=0)
    clean = disarm(raw.getvalue(), PNG)
    with Image.open(io.BytesIO(clean)) as again:
        assert again.format == "PNG" and again.size == (50, 50) and again.mode == "RGBA"
        assert not again.info
    assert b"secret" not in clean


def test_an_image_turned_by_its_exif_orientation_is_stored_the_right_way_up() -> None:
    photo = Image.new("RGB", (300, 200), "white")
    exif = photo.getexif()
    exif[0x0112] = 6  # rotate 90°
    raw = io.BytesIO()
    photo.save(raw, "JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(disarm(raw.getvalue(), JPEG))) as again:
        assert again.size == (200, 300)


def test_broken_images_are_refused() -> None:
    for data, kind in ((real_image("PNG")[:60], PNG), (b"\xff\xd8\xff\xe0" + b"\x00" * 40, JPEG)):
        error = disarm_refused(data, kind)
        assert error.code == "image_unreadable" and is_japanese(error.message)


def test_a_real_pdf_and_real_images_pass() -> None:
    scanned = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(scanned, "PDF")
    assert inspect(scanned.getvalue(), "scan.pdf", LIMIT).kind is PDF
    assert inspect(real_image("PNG"), "scan.png", LIMIT).kind is PNG
    assert inspect(real_image("JPEG"), "scan.jpg", LIMIT).kind is JPEG
    with pikepdf.open(io.BytesIO(disarm(scanned.getvalue(), PDF))) as pdf:
        image = next(iter(pdf.pages[0].Resources.XObject.values()))
        assert (image.Width, image.Height) == (200, 100)
    for fmt, kind in (("PNG", PNG), ("JPEG", JPEG)):
        with Image.open(io.BytesIO(disarm(real_image(fmt), kind))) as again:
            assert (again.format, again.size) == (fmt, (200, 100))
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
    assert is_japanese(error.message)
    assert f"{MAX_IMAGE_PIXELS:,}" in error.message
    # disarm checks what Pillow reads again before decoding anything
    assert disarm_refused(data, PNG if kind == "png" else JPEG).code == "image_too_large"


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
    assert is_japanese(error.message)


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
        assert error.code and is_japanese(error.message)
    else:
        assert signed.filename.endswith("." + signed.kind.extension)
        assert "/" not in signed.filename and "\\" not in signed.filename


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([PDF, JPEG, PNG]).flatmap(
        lambda kind: st.binary(max_size=1024).map(lambda rest: (kind, kind.magic + rest))
    )
)
def test_disarm_never_fails_with_anything_but_a_consent_error(case: tuple[object, bytes]) -> None:
    kind, data = case
    try:
        clean = disarm(data, kind)  # type: ignore[arg-type]
    except ConsentError as error:
        assert error.code and is_japanese(error.message)
    else:
        assert clean.startswith(kind.magic)  # type: ignore[attr-defined]
