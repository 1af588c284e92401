"""Entrypoints of the portal service: ``python -m portal serve``."""

from shared_kernel.service import serve_cli

from portal.config import Settings
from portal.inject import create_app


def main() -> int:
    return serve_cli("portal", Settings, create_app)  # type: ignore[arg-type]
