"""PDF rendering with WeasyPrint and the Noto CJK fonts (Debian ``fonts-noto-cjk``).

The fonts and templates are loaded once per process; rendering runs in a worker thread so
the event loop is not blocked.
"""

from __future__ import annotations

import asyncio
import base64
import io
from functools import cached_property
from importlib import resources
from typing import Any

import qrcode
import qrcode.image.svg
from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

TEMPLATES = resources.files("document") / "templates"


class PdfRenderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"])
        )
        self.fonts = FontConfiguration()

    @cached_property
    def css(self) -> CSS:
        return CSS(
            string=(TEMPLATES / "base.css").read_text(encoding="utf-8"), font_config=self.fonts
        )

    def render_sync(self, template: str, context: dict[str, Any]) -> bytes:
        html = self.env.get_template(template).render(**context)
        pdf = HTML(string=html).write_pdf(stylesheets=[self.css], font_config=self.fonts)
        assert pdf is not None
        return bytes(pdf)

    async def render(self, template: str, context: dict[str, Any]) -> bytes:
        return await asyncio.to_thread(self.render_sync, template, context)


def qr_data_uri(url: str) -> str:
    """An SVG QR code of ``url`` as a data URI (embedded in the notice)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=1)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
