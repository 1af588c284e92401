"""A document generated from the code and committed: ``--write`` makes it, ``--check`` fails
(exit 1, one line on stderr) when the committed one differs; a test runs ``--check``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def main(argv: list[str], document: Path, render: Callable[[], str], command: str) -> int:
    if argv not in (["--write"], ["--check"]):
        print(f"usage: {command} --write|--check", file=sys.stderr)
        return 2
    text = render()
    if argv == ["--write"]:
        document.write_text(text, encoding="utf-8")
        return 0
    if not document.exists() or document.read_text(encoding="utf-8") != text:
        print(f"{document.name} is stale: run {command} --write", file=sys.stderr)
        return 1
    return 0
