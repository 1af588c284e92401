"""The signed consent form (署名済みの個人情報利用同意書): checked by content, not by name.

A file is accepted when its first bytes are those of a PDF (``%PDF-``), a JPEG
(``FF D8 FF``) or a PNG (``89 50 4E 47 0D 0A 1A 0A``), whatever its name or declared
type; it is stored under its own name with the extension of what it really is.

Refused as well (an evaluator opens these files):

* a PDF with active content: JavaScript (``/JS``, ``/JavaScript``, also as ``#xx``-escaped
  names and inside Flate-compressed object streams) or a ``/Launch`` action;
* an image declaring more than ``MAX_IMAGE_PIXELS`` pixels (a decompression bomb: a small
  PNG or JPEG that would need gigabytes once decoded). The dimensions are read from the
  PNG ``IHDR`` chunk or the JPEG ``SOFn`` segment; nothing is decoded.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass

from consent.core.errors import ConsentError


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
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\/:*?\"<>|]")
MAX_IMAGE_PIXELS = 89_478_485  # Pillow's default limit (≈ A3 at 600 dpi is 70 million)
_PDF_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")
_PDF_ACTIVE = {b"JS", b"JavaScript", b"Launch"}
_PDF_STREAM = re.compile(rb"(?<!end)stream\r?\n")
_INFLATE_BUDGET = 64 * 1024 * 1024  # decompressed bytes scanned per file, at most
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


def _names(chunk: bytes) -> set[bytes]:
    """The PDF name tokens in ``chunk``, with ``#xx`` escapes decoded."""
    names = set()
    for raw in _PDF_NAME.findall(chunk):
        names.add(re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw))
    return names


def pdf_active_content(data: bytes) -> str | None:
    """The first active-content name (``JS``, ``JavaScript``, ``Launch``) in a PDF, else None.

    Scanned: the file outside its streams (image data could hold the bytes ``/JS`` by
    chance), and every object stream (``/Type /ObjStm``: compressed dictionaries),
    decompressed up to ``_INFLATE_BUDGET`` bytes in all.
    """
    outside: list[bytes] = []
    object_streams: list[bytes] = []
    position = 0
    for match in _PDF_STREAM.finditer(data):
        if match.start() < position:  # inside a stream already skipped
            continue
        outside.append(data[position : match.start()])
        end = data.find(b"endstream", match.end())
        end = len(data) if end < 0 else end
        if b"/ObjStm" in data[max(0, match.start() - 1024) : match.start()]:
            object_streams.append(data[match.end() : end])
        position = end
    outside.append(data[position:])
    found = _names(b"\n".join(outside)) & _PDF_ACTIVE
    budget = _INFLATE_BUDGET
    for stream in object_streams:
        if found or budget <= 0:
            break
        try:
            plain = zlib.decompressobj().decompress(stream, budget)
        except zlib.error:
            plain = stream  # not Flate: scan as it is
        budget -= len(plain)
        found = _names(plain) & _PDF_ACTIVE
    return min(found).decode() if found else None


def image_pixels(data: bytes, kind: FileKind) -> int | None:
    """Width × height that a PNG or JPEG declares (None when its header does not say)."""
    if kind is PNG:
        if len(data) >= 24 and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return int(width) * int(height)
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
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if marker in _JPEG_SOF:
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width) * int(height)
            if marker == 0xDA:  # start of scan before any frame header
                return None
            i += 2 + length
    return None


def too_large(max_bytes: int) -> ConsentError:
    megabytes = max_bytes / (1024 * 1024)
    limit = f"{megabytes:g}MB" if megabytes >= 1 else f"{max_bytes}バイト"
    return ConsentError(
        "file_too_large",
        f"ファイルサイズが上限（{limit}）を超えています。",
        [{"field": "signed_form", "message": f"{limit}以下のファイルを添付してください"}],
    )


def stored_name(filename: str | None, kind: FileKind) -> str:
    """The uploaded name without path or unsafe characters, with the content's extension."""
    base = unicodedata.normalize("NFC", filename or "")
    base = re.split(r"[\\/]", base)[-1]
    base = _UNSAFE.sub("", base).strip().strip(".")
    stem = _KNOWN_EXTENSIONS.sub("", base).strip().strip(".") or DEFAULT_STEM
    return f"{stem[:STEM_MAX]}.{kind.extension}"


def inspect(
    data: bytes, filename: str | None, max_bytes: int, max_pixels: int = MAX_IMAGE_PIXELS
) -> SignedFile:
    """Accept a PDF, JPEG or PNG of 1 byte to ``max_bytes``, or raise :class:`ConsentError`."""
    if not data:
        raise ConsentError(
            "empty_file",
            "ファイルが空です。署名済みの同意書を添付してください。",
            [{"field": "signed_form", "message": "ファイルが空です"}],
        )
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    kind = detect(data)
    if kind is None:
        raise ConsentError(
            "unsupported_file_type",
            "添付できるのはPDF・JPEG・PNGのファイルだけです（ファイル名ではなく内容で判定しています）。",
            [{"field": "signed_form", "message": "PDF・JPEG・PNGのファイルを添付してください"}],
        )
    if kind is PDF and (name := pdf_active_content(data)) is not None:
        raise ConsentError(
            "pdf_active_content",
            "JavaScriptなどの実行される内容を含むPDFは添付できません。"
            "署名済みの同意書をスキャンしたPDF・JPEG・PNGを添付してください。",
            [
                {
                    "field": "signed_form",
                    "message": f"PDFに実行される内容（/{name}）が含まれています",
                }
            ],
        )
    pixels = image_pixels(data, kind) if kind is not PDF else None
    if pixels is not None and pixels > max_pixels:
        raise ConsentError(
            "image_too_large",
            f"画像の画素数が多すぎます（上限{max_pixels:,}画素）。"
            "解像度を下げてスキャンした画像を添付してください。",
            [{"field": "signed_form", "message": f"画素数が{pixels:,}画素あります"}],
        )
    return SignedFile(
        kind=kind,
        filename=stored_name(filename, kind),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
