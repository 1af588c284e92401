"""A progress line on standard error for the operators' long commands (``rejudge``,
``feed``; the benchmarks' seeding): plain text, at most one line every few seconds, so
that standard output stays the command's one JSON line and a log file stays readable."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO

EVERY_SECONDS = 5.0


class Progress:
    """``show(text)`` writes the line when ``every`` seconds passed since the last one
    (the text is built only then); ``done(text)`` writes a last line (when any was shown,
    or always with ``always``)."""

    def __init__(self, out: IO[str], every: float | None = None) -> None:
        self.out = out
        self.every = EVERY_SECONDS if every is None else every
        self.shown = 0
        self.last = time.monotonic()

    def show(self, text: Callable[[], str]) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        self._write(text())

    def done(self, text: str, *, always: bool = False) -> None:
        if self.shown or always:
            self._write(text)

    def _write(self, text: str) -> None:
        self.shown += 1
        try:
            self.out.write(text + "\n")
            self.out.flush()
        except (OSError, ValueError):  # a closed or broken stream: progress is optional
            pass
