"""Entrypoints of the application service: ``python -m application serve``."""

from shared_kernel.service import serve_cli

from application.config import Settings
from application.inject import create_app


def main() -> int:
    return serve_cli("application", Settings, create_app)  # type: ignore[arg-type]
