"""The signed consent form (署名済みの個人情報利用同意書): checked by content, then disarmed.

Two stages (docs/security.md, "Uploaded files are disarmed"):

1. :func:`inspect` — cheap, before anything is parsed: the size, the type from the first
   bytes (``%PDF-``, ``FF D8 FF``, ``89 50 4E 47 0D 0A 1A 0A``; never the name or the declared
   type), the pixels an image header declares, and the file name (control and bidirectional
   characters refused; the stored name gets the extension of what the content really is).
2. :func:`disarm` — the file is parsed with a real parser and **written anew**, and only the
   new file is ever stored or served (content disarm and reconstruction). The parsing and
   rewriting is infrastructure (qpdf through pikepdf, Pillow): the port
   ``consent.ports.files.Disarmer``, adapter ``consent.adapters.outbound.disarm`` (what is
   kept and what stays behind is described there). This module keeps the refusals, in
   Japanese, and checks that what came back is of the kind that went in (fail closed).

Stage 2 parses hostile input: the service runs it in a worker thread with a time limit
(``ConsentService``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from consent.core.errors import ConsentError, on_field
from consent.core.validation import refused_character


@dataclass(frozen=True)
class FileKind:
    name: str
    content_type: str
    extension: str
    magic: bytes


PDF = FileKind("pdf", "application/pdf", "pdf", b"%PDF-")
JPEG = FileKind("jpeg", "image/jpeg", "jpg", b"\xff\xd8\xff")
PNG = FileKind("png", "image/png", "png", b"\x89PNG\r\n\x1a\n")
KINDS = (PDF, JPEG, PNG)
DEFAULT_STEM = "個人情報利用同意書"
STEM_MAX = 80
_UNSAFE = re.compile(r"[\\/:*?\"<>|]")
MAX_IMAGE_PIXELS = 89_478_485  # Pillow's default limit (≈ A3 at 600 dpi is 70 million)
MAX_PDF_PAGES = 100
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_KNOWN_EXTENSIONS = re.compile(r"\.(pdf|jpe?g|png|exe|bin|dat|tiff?|gif|heic|bmp)$", re.I)


@dataclass(frozen=True)
class SignedFile:
    kind: FileKind
    filename: str
    size: int
    sha256: str


def detect(data: bytes) -> FileKind | None:
    """What the content is, from its magic bytes (``None`` when not PDF, JPEG or PNG)."""
    for kind in KINDS:
        if data.startswith(kind.magic):
            return kind
    return None


def image_pixels(data: bytes, kind: FileKind) -> int | None:
    """Width × height that a PNG or JPEG declares (None when its header does not say)."""
    if kind is PNG:
        if len(data) >= 24 and data[12:16] == b"IHDR":
            width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            return width * height
        return None
    if kind is JPEG:
        i = 2
        while i + 9 <= len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
                i += 2
                continue
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in _JPEG_SOF:
                height = int.from_bytes(data[i + 5 : i + 7], "big")
                width = int.from_bytes(data[i + 7 : i + 9], "big")
                return width * height
            if marker == 0xDA:  # start of scan before any frame header
                return None
            i += 2 + length
    return None


# --- refusals -------------------------------------------------------------------------------


def _refusal(code: str, message: str, detail: str) -> ConsentError:
    return ConsentError(code, message, [on_field("signed_form", detail)])


def too_large(max_bytes: int) -> ConsentError:
    megabytes = max_bytes / (1024 * 1024)
    limit = f"{megabytes:g}MB" if megabytes >= 1 else f"{max_bytes}バイト"
    return _refusal(
        "file_too_large",
        f"ファイルサイズが上限（{limit}）を超えています。",
        f"{limit}以下のファイルを添付してください",
    )


def image_too_large(pixels: int, max_pixels: int) -> ConsentError:
    return _refusal(
        "image_too_large",
        f"画像の画素数が多すぎます（上限{max_pixels:,}画素）。"
        "解像度を下げてスキャンした画像を添付してください。",
        f"画素数が{pixels:,}画素あります",
    )


def pdf_unreadable() -> ConsentError:
    return _refusal(
        "pdf_unreadable",
        "PDFファイルを読み取れませんでした（壊れているか、PDFの形式になっていません）。"
        "署名済みの同意書をスキャンし直したPDF・JPEG・PNGを添付してください。",
        "PDFとして読み取れないファイルです",
    )


def image_unreadable(kind: FileKind) -> ConsentError:
    label = "JPEG" if kind is JPEG else "PNG"
    return _refusal(
        "image_unreadable",
        f"{label}画像を読み取れませんでした（壊れているか、{label}の形式になっていません）。"
        "署名済みの同意書をスキャンし直したPDF・JPEG・PNGを添付してください。",
        f"{label}画像として読み取れないファイルです",
    )


def pdf_encrypted() -> ConsentError:
    return _refusal(
        "pdf_encrypted",
        "パスワードで保護されたPDFは添付できません。保護を解除したPDFを添付してください。",
        "パスワードで保護されたPDFです",
    )


def pdf_too_many_pages(pages: int, max_pages: int) -> ConsentError:
    return _refusal(
        "pdf_too_many_pages",
        f"ページ数が多すぎます（上限{max_pages}ページ）。署名済みの同意書のページだけを"
        "添付してください。",
        f"{pages}ページあります",
    )


def processing_timed_out(seconds: float) -> ConsentError:
    return _refusal(
        "file_processing_timeout",
        f"ファイルの確認が{seconds:g}秒以内に終わらなかったため、受け付けられませんでした。"
        "ページ数や解像度を減らしたファイルを添付してください。",
        "ファイルの確認に時間がかかりすぎました",
    )


# --- stage 1: before anything is parsed -----------------------------------------------------


def stored_name(filename: str | None, kind: FileKind) -> str:
    """The uploaded name without path or unsafe characters, with the content's extension.

    Control characters, line separators and bidirectional controls (RLO U+202E …) are
    refused, not removed (:func:`check_file_name`): an RLO turns ``同意書<RLO>fdp.exe`` into
    what looks like ``同意書exe.pdf``.
    """
    base = unicodedata.normalize("NFC", filename or "")
    check_file_name(base)
    base = re.split(r"[\\/]", base)[-1]
    base = _UNSAFE.sub("", base).strip().strip(".")
    stem = _KNOWN_EXTENSIONS.sub("", base).strip().strip(".") or DEFAULT_STEM
    return f"{stem[:STEM_MAX]}.{kind.extension}"


def check_file_name(filename: str) -> None:
    refused = refused_character(filename)
    if refused is not None:
        raise ConsentError(
            "invalid_file_name",
            "ファイル名に使用できない文字（制御文字や、文字の表示方向を変える文字など）が"
            "含まれています。ファイル名を変更してから添付してください。",
            [on_field("signed_form", f"ファイル名に使用できない文字（{refused}）が含まれています")],
        )


def inspect(
    data: bytes, filename: str | None, max_bytes: int, max_pixels: int = MAX_IMAGE_PIXELS
) -> SignedFile:
    """Accept a PDF, JPEG or PNG of 1 byte to ``max_bytes``, or raise :class:`ConsentError`.

    Nothing is parsed here (see :func:`disarm` for that): size, magic bytes, the pixels an
    image header declares and the file name.
    """
    if not data:
        raise ConsentError(
            "empty_file",
            "ファイルが空です。署名済みの同意書を添付してください。",
            [on_field("signed_form", "ファイルが空です")],
        )
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    kind = detect(data)
    if kind is None:
        raise ConsentError(
            "unsupported_file_type",
            "添付できるのはPDF・JPEG・PNGのファイルだけです（ファイル名ではなく内容で判定しています）。",
            [on_field("signed_form", "PDF・JPEG・PNGのファイルを添付してください")],
        )
    pixels = image_pixels(data, kind) if kind is not PDF else None
    if pixels is not None and pixels > max_pixels:
        raise image_too_large(pixels, max_pixels)
    return SignedFile(
        kind=kind,
        filename=stored_name(filename, kind),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


# --- stage 2: parsed and written anew (by the Disarmer port) ----------------------------------


def disarm(
    data: bytes,
    kind: FileKind,
    *,
    disarmer: Callable[..., bytes],
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_pages: int = MAX_PDF_PAGES,
) -> bytes:
    """The file written anew by ``disarmer`` (``consent.ports.files.Disarmer``), refused
    unless what came back is a file of the same ``kind`` (fail closed). CPU-bound and fed
    hostile bytes: call it off the event loop, with a time limit."""
    clean = disarmer(data, kind, max_pixels=max_pixels, max_pages=max_pages)
    if detect(clean) is not kind:
        raise pdf_unreadable() if kind is PDF else image_unreadable(kind)
    return clean
