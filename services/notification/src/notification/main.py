"""Entrypoints of the notification service: ``python -m notification serve``."""

from shared_kernel.service import serve_cli

from notification.config import Settings
from notification.inject import create_app


def main() -> int:
    return serve_cli("notification", Settings, create_app)  # type: ignore[arg-type]
