"""PDF rendering with WeasyPrint and the Noto CJK fonts (Debian ``fonts-noto-cjk``).

Per process, not per document: the Jinja2 templates are compiled, the stylesheet parsed
and the WeasyPrint ``FontConfiguration`` built once, when the renderer is made. Rendering
runs in a worker thread (``asyncio.to_thread``) so that the event loop keeps serving;
renders are serialised by a lock, because WeasyPrint's font configuration (Pango,
fontconfig) is shared and not documented as thread-safe, and on one core two renders at
once would not be faster anyway.

A notice printed with a fallback font would show boxes instead of 𠮷 or 髙, and would be
signed like that; so the renderer refuses to render (``FontMissing``) when fontconfig does
not know the Noto Sans CJK JP family.
"""

from __future__ import annotations

import asyncio
import base64
import io
import shutil
import subprocess
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

import qrcode
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from qrcode.constants import ERROR_CORRECT_M
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from document.adapters.outbound.metrics import observe_render

TEMPLATES = Path(str(resources.files("document") / "templates"))
FONT_FAMILY = "Noto Sans CJK JP"
PDF_TEMPLATES = ("result_notice.html", "consent_form.html")
QR_MASK = 0


class FontMissing(RuntimeError):
    """The Noto CJK fonts are not installed (Debian package ``fonts-noto-cjk``)."""


def font_installed(family: str = FONT_FAMILY) -> bool:
    """Whether fontconfig knows ``family`` (``fc-list :family=<family>``)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run(
        [fc_list, f":family={family}", "family"], capture_output=True, text=True, check=False
    )
    return found.returncode == 0 and family in found.stdout


def html_environment(templates: Path = TEMPLATES) -> Environment:
    """The Jinja2 environment of the service's templates (PDFs and the verification page)."""
    return Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class PdfRenderer:
    def __init__(self, templates: Path = TEMPLATES) -> None:
        self.env = html_environment(templates)
        self.templates: dict[str, Template] = {
            name: self.env.get_template(name) for name in PDF_TEMPLATES
        }
        self.fonts = FontConfiguration()
        self.css = CSS(
            string=(templates / "base.css").read_text(encoding="utf-8"), font_config=self.fonts
        )
        self._lock = threading.Lock()
        self._font_checked = False

    def html(self, template: str, context: dict[str, Any], qr_url: str | None = None) -> str:
        extra = {"qr": qr_data_uri(qr_url)} if qr_url is not None else {}
        return self.templates[template].render(**context, **extra)

    def render_sync(
        self, template: str, context: dict[str, Any], *, qr_url: str | None = None
    ) -> bytes:
        started = time.perf_counter()
        html = self.html(template, context, qr_url)
        with self._lock:
            if not self._font_checked:
                if not font_installed():
                    raise FontMissing(
                        f"font family {FONT_FAMILY!r} is not installed (fonts-noto-cjk)"
                    )
                self._font_checked = True
            pdf = HTML(string=html).write_pdf(stylesheets=[self.css], font_config=self.fonts)
        assert pdf is not None
        observe_render(template, time.perf_counter() - started)
        return bytes(pdf)

    async def render(
        self, template: str, context: dict[str, Any], *, qr_url: str | None = None
    ) -> bytes:
        return await asyncio.to_thread(self.render_sync, template, context, qr_url=qr_url)


def qr_data_uri(url: str) -> str:
    """A 1-bit PNG QR code of ``url`` as a data URI (printed crisp: ``image-rendering``).

    PNG rather than SVG: WeasyPrint draws an SVG QR code as hundreds of paths, which cost
    a third of the render time; the PNG is a few hundred bytes and prints as sharply.

    One fixed mask pattern (``QR_MASK``) rather than the best of eight: choosing it builds
    and scores eight matrices in pure Python, 10 ms of a notice's ~120 ms CPU (7–8 %,
    ``bench/documents.py``); the mask only evens out light and dark modules, every reader
    takes it from the code's format information, and the tests read the code back."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M, box_size=4, border=1, mask_pattern=QR_MASK
    )
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
