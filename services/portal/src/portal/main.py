"""Entrypoints of the portal service: ``python -m portal serve [--role http|consume|all]``
and ``… migrate`` (``--help`` lists them)."""

from portal.config import Settings
from portal.inject import create_app
from shared_kernel.infra.service import serve_cli


def main() -> int:
    return serve_cli("portal", Settings, create_app)
