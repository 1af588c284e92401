"""Entrypoints of the judgement service: ``python -m judgement serve`` and ``… evaluate``."""

import sys


def main() -> int:
    if sys.argv[1:2] == ["evaluate"]:
        # Operators' CLI: pure core + criteria master only (no broker, no database).
        from judgement.adapters.inbound.cli import run

        return run(sys.argv[2:])

    if sys.argv[1:2] == ["feed"]:
        # Stand-in for the CCUS partner system: publishes CcusWorkerSnapshot events.
        from judgement.feed.cli import run as feed

        return feed(sys.argv[2:])

    if sys.argv[1:2] == ["rejudge"]:
        # Operators: judge completed lines again after a criteria correction.
        from judgement.rejudge.cli import run as rejudge

        return rejudge(sys.argv[2:])

    from judgement.config import Settings
    from judgement.inject import create_app
    from shared_kernel.service import serve_cli

    return serve_cli("judgement", Settings, create_app)
