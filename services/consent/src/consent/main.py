"""Entrypoints of the consent service: ``python -m consent serve``."""

from shared_kernel.service import serve_cli

from consent.config import Settings
from consent.inject import create_app


def main() -> int:
    return serve_cli("consent", Settings, create_app)  # type: ignore[arg-type]
