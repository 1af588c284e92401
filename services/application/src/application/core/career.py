"""就業期間 (経歴証明) and 職長・班長 years: prefill from CCUS and validation, pure.

The rules (judgement-rules.md §2.2, research.md §4.4):

* 起算点 = the oldest 取得年月日 of the worker's CCUS qualifications, 終着点 = the CCUS
  registration date; both are only a prefill, the employer may edit them;
* start ≤ end, neither in the future;
* for an application dated ``cap_from`` or later the end may not be after ``cap_end``:
  later experience counts only through the CCUS 就業履歴. A later end is refused (not
  silently moved) with the cap explained and ``cap_end`` offered;
* for an application dated ``none_from`` or later there is no 経歴証明 at all;
* the levels of ``management_levels`` need the years and months as 職長 and as 班長, given
  explicitly (0年0ヶ月 is an answer); lines of the other levels must not carry them.

The dates and levels are the criteria master's (its ``settings.yaml`` and level tables),
published by the judgement service (``GET /rules``) and handed in as :class:`CareerRules`:
this module keeps no copy of them.

A declared start before the oldest qualification (or an end after the registration date)
is not an error: the judgement moves it (CCUSの情報を優先) — the line gets a warning saying so.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from application.core.errors import FieldError

LEVELS = (2, 3, 4)
MAX_YEARS = 60
DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
JA_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")

START_REASON = "起算点はCCUSに登録された最も古い資格の取得日です"
END_REASON = "終着点はCCUS技能者登録日です"
ROLE_JA = {"foreman": "職長", "leader": "班長"}


@dataclass(frozen=True)
class CareerRules:
    """The criteria master's rules for the forms, as the judgement service publishes them
    (``GET /rules``): the cut-off dates of the 2023-06 guideline revision (research.md
    §4.4) and the levels whose criteria count 職長・班長 time."""

    cap_from: date
    cap_end: date
    none_from: date
    management_levels: tuple[int, ...]
    master_version: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {
            "cap_from": self.cap_from.isoformat(),
            "cap_end": self.cap_end.isoformat(),
            "none_from": self.none_from.isoformat(),
        }

    def management_levels_ja(self) -> str:
        """「レベル3・4」 for the messages."""
        return "レベル" + "・".join(str(level) for level in self.management_levels)


def ja_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def months(self) -> int:
        """Months counted inclusively (2008-04-10 … 2018-05-25 = 122), as on the form."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class YearsMonths:
    years: int
    months: int

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    def as_dict(self) -> dict[str, int]:
        return {"years": self.years, "months": self.months}

    def ja(self) -> str:
        return f"{self.years}年{self.months}ヶ月"


@dataclass(frozen=True)
class Note:
    """Why a prefilled value is what it is (shown next to the field)."""

    field: str
    reason_ja: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason_ja": self.reason_ja}


@dataclass(frozen=True)
class Prefill:
    start: date | None
    end: date | None
    notes: tuple[Note, ...] = field(default_factory=tuple)

    @property
    def period(self) -> Period | None:
        if self.start is None or self.end is None:
            return None
        return Period(self.start, self.end)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "notes": [n.as_dict() for n in self.notes],
        }


def parse_date(value: Any) -> date | None:
    """``YYYY-MM-DD`` (also ``/`` or ``.``, full-width digits, ``YYYY年M月D日``); None if not."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    match = DATE.match(text) or JA_DATE.match(text)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _ccus_date(summary: dict[str, Any] | None, key: str) -> date | None:
    value = (summary or {}).get(key)
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def prefill(summary: dict[str, Any] | None, application_date: date, rules: CareerRules) -> Prefill:
    """The 就業期間 the form shows first, from the latest CCUS summary, with the reasons."""
    if application_date >= rules.none_from:
        return Prefill(
            None,
            None,
            (
                Note(
                    "career_period",
                    f"{ja_date(rules.none_from)}以降の申請では経歴証明は使用できません"
                    "（CCUSの就業履歴のみで判定されます）",
                ),
            ),
        )
    if summary is None:
        return Prefill(
            None,
            None,
            (
                Note(
                    "career_period",
                    "この技能者のCCUSデータがまだ届いていないため、就業期間を初期表示できません。"
                    "経歴証明を行う場合は期間を入力してください",
                ),
            ),
        )
    oldest = _ccus_date(summary, "oldest_qualification_on")
    registered = _ccus_date(summary, "registered_on")
    if oldest is None or registered is None:
        return Prefill(
            None,
            None,
            (
                Note(
                    "career_period",
                    "CCUSに取得年月日のある資格が登録されていないため、経歴証明の起算点がありません"
                    "（CCUS登録前の就業日数は数えられません）",
                ),
            ),
        )
    notes = [Note("start", START_REASON), Note("end", END_REASON)]
    end = registered
    if application_date >= rules.cap_from and end > rules.cap_end:
        end = rules.cap_end
        notes.append(
            Note(
                "end",
                f"{ja_date(rules.cap_from)}以降の申請のため、終着点は{ja_date(rules.cap_end)}までです"
                "（それ以降の経験はCCUSの就業履歴で数えられます）",
            )
        )
    if oldest > end:
        return Prefill(
            None,
            None,
            (
                *notes,
                Note(
                    "career_period",
                    f"最も古い資格の取得日（{ja_date(oldest)}）が終着点（{ja_date(end)}）より後のため、"
                    "経歴証明の期間はありません",
                ),
            ),
        )
    return Prefill(oldest, end, tuple(notes))


def validate_period(
    raw: dict[str, Any] | None,
    application_date: date,
    rules: CareerRules,
    prefix: str = "career_period",
) -> tuple[Period | None, list[FieldError]]:
    """The declared 就業期間 (or None for no 経歴証明) checked against the rules."""
    if raw is None or all(
        raw.get(name) is None or (isinstance(raw.get(name), str) and not raw[name].strip())
        for name in ("start", "end")
    ):
        return None, []  # no 経歴証明: CCUS data only
    errors: list[FieldError] = []
    if application_date >= rules.none_from:
        return None, [
            FieldError(
                prefix,
                "career_not_allowed",
                f"{ja_date(rules.none_from)}以降の申請では経歴証明（CCUS登録前の就業期間）は使用できません。"
                "就業期間を空にしてください（CCUSの就業履歴のみで判定されます）",
            )
        ]
    parsed: dict[str, date] = {}
    for name, label in (("start", "起算点（就業開始日）"), ("end", "終着点（就業終了日）")):
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.append(FieldError(f"{prefix}.{name}", "required", f"{label}を入力してください"))
            continue
        day = parse_date(value)
        if day is None:
            errors.append(
                FieldError(
                    f"{prefix}.{name}",
                    "invalid_date",
                    f"{label}は正しい日付を「YYYY-MM-DD」の形式で入力してください",
                )
            )
            continue
        if day > application_date:
            errors.append(
                FieldError(
                    f"{prefix}.{name}",
                    "future_date",
                    f"{label}に未来の日付は入力できません（申請日：{ja_date(application_date)}）",
                )
            )
            continue
        parsed[name] = day
    if errors:
        return None, errors
    period = Period(parsed["start"], parsed["end"])
    if period.start > period.end:
        return None, [
            FieldError(
                f"{prefix}.end",
                "end_before_start",
                "終着点（就業終了日）は起算点（就業開始日）と同じ日かそれより後の日付を入力してください",
            )
        ]
    if application_date >= rules.cap_from and period.end > rules.cap_end:
        cap = (
            f"{ja_date(rules.cap_from)}以降の申請では、経歴証明で証明できるのは"
            f"{ja_date(rules.cap_end)}までの経験です（{ja_date(rules.cap_from)}以降の経験は"
            "CCUSの就業履歴で数えられます）。"
        )
        if period.start > rules.cap_end:
            return None, [
                FieldError(
                    prefix,
                    "career_after_cutoff",
                    cap + "起算点がそれより後のため、就業期間を空にしてください",
                )
            ]
        return None, [
            FieldError(
                f"{prefix}.end",
                "career_end_after_cutoff",
                cap + f"終着点を{rules.cap_end.isoformat()}にしてください",
                suggested=rules.cap_end.isoformat(),
            )
        ]
    return period, []


def period_warnings(
    period: Period | None, summary: dict[str, Any] | None, prefix: str = "career_period"
) -> list[FieldError]:
    """What the judgement will move (CCUSの情報を優先): not errors, shown with the line."""
    if period is None or summary is None:
        return []
    warnings: list[FieldError] = []
    oldest = _ccus_date(summary, "oldest_qualification_on")
    registered = _ccus_date(summary, "registered_on")
    if oldest is not None and (period.start.year, period.start.month) < (oldest.year, oldest.month):
        warnings.append(
            FieldError(
                f"{prefix}.start",
                "start_before_oldest_qualification",
                f"起算点（{ja_date(period.start)}）がCCUSに登録された最も古い資格の取得日"
                f"（{ja_date(oldest)}）より前です。判定では{oldest.year}年{oldest.month}月から数えられます",
            )
        )
    if registered is not None and (period.end.year, period.end.month) > (
        registered.year,
        registered.month,
    ):
        warnings.append(
            FieldError(
                f"{prefix}.end",
                "end_after_registration",
                f"終着点（{ja_date(period.end)}）がCCUS技能者登録日（{ja_date(registered)}）より後です。"
                f"判定では{registered.year}年{registered.month}月までとして数えられます",
            )
        )
    return warnings


def validate_level(value: Any) -> tuple[int | None, list[FieldError]]:
    """2, 3 or 4 (a form may send ``"3"`` or ``"３"``)."""
    level = _count(value)
    if level is None or level not in LEVELS:
        return None, [
            FieldError(
                "requested_level",
                "invalid_level" if value is not None else "required",
                "申請するレベルを2・3・4の中から選択してください",
            )
        ]
    return level, []


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        return int(text) if text.isascii() and text.isdigit() else None
    return None


def validate_years_months(raw: Any, role: str) -> tuple[YearsMonths | None, list[FieldError]]:
    """One of 職長 / 班長: years 0–60 and months 0–11, both given."""
    label = ROLE_JA[role]
    if not isinstance(raw, dict):
        return None, [FieldError(role, "invalid", f"{label}の就業年数は年と月で入力してください")]
    errors: list[FieldError] = []
    parsed: dict[str, int] = {}
    for part, unit, upper in (("years", "年数", MAX_YEARS), ("months", "月数", 11)):
        value = raw.get(part)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.append(
                FieldError(
                    f"{role}.{part}",
                    "required",
                    f"{label}としての就業{unit}を入力してください（該当がない場合は0）",
                )
            )
            continue
        number = _count(value)
        if number is None or not 0 <= number <= upper:
            errors.append(
                FieldError(
                    f"{role}.{part}",
                    "out_of_range",
                    f"{label}としての就業{unit}は0〜{upper}の整数で入力してください",
                )
            )
            continue
        parsed[part] = number
    if errors:
        return None, errors
    return YearsMonths(parsed["years"], parsed["months"]), []


def validate_management(
    level: int | None, foreman: Any, leader: Any, rules: CareerRules
) -> tuple[YearsMonths | None, YearsMonths | None, list[FieldError]]:
    """The master's management levels: 職長 and 班長 required (0 allowed, but given); the
    other levels: forbidden."""
    if level is None:
        return None, None, []
    if level not in rules.management_levels:
        errors = [
            FieldError(
                role,
                "not_allowed",
                f"レベル{level}の申請では{ROLE_JA[role]}としての就業年数は入力できません"
                f"（{rules.management_levels_ja()}の申請のみ）",
            )
            for role, value in (("foreman", foreman), ("leader", leader))
            if value is not None
        ]
        return None, None, errors
    values: dict[str, YearsMonths | None] = {}
    errors = []
    for role, value in (("foreman", foreman), ("leader", leader)):
        if value is None:
            errors.append(
                FieldError(
                    role,
                    "required",
                    f"レベル{level}の申請では{ROLE_JA[role]}としての就業年数（年・月）の入力が必要です"
                    "（該当がない場合は0年0ヶ月と入力してください）",
                )
            )
            values[role] = None
            continue
        parsed, found = validate_years_months(value, role)
        errors.extend(found)
        values[role] = parsed
    if errors:
        return None, None, errors
    return values["foreman"], values["leader"], []


def management_warnings(
    level: int | None,
    period: Period | None,
    foreman: YearsMonths | None,
    leader: YearsMonths | None,
    rules: CareerRules,
) -> list[FieldError]:
    """Declared 職長・班長 time the judgement will not (fully) count."""
    if level not in rules.management_levels or foreman is None or leader is None:
        return []
    declared = foreman.total_months + leader.total_months
    if declared == 0:
        return []
    if period is None:
        return [
            FieldError(
                "foreman",
                "management_without_period",
                "経歴証明の就業期間がないため、申告した職長・班長の年数は判定に使われません"
                "（CCUSの就業履歴に記録された立場のみで数えられます）",
            )
        ]
    if declared > period.months():
        months = period.months()
        return [
            FieldError(
                "foreman",
                "management_exceeds_period",
                f"職長・班長の年数の合計（{declared // 12}年{declared % 12}ヶ月）が経歴証明の期間"
                f"（{months // 12}年{months % 12}ヶ月）を超えています。"
                "超えた分は判定で数えられません",
            )
        ]
    return []
