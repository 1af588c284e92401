"""The signed consent form (署名済みの個人情報利用同意書): checked by content, then disarmed.

Two stages (docs/security.md, "Uploaded files are disarmed"):

1. :func:`inspect` — cheap, before anything is parsed: the size, the type from the first
   bytes (``%PDF-``, ``FF D8 FF``, ``89 50 4E 47 0D 0A 1A 0A``; never the name or the declared
   type), the pixels an image header declares, and the file name (control and bidirectional
   characters refused; the stored name gets the extension of what the content really is).
2. :func:`disarm` — the file is parsed with a real parser and **written anew**, and only the
   new file is ever stored or served (content disarm and reconstruction):

   * a PDF (qpdf, through pikepdf) becomes a new document holding only its pages — their
     boxes, rotation, resources and content. Everything else stays behind: the document
     catalogue (``/OpenAction``, ``/AA``, ``/Names`` with its JavaScript and embedded files,
     ``/AcroForm`` with its fields and XFA, outlines, metadata), every annotation (links,
     ``/Launch``, ``/URI``, ``/SubmitForm``, file attachments, widgets; what they show on the
     page is first flattened into the page), and any action, JavaScript, file specification
     or embedded file reachable from what is kept. The new file is parsed again and refused
     if anything of the kind is left (fail closed). A file qpdf cannot read, an encrypted
     one or one with too many pages is refused;
   * a JPEG or PNG is decoded with Pillow (its declared pixels checked first: no
     decompression bomb is decoded) and encoded again: no EXIF (GPS position, camera),
     no ICC profile, no text chunks, nothing appended after the image.

Stage 2 parses hostile input: the service runs it in a worker thread with a time limit
(``ConsentService``), and qpdf's decoders are bounded in memory here (``DECODE_LIMIT``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf
from PIL import Image, ImageOps

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

MB = 1024 * 1024
DECODE_LIMIT = 128 * MB
"""What one qpdf decoder may produce. Object and cross-reference streams are decoded to be
read; page content and images are copied as they are, never decoded."""
pikepdf.settings.set_qpdf_limits(
    flate_max_memory=DECODE_LIMIT,
    run_length_max_memory=DECODE_LIMIT,
    png_max_memory=DECODE_LIMIT,
    tiff_max_memory=DECODE_LIMIT,
    dct_max_memory=DECODE_LIMIT,
    doc_max_warnings=1000,  # a file so damaged that its recovery warns more is refused
    parser_max_container_size=1_000_000,
)


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


# --- stage 2: parsed and written anew ------------------------------------------------------


def disarm(
    data: bytes,
    kind: FileKind,
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_pages: int = MAX_PDF_PAGES,
) -> bytes:
    """The file written anew without anything active (see the module), or ConsentError.

    CPU-bound and fed hostile bytes: call it off the event loop, with a time limit.
    """
    if kind is PDF:
        return disarm_pdf(data, max_pages=max_pages)
    return reencode_image(data, kind, max_pixels=max_pixels)


# Page keys kept: what the page looks like. Everything else of a page (/Annots, /AA,
# /AF associated files, /Metadata, /PieceInfo, /Thumb, /B, /Trans, /StructParents …) is not.
_PAGE_KEYS = (
    "/MediaBox",
    "/CropBox",
    "/BleedBox",
    "/TrimBox",
    "/ArtBox",
    "/Rotate",
    "/UserUnit",
    "/Resources",
    "/Contents",
    "/Group",
)
# Keys removed wherever they are found in what is kept: actions, scripts, forms, files.
ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/AA",
        "/OpenAction",
        "/A",
        "/PA",
        "/Next",
        "/URI",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/XFA",
        "/AcroForm",
        "/Names",
        "/EmbeddedFiles",
        "/EmbeddedFile",
        "/EF",
        "/RF",
        "/AF",
        "/FS",
        "/Annots",
        "/RichMediaContent",
        "/RichMediaSettings",
        "/OPI",
    }
)
# The /S (subtype) of every kind of action (ISO 32000-2, 12.6.4).
ACTION_TYPES = frozenset(
    {
        "/GoTo",
        "/GoToR",
        "/GoToE",
        "/GoToDp",
        "/Launch",
        "/Thread",
        "/URI",
        "/Sound",
        "/Movie",
        "/Hide",
        "/Named",
        "/SubmitForm",
        "/ResetForm",
        "/ImportData",
        "/SetOCGState",
        "/Rendition",
        "/Trans",
        "/GoTo3DView",
        "/JavaScript",
        "/RichMediaExecute",
    }
)
ACTIVE_TYPES = frozenset({"/Action", "/Filespec", "/EmbeddedFile", "/Annot", "/XFA"})
# XObjects other than images and forms (PostScript XObjects) are dropped.
_XOBJECT_SUBTYPES = frozenset({"/Image", "/Form"})


def _name(value: Any) -> str | None:
    return str(value) if isinstance(value, pikepdf.Name) else None


def is_active(obj: Any) -> bool:
    """Whether a PDF object is an action, a script, a file (specification) or an annotation."""
    if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        return False
    if "/JS" in obj or "/EF" in obj:
        return True
    if _name(obj.get("/Type")) in ACTIVE_TYPES:
        return True
    if _name(obj.get("/S")) in ACTION_TYPES:
        return True
    subtype = _name(obj.get("/Subtype"))
    return _name(obj.get("/Type")) == "/XObject" and subtype not in _XOBJECT_SUBTYPES


def _children(obj: Any) -> Iterator[Any]:
    if isinstance(obj, pikepdf.Array):
        yield from obj
    elif isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        for key in obj.keys():  # noqa: SIM118 (a pikepdf object, not a dict)
            yield obj[key]


def _scrub(pdf: pikepdf.Pdf) -> None:
    """Remove every active key and active object from what ``pdf`` holds (all of it)."""
    stack: list[Any] = [pdf.Root, *pdf.objects]
    seen: set[tuple[int, int]] = set()
    while stack:
        obj = stack.pop()
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            for index in reversed(range(len(obj))):
                if is_active(obj[index]):
                    del obj[index]
                else:
                    stack.append(obj[index])
            continue
        for key in list(obj.keys()):
            value = obj[key]
            if key in ACTIVE_KEYS or is_active(value):
                del obj[key]
            else:
                stack.append(value)


def leftovers(pdf: pikepdf.Pdf) -> list[str]:
    """What is still active in ``pdf`` (empty for a disarmed file): key names and the kinds
    of active objects, found anywhere in the file — every object, reachable or not."""
    found: set[str] = set()
    stack: list[Any] = [pdf.trailer, *pdf.objects]
    seen: set[tuple[int, int]] = set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            found.update(k for k in obj.keys() if k in ACTIVE_KEYS)  # noqa: SIM118
            if is_active(obj):
                kind = _name(obj.get("/Type")) or _name(obj.get("/S")) or "object"
                found.add(f"active {kind}")
        stack.extend(_children(obj))
    return sorted(found)


def _inherited(page: pikepdf.Dictionary, key: str) -> Any:
    node: Any = page
    for _ in range(64):  # a page tree is never that deep; a loop in /Parent is cut
        if key in node:
            return node[key]
        node = node.get("/Parent")
        if not isinstance(node, pikepdf.Dictionary):
            return None
    return None


def disarm_pdf(data: bytes, *, max_pages: int = MAX_PDF_PAGES) -> bytes:
    """A new PDF holding only the pages of ``data`` (see the module), or ConsentError."""
    try:
        source = pikepdf.open(io.BytesIO(data), inherit_page_attributes=False)
    except pikepdf.PasswordError:
        raise _refusal(
            "pdf_encrypted",
            "パスワードで保護されたPDFは添付できません。保護を解除したPDFを添付してください。",
            "パスワードで保護されたPDFです",
        ) from None
    except Exception:  # qpdf's errors, and anything else the parser meets: refused
        raise pdf_unreadable() from None
    try:
        with source:
            return _rewritten(source, max_pages)
    except ConsentError:
        raise
    except Exception:
        raise pdf_unreadable() from None


def _rewritten(source: pikepdf.Pdf, max_pages: int) -> bytes:
    pages = list(source.pages)
    if not pages:
        raise pdf_unreadable()
    if len(pages) > max_pages:
        raise _refusal(
            "pdf_too_many_pages",
            f"ページ数が多すぎます（上限{max_pages}ページ）。署名済みの同意書のページだけを"
            "添付してください。",
            f"{len(pages)}ページあります",
        )
    # what annotations show (a signature drawn in a viewer) becomes page content; a file
    # whose annotations cannot be flattened loses them
    with contextlib.suppress(Exception):
        source.flatten_annotations("all")
    target = pikepdf.new()
    for page in source.pages:
        kept = pikepdf.Dictionary(Type=pikepdf.Name.Page)
        for key in _PAGE_KEYS:
            value = _inherited(page.obj, key) if key in _INHERITABLE else page.obj.get(key)
            if value is not None:
                kept[key] = value
        if "/MediaBox" not in kept:
            kept["/MediaBox"] = pikepdf.Array([0, 0, 595, 842])  # A4, as the spec's default
        target.pages.append(pikepdf.Page(source.make_indirect(kept)))
    _scrub(target)
    out = io.BytesIO()
    target.save(
        out,
        compress_streams=True,
        stream_decode_level=pikepdf.StreamDecodeLevel.none,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        fix_metadata_version=False,
        deterministic_id=True,
        encryption=False,
    )
    written = out.getvalue()
    with pikepdf.open(io.BytesIO(written)) as check:
        left = leftovers(check)
        if left or len(check.pages) != len(pages):
            raise pdf_unreadable()
    return written


_INHERITABLE = frozenset({"/Resources", "/MediaBox", "/CropBox", "/Rotate"})


def reencode_image(data: bytes, kind: FileKind, *, max_pixels: int = MAX_IMAGE_PIXELS) -> bytes:
    """The image decoded and encoded again, without metadata, or ConsentError.

    Only the pixels go into the new file: ``info`` (EXIF, ICC profile, XMP, text chunks,
    comments) is emptied, and nothing after the image's end survives."""
    fmt = "JPEG" if kind is JPEG else "PNG"
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as img:
            width, height = img.size
            if width * height > max_pixels:  # what Pillow read (inspect read the header)
                raise image_too_large(width * height, max_pixels)
            had_transparency = "transparency" in img.info
            img.load()
            clean = ImageOps.exif_transpose(img)  # the scan the right way up, then no EXIF
    except ConsentError:
        raise
    except Image.DecompressionBombError:
        raise image_too_large(0, max_pixels) from None
    except Exception:  # Pillow's errors on broken or hostile data: refused
        raise image_unreadable(kind) from None
    clean.info = {}
    out = io.BytesIO()
    if kind is JPEG:
        if clean.mode not in ("L", "RGB", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=90)
    else:
        if clean.mode == "P":
            clean = clean.convert("RGBA" if had_transparency else "RGB")
        elif clean.mode not in ("1", "L", "LA", "RGB", "RGBA", "I", "I;16"):
            clean = clean.convert("RGBA")
        clean.save(out, "PNG")
    return out.getvalue()
