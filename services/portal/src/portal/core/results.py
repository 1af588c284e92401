"""A line's judgements and 結果通知書 after re-judgements (pure).

A line can be judged again (再判定, after a criteria correction). The judgement service
answers the line's current judgement with its ``sequence`` (1 = first) and ``history``
(oldest first, the last one current); the document service lists every notice of the line:
``RN-<line>`` for the first judgement, ``RN-<line>-<n>`` for the n-th, each with
``superseded_by`` (the newer notice's number, or null while it is the current one).

* ``current_notice`` — the notice to hand out for a line: never a superseded one;
* ``notice_missing`` — a judged line whose notice the list did not bring (asked elsewhere);
* ``history_rows`` — the 更新履歴 table, one row per change, in Japanese.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from portal.core.formatting import jp_date, result_ja

NOTICE_PREFIX = "RN-"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def sequence_of(judgement: Mapping[str, Any]) -> int:
    """Which judgement of its line this is (1 when the service does not say)."""
    return _int(judgement.get("sequence")) or 1


def notice_sequence(notice: Mapping[str, Any]) -> int:
    """The judgement a notice was issued for: its ``sequence``, else read from its number.

    ``RN-<line>`` is 1 and ``RN-<line>-<n>`` is n, compared as numbers (``-10`` is newer
    than ``-2``).
    """
    found = _int(notice.get("sequence"))
    if found is not None:
        return found
    number = str(notice.get("notice_id") or "")
    base = f"{NOTICE_PREFIX}{notice.get('line_id') or ''}-"
    if notice.get("line_id") and number.startswith(base):
        return _int(number[len(base) :]) or 1
    return 1


def notices_by_line(notices: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    """Every line's notices, oldest first (whatever order the service listed them in)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for notice in notices:
        if isinstance(notice, dict) and notice.get("line_id") and notice.get("notice_id"):
            grouped[str(notice["line_id"])].append(notice)
    return {line: sorted(items, key=notice_sequence) for line, items in grouped.items()}


def issued_for(notice: Mapping[str, Any], judgement: Mapping[str, Any]) -> bool:
    """Whether ``notice`` is the notice of ``judgement`` (by sequence, else judgement id)."""
    if judgement.get("sequence") is not None:
        return notice_sequence(notice) == sequence_of(judgement)
    if notice.get("judgement_id") and judgement.get("judgement_id"):
        return bool(notice["judgement_id"] == judgement["judgement_id"])
    return True


def current_notice(
    notices: Iterable[Mapping[str, Any]], judgement: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The line's current notice: not superseded; of several such, the highest sequence.

    With the line's current ``judgement``, None unless the notice was issued for it: just
    after a re-judgement the older notice is not superseded yet, but it no longer states
    the line's result (the new one is being made).
    """
    live = [dict(n) for n in notices if not n.get("superseded_by")]
    found = max(live, key=notice_sequence, default=None)
    if found is not None and judgement is not None and not issued_for(found, judgement):
        return None
    return found


def notice_missing(line: Mapping[str, Any]) -> bool:
    """Whether a judged line's notices (``line["notices"]``) lack the one issued for its
    current judgement: being made, or not known to the list's source."""
    if line.get("status") != "completed":
        return False
    held = [n for n in line.get("notices") or [] if isinstance(n, Mapping)]
    return not any(notice_sequence(n) == sequence_of(line) for n in held)


def _notice_of(entry: Mapping[str, Any], notices: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The notice issued for one judgement of the history (empty when there is none)."""
    wanted = entry.get("judgement_id")
    found = next((n for n in notices if wanted and n.get("judgement_id") == wanted), None)
    if found is None:
        found = next((n for n in notices if notice_sequence(n) == sequence_of(entry)), None)
    if found is None:
        return {}
    return {"notice_id": str(found["notice_id"]), "superseded": bool(found.get("superseded_by"))}


def history_rows(
    history: Iterable[Any], notices: Iterable[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The 更新履歴 of a line: one row per re-judgement, oldest first; none for one judgement.

    Each row: ``date_ja`` (the day of the new judgement, Japan time), ``before_ja`` and
    ``after_ja`` (``レベル2 承認``), ``change_ja`` (``レベル2 承認 → レベル3 承認``),
    ``reason``, the criteria versions, and the notices of both judgements (``notice_before``,
    ``notice_after``: ``{notice_id, superseded}``, empty while not issued). Used by 結果確認
    and by the application's page (which passes no notices).
    """
    judged = sorted((h for h in history if isinstance(h, Mapping)), key=sequence_of)
    issued = list(notices)
    rows = []
    for before, after in pairwise(judged):
        before_ja = result_ja(before.get("decision"), before.get("eligible_level")) or "—"
        after_ja = result_ja(after.get("decision"), after.get("eligible_level")) or "—"
        rows.append(
            {
                "sequence": sequence_of(after),
                "date_ja": jp_date(after.get("judged_at")) or "—",
                "before_ja": before_ja,
                "after_ja": after_ja,
                "change_ja": f"{before_ja} → {after_ja}",
                "reason": str(after.get("rejudgement_reason") or ""),
                "criteria_before": before.get("criteria_version"),
                "criteria_after": after.get("criteria_version"),
                "notice_before": _notice_of(before, issued),
                "notice_after": _notice_of(after, issued),
            }
        )
    return rows
