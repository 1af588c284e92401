"""Disarming signed forms with qpdf (through pikepdf) and Pillow: the adapter of the
``Disarmer`` port (``consent.core.files``; docs/security.md, "Uploaded files are disarmed").

The file is parsed with a real parser and **written anew** (content disarm and
reconstruction):

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

qpdf's decoders are bounded in memory here (``DECODE_LIMIT``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import pikepdf
from PIL import Image, ImageOps

from consent.core.errors import ConsentError
from consent.core.files import (
    JPEG,
    MAX_IMAGE_PIXELS,
    MAX_PDF_PAGES,
    PDF,
    FileKind,
    image_too_large,
    image_unreadable,
    pdf_encrypted,
    pdf_too_many_pages,
    pdf_unreadable,
)

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
        raise pdf_encrypted() from None
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
        raise pdf_too_many_pages(len(pages), max_pages)
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
