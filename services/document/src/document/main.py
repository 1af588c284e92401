"""Entrypoints of the document service: ``python -m document serve [--role http|consume|all]``
and ``… migrate`` (``--help`` lists them)."""

from document.config import Settings
from document.inject import create_app
from shared_kernel.infra.service import serve_cli


def main() -> int:
    return serve_cli("document", Settings, create_app)
