"""Turning a template and its context into PDF bytes."""

from __future__ import annotations

from typing import Any, Protocol


class Renderer(Protocol):
    async def render(
        self, template: str, context: dict[str, Any], *, qr_url: str | None = None
    ) -> bytes:
        """The PDF of ``template`` filled with ``context``; with ``qr_url``, the template
        gets ``qr``, a QR code of that address as an image URI."""
        ...
