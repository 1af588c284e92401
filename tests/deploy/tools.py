"""Helpers of tests/deploy: finding the command-line tools the checks run.

A missing tool skips the test locally (with the reason and how to install it) and fails it in
CI (``CI=true``), where ``make test`` has installed it (deploy/local/install.sh).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPS_BIN = ROOT / ".deps" / "bin"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def missing(message: str) -> None:
    """Fail in CI, skip elsewhere (never returns)."""
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def tool(name: str, env: str, hint: str) -> str:
    """``$ENV``, then ``.deps/bin/<name>``, then ``PATH``; otherwise skip (fail in CI)."""
    for candidate in (os.environ.get(env), str(DEPS_BIN / name)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return found
    missing(f"{name} not found ({env}, .deps/bin/{name}, PATH): {hint}")
    raise AssertionError("unreachable")
