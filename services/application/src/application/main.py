"""Entrypoints of the application service: ``python -m application serve``."""

from application.config import Settings
from application.inject import create_app
from shared_kernel.service import serve_cli


def main() -> int:
    return serve_cli("application", Settings, create_app)
