"""Which notice of a line is current: derived when read, never stored (pure functions).

A line judged again (再判定) gets one notice per judgement. A notice is **superseded** when
a notice of the same line with a higher ``sequence`` exists; the line's **current** notice
is the one with the highest sequence. Nothing about this is written: a crash between the
writes of a re-judgement can never leave an outdated notice marked as valid, and notices
of a line arriving out of order settle by their sequence, not by their arrival.

Notices issued before re-judgements existed are the first (1) of their line (the migration
``0001-notice-sequence`` wrote it into them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from document.core.models import Notice
from document.core.notice import wareki

SUPERSEDED_JA = "この結果通知書は再判定により更新されています。"


def natural_key(text: str) -> tuple[str | int, ...]:
    """Sort key that orders the numbers inside ``text`` by value (``AP-9-2`` < ``AP-9-10``)."""
    parts = re.split(r"(\d+)", text)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def list_order(notice: Notice) -> tuple[tuple[str | int, ...], int]:
    """Notices by line (numbers in the line id by value), then by sequence."""
    return natural_key(notice.line_id), notice.sequence


@dataclass(frozen=True)
class Standing:
    """Where a notice stands among the notices of its line."""

    sequence: int
    superseded_by: str | None
    """The line's next notice, which replaced this one; None when this one is current."""
    current_notice_id: str
    """The line's current notice (this one when it is current)."""
    current_issued_on: str
    """The current notice's date (the judgement date, ISO)."""

    @property
    def current(self) -> bool:
        return self.superseded_by is None


def standings(notices: Iterable[Notice]) -> dict[str, Standing]:
    """The standing of each notice (by number), from notices that include every notice of
    their lines."""
    lines: dict[str, list[Notice]] = {}
    for n in notices:
        lines.setdefault(n.line_id, []).append(n)
    found: dict[str, Standing] = {}
    for of_line in lines.values():
        of_line.sort(key=lambda n: n.sequence)
        current = of_line[-1]
        for i, n in enumerate(of_line):
            following = of_line[i + 1].id if i + 1 < len(of_line) else None
            found[n.id] = Standing(
                sequence=n.sequence,
                superseded_by=following,
                current_notice_id=current.id,
                current_issued_on=current.issued_on.isoformat(),
            )
    return found


def standing_message_ja(standing: Standing) -> str | None:
    """What the public verification says of a superseded notice (None when current)."""
    if standing.current:
        return None
    day = wareki(date.fromisoformat(standing.current_issued_on))
    return (
        f"{SUPERSEDED_JA}現在の結果通知書は通知番号 {standing.current_notice_id}（{day}付け）です。"
    )
