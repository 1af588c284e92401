"""Entrypoints of the identity service: ``python -m identity serve``."""

from identity.config import Settings
from identity.inject import create_app
from shared_kernel.service import serve_cli


def main() -> int:
    return serve_cli("identity", Settings, create_app)
