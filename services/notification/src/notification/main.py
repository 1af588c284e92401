"""Entrypoints of the notification service:
``python -m notification serve [--role http|consume|all]``
and ``… migrate`` (``--help`` lists them)."""

from notification.config import Settings
from notification.inject import create_app
from shared_kernel.infra.service import serve_cli


def main() -> int:
    return serve_cli("notification", Settings, create_app)
