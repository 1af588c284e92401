"""Entrypoints of the consent service: ``python -m consent serve [--role http|consume|all]``
and ``… migrate`` (``--help`` lists them)."""

from consent.config import Settings
from consent.inject import create_app
from shared_kernel.infra.service import serve_cli


def main() -> int:
    return serve_cli("consent", Settings, create_app)
