"""PDF rendering with Typst and the Noto CJK fonts (Debian ``fonts-noto-cjk``).

Each kind of PDF is a fixed Typst template (``templates/<kind>.typ``, sharing
``base.typ``); per document the renderer writes a two-line main source that imports the
template and calls it with the document's data, every text escaped (``typst_markup``), and
compiles it with one ``typst.Compiler`` per process: the fonts are found and the templates
parsed once, and Typst keeps what it can between documents. The fonts are embedded and
subset; the PDF's dates are the ``created`` time given (a notice: its judgement's time),
or none at all, so the same document renders to the same bytes.

Rendering runs in a worker thread (``asyncio.to_thread``) so that the event loop keeps
serving (the first document of a process loads the fonts: ~0.5 s); renders are
serialised by a lock (one compiler; on one core two at once would not be faster). The
PDFs are not tagged (no structure tree), as they were not with WeasyPrint: tags cost
time in every notice.

A notice printed with a fallback font would show boxes instead of 𠮷 or 髙, and would be
signed like that; so the renderer only gives Typst the Noto CJK fonts, no fallback, and
refuses to render (``FontMissing``) when the Noto Sans CJK JP family is not installed.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import qrcode
import typst
from qrcode.constants import ERROR_CORRECT_M

from document.adapters.outbound import typst_markup
from document.adapters.outbound.metrics import observe_render
from shared_kernel.infra.logging import get_logger

log = get_logger(__name__)
TEMPLATES = Path(str(resources.files("document") / "templates"))
FONT_FAMILY = "Noto Sans CJK JP"
# template file -> the function it defines
PDF_TEMPLATES = {"result_notice.typ": "notice", "consent_form.typ": "consent_form"}
QR_MASK = 0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # Typst's "now" when a document has no date


class FontMissing(RuntimeError):
    """The Noto CJK fonts are not installed (Debian package ``fonts-noto-cjk``)."""


def font_directories(family: str = FONT_FAMILY) -> list[str]:
    """The folder of the font file of ``family`` (``fc-match``), or none when fontconfig
    does not know the family; Typst then gets only that folder (Noto CJK's, a few faces)
    instead of scanning every system font."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return []
    found = subprocess.run(
        [fc_match, "-f", "%{family}\n%{file}", f"{family}:style=Regular"],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = found.stdout.splitlines()
    if found.returncode != 0 or len(lines) < 2 or family not in lines[0].split(","):
        return []
    return [str(Path(lines[1]).parent)]


def load_fonts(family: str = FONT_FAMILY) -> typst.Fonts:
    """Typst's fonts: the folder of ``family``; every system font when fontconfig cannot
    say where it is; never Typst's own embedded fonts (no fallback to another typeface)."""
    folders = font_directories(family)
    if folders:
        return typst.Fonts(
            include_system_fonts=False, include_embedded_fonts=False, font_paths=folders
        )
    return typst.Fonts(include_system_fonts=True, include_embedded_fonts=False)


def font_installed(family: str = FONT_FAMILY) -> bool:
    """Whether ``family`` is among the fonts the renderer gives Typst."""
    return family in load_fonts(family).families()


class PdfRenderer:
    def __init__(self, templates: Path = TEMPLATES) -> None:
        self.templates = templates
        self._lock = threading.Lock()
        self._compiler: typst.Compiler | None = None  # built at the first render

    def compiler(self) -> typst.Compiler:
        """The process's Typst compiler (fonts loaded, checked once)."""
        if self._compiler is None:
            fonts = load_fonts()
            if FONT_FAMILY not in fonts.families():
                raise FontMissing(f"font family {FONT_FAMILY!r} is not installed (fonts-noto-cjk)")
            self._compiler = typst.Compiler(root=str(self.templates), font_paths=fonts)
        return self._compiler

    def source(self, template: str, context: Mapping[str, Any], qr_url: str | None = None) -> str:
        """The main Typst source of one document."""
        data = dict(context)
        if qr_url is not None:
            data["qr"] = qr_image(qr_url)
        return typst_markup.call(template, PDF_TEMPLATES[template], data)

    def render_sync(
        self,
        template: str,
        context: Mapping[str, Any],
        *,
        qr_url: str | None = None,
        created: datetime | None = None,
    ) -> bytes:
        started = time.perf_counter()
        main = self.source(template, context, qr_url).encode()
        with self._lock:
            compiler = self.compiler()
            pdf, warnings = compiler.compile_with_warnings(
                input=main, format="pdf", timestamp=pdf_time(created), pdf_tags=False
            )
        assert isinstance(pdf, bytes)
        for warning in warnings:  # none expected (a test checks): worth a look when there are
            log.warning("pdf.typst_warning", template=template, message=warning.message)
        observe_render(template, time.perf_counter() - started)
        return pdf

    async def render(
        self,
        template: str,
        context: Mapping[str, Any],
        *,
        qr_url: str | None = None,
        created: datetime | None = None,
    ) -> bytes:
        return await asyncio.to_thread(
            self.render_sync, template, context, qr_url=qr_url, created=created
        )


def pdf_time(created: datetime | None) -> datetime:
    """The creation time Typst writes into the PDF (its document date and XMP dates): the
    given time to the second, in UTC; a fixed one when none is given, never the clock."""
    when = EPOCH if created is None else created
    if when.tzinfo is None:
        raise ValueError("the creation time of a PDF needs a time zone")
    return when.astimezone(UTC).replace(microsecond=0)


def qr_image(url: str) -> typst_markup.Code:
    """A QR code of ``url`` as a Typst image: an SVG of one path (a rectangle per run of
    dark modules), drawn as vector shapes, crisp at any size and cheap to draw.

    Not a bitmap: a grey image of one pixel per module is smoothed by PDF viewers when
    enlarged (unreadable at 100 dpi), and one enlarged in advance costs 3.5 ms per notice.
    One fixed mask pattern (``QR_MASK``) rather than the best of eight: choosing it builds
    and scores eight matrices in pure Python (10 ms per notice); the mask only evens out
    light and dark modules, every reader takes it from the code's format information, and
    the tests read the code back."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=1, mask_pattern=QR_MASK)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    path = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                path.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}">'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{"".join(path)}"/></svg>'
    )
    return typst_markup.Code(f'image(bytes({typst_markup.string(svg)}), format: "svg")')
