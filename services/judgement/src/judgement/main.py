"""Entrypoints of the judgement service: ``python -m judgement serve``."""

from shared_kernel.service import serve_cli

from judgement.config import Settings
from judgement.inject import create_app


def main() -> int:
    return serve_cli("judgement", Settings, create_app)  # type: ignore[arg-type]
