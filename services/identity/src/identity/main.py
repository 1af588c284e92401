"""Entrypoints of the identity service: ``python -m identity serve``, ``… create-user`` and
``… bind-user``."""

import sys


def main() -> int:
    if sys.argv[1:2] == ["create-user"]:
        # Admin CLI: staff accounts (database and the judgement service's master; no broker).
        from identity.adapters.inbound.cli import run

        return run(sys.argv[2:])
    if sys.argv[1:2] == ["bind-user"]:
        from identity.adapters.inbound.cli import run_bind

        return run_bind(sys.argv[2:])

    from identity.config import Settings
    from identity.inject import create_app
    from shared_kernel.service import serve_cli

    return serve_cli("identity", Settings, create_app)
