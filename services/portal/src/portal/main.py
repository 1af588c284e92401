"""Entrypoints of the portal service: ``python -m portal serve [--role http|consume|all]``
and ``… migrate`` (``--help`` lists them)."""

import sys

from portal.config import Settings
from portal.inject import create_app
from shared_kernel.infra.service import serve_cli


def main() -> int:
    if sys.argv[1:2] == ["migrate"]:  # the portal owns no data: no database to migrate
        print("portal: migrated (nothing to migrate: the portal owns no data)")
        return 0
    return serve_cli("portal", Settings, create_app)
