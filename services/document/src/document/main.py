"""Entrypoints of the document service: ``python -m document serve``."""

from shared_kernel.service import serve_cli

from document.config import Settings
from document.inject import create_app


def main() -> int:
    return serve_cli("document", Settings, create_app)  # type: ignore[arg-type]
