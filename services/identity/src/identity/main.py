"""Entrypoints of the identity service: ``python -m identity serve [--role …]``,
``… migrate``, ``… create-user`` and ``… bind-user`` (``--help`` lists them all)."""


def _create_user(argv: list[str]) -> int:
    # Admin CLI: staff accounts (database and the judgement service's master; no broker).
    from identity.adapters.inbound.cli import run

    return run(argv)


def _bind_user(argv: list[str]) -> int:
    from identity.adapters.inbound.cli import run_bind

    return run_bind(argv)


COMMANDS = {
    "create-user": ("create a staff account (operator, evaluator …)", _create_user),
    "bind-user": ("bind an account to an employer or evaluator scope", _bind_user),
}


def main() -> int:
    from identity.config import Settings
    from identity.inject import create_app
    from shared_kernel.service import serve_cli

    return serve_cli("identity", Settings, create_app, COMMANDS)
