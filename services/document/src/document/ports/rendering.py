"""Turning a template and its context into PDF bytes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol


class Renderer(Protocol):
    async def render(
        self,
        template: str,
        context: Mapping[str, Any],
        *,
        qr_url: str | None = None,
        created: datetime | None = None,
    ) -> bytes:
        """The PDF of ``template`` filled with ``context``; with ``qr_url``, the template
        gets ``qr``, a QR code of that address as an image. ``created`` is the creation
        time written into the PDF (none: a fixed one); never the clock, so the same
        arguments give the same bytes."""
        ...
