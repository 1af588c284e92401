"""Entrypoints of the identity service: ``python -m identity serve [--role …]``,
``… migrate``, ``… create-user``, ``… bind-user`` and ``… generate-signing-key`` (prints a
new Ed25519 private key, PEM, for ``IDENTITY_SIGNING_KEYS``; ``--help`` lists them all)."""

import sys


def _create_user(argv: list[str]) -> int:
    # Admin CLI: staff accounts (database and the judgement service's master; no broker).
    from identity.adapters.inbound.cli import run

    return run(argv)


def _bind_user(argv: list[str]) -> int:
    from identity.adapters.inbound.cli import run_bind

    return run_bind(argv)


def _generate_signing_key(argv: list[str]) -> int:
    from shared_kernel.infra.auth import SigningKey

    if argv:
        print("usage: python -m identity generate-signing-key", file=sys.stderr)
        return 2
    key = SigningKey.generate()
    sys.stdout.write(key.pem())
    print(f"kid {key.kid}", file=sys.stderr)
    return 0


COMMANDS = {
    "create-user": ("create a staff account (operator, evaluator …)", _create_user),
    "bind-user": ("bind an account to an employer or evaluator scope", _bind_user),
    "generate-signing-key": (
        "print a new Ed25519 private key (PEM) for IDENTITY_SIGNING_KEYS",
        _generate_signing_key,
    ),
}


def main() -> int:
    from identity.config import Settings
    from identity.inject import create_app
    from shared_kernel.infra.service import serve_cli

    # identity reads X-Forwarded-For itself, from IDENTITY_TRUSTED_PROXIES only
    return serve_cli("identity", Settings, create_app, COMMANDS, proxy_headers=False)
