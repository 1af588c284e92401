"""The 結果通知書 (result notice): its number, its dates and everything it prints.

Levels, decisions and card colours are named as everywhere else (``shared_kernel.labels``);
the notice prints a level without its colour, next to the colour's swatch and name.

Pure functions over ``JudgementCompletedV2``; rendering to PDF and storage are adapters.
The printed contents depend only on the event, the employer's name, the verification code
and, for a re-judgement (再判定), the number of the notice it replaces, never on the clock:
re-rendering the same judgement gives the same PDF bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from shared_kernel.events.catalogue import JudgedCriterion, JudgementCompletedV2
from shared_kernel.labels import card_colour, decision_ja, level_ja
from shared_kernel.time import japan_today

NOTICE_PREFIX = "RN-"
DENSE_AFTER = 8  # listed items beyond which the notice is set smaller to stay on one page


KIND_JA = {
    "registration_type": "技能者登録の種別",
    "days": "就業日数",
    "foreman_days": "職長としての就業日数",
    "foreman_or_leader_days": "職長又は班長としての就業日数",
    "qualification": "保有資格",
    "lower_level_qualifications": "下位レベルの保有資格",
}
# era start dates (元年 is the first, partial year)
ERAS = ((date(2019, 5, 1), "令和"), (date(1989, 1, 8), "平成"), (date(1926, 12, 25), "昭和"))


def notice_id(line_id: str, sequence: int = 1) -> str:
    """The notice number: one notice per judgement of a line (natural id).

    ``RN-<line>`` for the line's first judgement (the numbers issued before re-judgements
    existed stay as they were), ``RN-<line>-<n>`` for its n-th (再判定, n ≥ 2)."""
    if sequence < 1:
        raise ValueError(f"a judgement's sequence starts at 1, not {sequence}")
    base = f"{NOTICE_PREFIX}{line_id}"
    return base if sequence == 1 else f"{base}-{sequence}"


def previous_notice_id(
    line_id: str, sequence: int, held: Iterable[tuple[str, int]] = ()
) -> str | None:
    """The notice that a notice of judgement ``sequence`` supersedes, None for a first one.

    ``held`` are the line's notices already stored, as (number, sequence): the highest one
    below ``sequence`` is the notice its holder has in hand. When none is held (the previous
    judgement's event is late, or being handled at this very moment), the number the
    previous judgement's notice gets: the judgement service numbers a line's judgements
    1, 2, 3 … without gaps."""
    if sequence == 1:
        return None
    below = [(seq, number) for number, seq in held if seq < sequence]
    if below:
        return max(below)[1]
    return notice_id(line_id, sequence - 1)


def wareki(day: date) -> str:
    """The date as printed on Japanese notices: 令和8年11月21日 (元年 for the first year)."""
    for start, era in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def judged_on(event: JudgementCompletedV2) -> date:
    """The day of the judgement in Japan (the notice's date; 経審 asks for it)."""
    return japan_today(event.judged_at)


def counted_qualifications(event: JudgementCompletedV2) -> list[str]:
    """The qualifications that counted: ``actual`` of the met qualification criteria up to
    the requested level, each once, in the order the criteria list them."""
    seen: dict[str, None] = {}
    for c in event.criteria:
        if c.kind == "qualification" and c.met and c.actual and c.level <= event.requested_level:
            seen.setdefault(str(c.actual), None)
    return list(seen)


def unmet_criteria(event: JudgementCompletedV2) -> list[JudgedCriterion]:
    """Why a rejection was not approved: the unmet criteria of the levels above the judged
    level, up to the requested one (lower levels were met, higher were not asked for)."""
    if event.decision == "approved":
        return []
    return [
        c
        for c in event.criteria
        if not c.met and event.eligible_level < c.level <= event.requested_level
    ]


def _criterion_text(c: JudgedCriterion) -> str:
    if c.message_ja:
        return c.message_ja
    actual = "なし" if c.actual is None else _number(c.actual)
    return f"必要 {_number(c.required)}、現在 {actual}"


def _number(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else value


def context(
    event: JudgementCompletedV2,
    *,
    number: str,
    code: str,
    employer_name: str | None,
    verify_url: str,
    previous_number: str | None = None,
) -> dict[str, Any]:
    """Everything the notice template prints.

    A re-judgement's notice (``sequence`` ≥ 2) also says which notice it replaces
    (``previous_number``; by default the previous judgement's number) and why."""
    approved = event.decision == "approved"
    unmet = [
        {
            "level": c.level,
            "level_ja": level_ja(c.level, colour=False),
            "kind": KIND_JA.get(c.kind, c.kind),
            "message": _criterion_text(c),
        }
        for c in unmet_criteria(event)
    ]
    explained = {u["message"] for u in unmet}
    colour = card_colour(event.eligible_level)
    day = judged_on(event)
    qualifications = counted_qualifications(event)
    notes = [m for m in event.messages if m not in explained]
    rejudgement = _rejudgement(event, previous_number)
    listed = len(qualifications) + len(event.reconciliation) + len(unmet) + len(notes)
    listed += 2 if rejudgement else 0  # its box takes about two lines
    return {
        "number": number,
        "code": code,
        "verify_url": verify_url,
        "issued_on": wareki(day),
        "judged_on": f"{wareki(day)}（{day.isoformat()}）",
        "application_date": wareki(event.application_date),
        "body": event.evaluation_body,
        "employer_name": employer_name or f"事業者ID {event.employer_id}",
        "employer_id": event.employer_id,
        "worker_id": event.worker_id,
        "worker_name": event.worker_name,
        "trade": event.trade,
        "requested_level": event.requested_level,
        "requested_level_ja": level_ja(event.requested_level, colour=False),
        "eligible_level": event.eligible_level,
        "eligible_level_ja": level_ja(event.eligible_level, colour=False),
        "approved": approved,
        "decision_ja": decision_ja(event.decision),
        "card_colour": colour.name_ja,
        "card_rgb": colour.rgb,
        "days": event.days.model_dump() if event.days else None,
        "foreman_days": event.foreman_days.model_dump() if event.foreman_days else None,
        "qualifications": qualifications,
        "reconciliation": [
            r.reason_ja + _adopted(r.declared, r.adopted) for r in event.reconciliation
        ],
        "unmet": unmet,
        "notes": notes,
        "warnings": list(event.warnings),
        "dense": listed + len(event.warnings) > DENSE_AFTER,
        "reviewed": event.reviewed_by is not None,
        "criteria_version": event.criteria_version,
        "rejudgement": rejudgement,
    }


def _rejudgement(event: JudgementCompletedV2, previous_number: str | None) -> dict[str, Any] | None:
    """What a re-judgement's notice prints about the notice it replaces (None otherwise)."""
    if event.sequence == 1:
        return None
    previous_result = None
    if event.previous_decision is not None and event.previous_eligible_level is not None:
        decided = decision_ja(event.previous_decision)
        previous_result = f"{decided}・{level_ja(event.previous_eligible_level, colour=False)}"
    return {
        "previous_number": previous_number or previous_notice_id(event.line_id, event.sequence),
        "reason": (event.rejudgement_reason or "").strip() or None,
        "previous_result": previous_result,
    }


def _adopted(declared: str | None, adopted: str | None) -> str:
    if declared is None and adopted is None:
        return ""
    return f"（申告 {declared or '—'} → 採用 {adopted or '—'}）"
