"""Entrypoints of the application service: ``python -m application serve [--role http|consume|all]``
and ``… migrate`` (``--help`` lists them)."""

from application.config import Settings
from application.inject import create_app
from shared_kernel.infra.service import serve_cli


def main() -> int:
    return serve_cli("application", Settings, create_app)
