"""The signed consent form (署名済みの個人情報利用同意書): checked by content, not by name.

A file is accepted when its first bytes are those of a PDF (``%PDF-``), a JPEG
(``FF D8 FF``) or a PNG (``89 50 4E 47 0D 0A 1A 0A``), whatever its name or declared
type; it is stored under its own name with the extension of what it really is.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
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


def inspect(data: bytes, filename: str | None, max_bytes: int) -> SignedFile:
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
    return SignedFile(
        kind=kind,
        filename=stored_name(filename, kind),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
