"""技能者追加: one worker line of an application, as stored and as checked, pure.

:class:`Line` is a line as the application document keeps it (a sub-model of
``applications.Application``). The service gathers what the checks need (the worker's
consent from the read model, the judgeable trades, the master's rules and the latest CCUS
summary from the judgement service) and passes it in; every problem of the line is reported
at once, field by field, in Japanese.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from application.core import address, career, consents
from application.core.career import CareerRules, Period, Prefill, YearsMonths
from application.core.consents import Consent
from application.core.errors import FieldError
from shared_kernel.aggregate import StoredDate

CcusSummary = dict[str, Any]
"""The judgement service's answer ``GET /workers/{id}/ccus`` (its JSON, not ours to type)."""
REGISTRATION_SIMPLE = ("simple", "簡略型")

DRAFT = "draft"
SUBMITTED = "submitted"
JUDGING = "judging"
COMPLETED = "completed"
WITHDRAWN = "withdrawn"


class JudgementEntry(BaseModel):
    """One judgement applied to a line (``judgement_history``; the last is the current)."""

    model_config = ConfigDict(extra="forbid")

    sequence: int
    judgement_id: str | None = None
    decision: str | None = None
    eligible_level: int | None = None
    criteria_version: str | None = None
    judged_at: datetime | None = None
    rejudgement_reason: str | None = None
    supersedes: str | None = None


class NoticeEntry(BaseModel):
    """A 結果通知書 issued for one judgement of the line (document's ResultNoticeGenerated)."""

    model_config = ConfigDict(extra="forbid")

    notice_id: str
    judgement_id: str
    sequence: int


class Preview(BaseModel):
    """What a line keeps of the judgement service's preview (the §5 result), with the flag
    shown when the line would be refused as it stands."""

    model_config = ConfigDict(extra="forbid")

    decision: str
    decision_ja: str
    requested_level: int
    eligible_level: int | None = None
    days: dict[str, Any] | None = None
    foreman_days: dict[str, Any] | None = None
    unmet: list[str] = Field(default_factory=list)
    reconciliation: list[Any] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    criteria_version: str | None = None
    application_date: str
    previewed_at: datetime
    likely_rejected: bool
    flag_ja: str | None = None


class Line(BaseModel):
    """One worker line of an application: what the employer declared, frozen with the
    consent's names and the fee at submission, then moved by the judgement's events."""

    model_config = ConfigDict(extra="forbid")

    line_id: str
    revision: int = 1
    worker_id: str
    worker_name: str
    worker_name_kana: str
    birth_date: StoredDate
    consent_id: str
    trade: str
    requested_level: int
    career_period: dict[str, str] | None = None
    career_prefill: dict[str, Any] | None = None
    foreman: dict[str, int] | None = None
    leader: dict[str, int] | None = None
    delivery_address: dict[str, str | None] | None = None
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    preview: Preview | None = None
    status: str = DRAFT
    updated_at: datetime
    added_at: datetime | None = None
    # at submission
    delivery_address_overridden: bool = False
    fee_yen: int | None = None
    submitted_at: datetime | None = None
    withdrawn_at: datetime | None = None
    # the judgement
    judgement_id: str | None = None
    started_at: datetime | None = None
    note_ja: str | None = None
    judgement_sequence: int | None = None
    decision: str | None = None
    eligible_level: int | None = None
    messages: list[str] = Field(default_factory=list)
    criteria_version: str | None = None
    evaluation_body: str | None = None
    judged_at: datetime | None = None
    supersedes: str | None = None
    rejudgement_reason: str | None = None
    judgement_history: list[JudgementEntry] = Field(default_factory=list)
    notices: list[NoticeEntry] | None = None
    """The 結果通知書 issued for the line's judgements, oldest first (None before the first)."""

    @property
    def held_sequence(self) -> int:
        """The sequence of the line's current judgement: 0 while it has none."""
        return self.judgement_sequence or 0


@dataclass(frozen=True)
class LineRequest:
    """What the employer sent for one line (``career_period_given`` False = use the prefill)."""

    worker_id: Any = None
    trade: Any = None
    requested_level: Any = None
    career_period: dict[str, Any] | None = None
    career_period_given: bool = True
    foreman: Any = None
    leader: Any = None
    delivery_address: dict[str, Any] | None = None


@dataclass(frozen=True)
class Context:
    """What the checks compare against, gathered by the service."""

    application_date: date
    trades: Collection[str]
    prefectures: Collection[str]
    consent: Consent | None
    ccus: CcusSummary | None
    rules: CareerRules


@dataclass(frozen=True)
class CheckedLine:
    worker: Consent
    trade: str
    requested_level: int
    period: Period | None
    prefill: Prefill | None
    foreman: YearsMonths | None
    leader: YearsMonths | None
    delivery_address: dict[str, str | None] | None
    warnings: list[FieldError]


def normalise_worker_id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value)
    digits = "".join(ch for ch in text if ch not in " -")
    return digits if len(digits) == 14 and digits.isascii() and digits.isdigit() else None


def normalise_trade(value: Any) -> str:
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else ""


def trade_error(value: Any, trades: Collection[str], prefix: str = "") -> FieldError | None:
    name = normalise_trade(value)
    if not name:
        return FieldError(f"{prefix}trade", "required", "申請する分野を選択してください")
    if name not in trades:
        return FieldError(
            f"{prefix}trade",
            "trade_not_available",
            f"「{name}」は能力評価基準が登録されている分野ではないため選択できません。"
            "判定できる分野の中から選択してください",
        )
    return None


def check(request: LineRequest, ctx: Context) -> tuple[CheckedLine | None, list[FieldError]]:
    errors: list[FieldError] = []
    worker_id = normalise_worker_id(request.worker_id)
    if worker_id is None:
        errors.append(
            FieldError(
                "worker_id",
                "invalid_worker_id" if request.worker_id else "required",
                "技能者を選択してください（技能者IDは14桁の数字です）",
            )
        )
    else:
        refused = consents.refusal(ctx.consent, ctx.application_date)
        if refused is not None:
            errors.append(refused)
    trade_problem = trade_error(request.trade, ctx.trades)
    if trade_problem is not None:
        errors.append(trade_problem)
    level, found = career.validate_level(request.requested_level)
    errors += found
    prefill: Prefill | None = career.prefill(ctx.ccus, ctx.application_date, ctx.rules)
    if request.career_period_given:
        period, found = career.validate_period(
            request.career_period, ctx.application_date, ctx.rules
        )
        errors += found
    else:
        assert prefill is not None
        period = prefill.period
    foreman, leader, found = career.validate_management(
        level, request.foreman, request.leader, ctx.rules
    )
    errors += found
    override: dict[str, str | None] | None = None
    if not address.is_empty(request.delivery_address):
        override, found = address.validate(
            request.delivery_address, "delivery_address", ctx.prefectures
        )
        reported = {e.field for e in found}
        missing = address.complete_errors(override, "delivery_address")
        errors += found + [e for e in missing if e.field not in reported]
    if errors:
        return None, errors
    assert ctx.consent is not None and level is not None
    warnings = career.period_warnings(period, ctx.ccus) + career.management_warnings(
        level, period, foreman, leader, ctx.rules
    )
    if (ctx.ccus or {}).get("registration_type") in REGISTRATION_SIMPLE:
        warnings.insert(
            0,
            FieldError(
                "worker_id",
                "simple_registration",
                "この技能者はCCUSに簡略型で登録されているため、レベル判定を受けられません"
                "（詳細型での技能者登録が必要です）",
            ),
        )
    return (
        CheckedLine(
            worker=ctx.consent,
            trade=normalise_trade(request.trade),
            requested_level=level,
            period=period,
            prefill=prefill,
            foreman=foreman,
            leader=leader,
            delivery_address=override,
            warnings=warnings,
        ),
        [],
    )


def recheck(line: Line, ctx: Context, prefix: str) -> list[FieldError]:
    """At submission: a stored line against today's consent, trades and dates."""
    errors: list[FieldError] = []
    refused = consents.refusal(ctx.consent, ctx.application_date, f"{prefix}worker_id")
    if refused is not None:
        errors.append(refused)
    trade_problem = trade_error(line.trade, ctx.trades, prefix)
    if trade_problem is not None:
        errors.append(trade_problem)
    _, found = career.validate_period(
        line.career_period, ctx.application_date, ctx.rules, f"{prefix}career_period"
    )
    errors += found
    _, _, found = career.validate_management(
        line.requested_level, line.foreman, line.leader, ctx.rules
    )
    errors += [FieldError(f"{prefix}{e.field}", e.code, e.message, e.suggested) for e in found]
    if line.delivery_address:
        errors += address.complete_errors(line.delivery_address, f"{prefix}delivery_address")
    return errors
