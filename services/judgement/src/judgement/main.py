"""Entrypoints of the judgement service: ``python -m judgement serve [--role …]``,
``… migrate``, and the operators' ``evaluate``, ``feed``, ``rejudge`` and ``retention``
(``python -m judgement --help`` lists them all)."""


def _evaluate(argv: list[str]) -> int:
    # Operators' CLI: pure core + criteria master only (no broker, no database).
    from judgement.adapters.inbound.cli import run

    return run(argv)


def _feed(argv: list[str]) -> int:
    # Stand-in for the CCUS partner system: publishes CcusWorkerSnapshot events.
    from judgement.feed.cli import run

    return run(argv)


def _rejudge(argv: list[str]) -> int:
    # Operators: judge completed lines again after a criteria correction.
    from judgement.rejudge.cli import run

    return run(argv)


def _retention(argv: list[str]) -> int:
    # Operators: delete snapshot versions neither latest nor cited (as the sweep does).
    from judgement.adapters.inbound.retention_cli import run

    return run(argv)


COMMANDS = {
    "evaluate": ("judge one worker's CCUS data from a file (no broker, no database)", _evaluate),
    "feed": ("publish CCUS worker snapshots (the partner feed's stand-in; demo data)", _feed),
    "rejudge": ("judge completed lines again after a criteria correction", _rejudge),
    "retention": ("delete old CCUS snapshot versions no judgement cites (now)", _retention),
}


def main() -> int:
    from judgement.config import Settings
    from judgement.inject import create_app
    from shared_kernel.infra.service import serve_cli

    return serve_cli("judgement", Settings, create_app, COMMANDS)
