"""``python -m judgement retention``: one sweep of the stored CCUS snapshot versions now.
::
    retention [--dry-run] [--reconcile] [--grace-days N]

The sweep the consume role runs every ``RETENTION_SWEEP_SECONDS``
(``judgement.adapters.outbound.retention``): snapshots that stopped being their worker's
latest more than the grace period ago (``JUDGEMENT_SNAPSHOT_GRACE_DAYS``, default 2) and
that no judgement cites are deleted. ``--dry-run`` counts only. ``--reconcile`` first
writes the supersession records a database lacks (reads every stored snapshot once).

Settings as the service reads them (``MONGODB_URL``, ``JUDGEMENT_DB_NAME``). One JSON line
on standard output. Exit status: 0 done; 2 bad usage (one line on standard error); 1 the
database unreachable (one line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from pymongo.errors import PyMongoError

from judgement.adapters.outbound.retention import SnapshotRetention
from judgement.config import Settings
from shared_kernel.cli import InvalidInput, Parser
from shared_kernel.infra.mongo import connect

PROG = "python -m judgement retention"
EXIT_INVALID = 2
EXIT_UNAVAILABLE = 1


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = Parser(
        prog=PROG,
        description="最新でも判定の根拠でもない古いCCUSスナップショットを削除します。",
    )
    parser.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    parser.add_argument(
        "--reconcile",
        action="store_true",
        help="first record superseded snapshots the database has no record of",
    )
    parser.add_argument(
        "--grace-days",
        type=float,
        default=None,
        help="grace period in days (default: JUDGEMENT_SNAPSHOT_GRACE_DAYS)",
    )
    args = parser.parse_args(list(argv))
    if args.grace_days is not None and not args.grace_days > 0:
        raise InvalidInput(f"--grace-days must be more than 0, got {args.grace_days}")
    return args


async def run_async(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    days = args.grace_days if args.grace_days is not None else settings.snapshot_grace_days
    mongo = connect(settings.mongodb_url, serverSelectionTimeoutMS=5000)
    try:
        sweep = SnapshotRetention(mongo[settings.db_name], grace=timedelta(days=days))
        reconciled = await sweep.reconcile() if args.reconcile else 0
        result = await sweep.sweep(dry_run=args.dry_run)
        return {
            "dry_run": args.dry_run,
            "grace_days": days,
            "reconciled": reconciled,
            **result.summary(),
        }
    finally:
        await mongo.close()


def run(argv: Sequence[str]) -> int:
    try:
        args = parse_args(argv)
        settings = Settings()
        summary = asyncio.run(run_async(args, settings))
    except InvalidInput as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except ValidationError as exc:
        print(f"{PROG}: settings: {exc.errors()[0]['msg']}", file=sys.stderr)
        return EXIT_INVALID
    except PyMongoError as exc:
        print(f"{PROG}: database unavailable: {type(exc).__name__}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print(json.dumps(summary, ensure_ascii=False))
    return 0
