"""Entrypoints of the identity service: ``python -m identity serve``."""

from shared_kernel.service import serve_cli

from identity.config import Settings
from identity.inject import create_app


def main() -> int:
    return serve_cli("identity", Settings, create_app)  # type: ignore[arg-type]
