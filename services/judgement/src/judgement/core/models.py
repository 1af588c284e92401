"""The evaluation request and result (judgement-rules.md §5) as pydantic models.

``EvaluationRequest`` is what the engine takes (the CLI reads it from files, the preview
endpoint from HTTP, the consumer builds it from ApplicationSubmitted and the latest CCUS
snapshot); ``EvaluationResult`` is what it returns, field for field the §5 result.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

from judgement.core.history import WorkHistoryIndex
from judgement.core.normalise import normalise_code


def _iso_date(value: Any) -> Any:
    """Accept a ``date`` or an ISO ``YYYY-MM-DD`` string only (no timestamps, no ``20260201``)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise ValueError(f"date must be written YYYY-MM-DD, got {value!r}")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"impossible date {value!r} ({exc})") from None
    raise ValueError(f"date must be a YYYY-MM-DD string, got {type(value).__name__}")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]

# §5 roles are 職長 / 班長 / null; the CCUS snapshot's foreman / leader / worker are
# accepted too (worker = no role) and read as such by the engine.
Role = Literal["職長", "班長", "foreman", "leader", "worker"]


def _registration_type(value: Any) -> Any:
    return (
        {"detailed": "詳細型", "simple": "簡略型"}.get(value, value)
        if isinstance(value, str)
        else value
    )


def _optional_code(value: Any) -> Any:
    if isinstance(value, str):
        code = normalise_code(value)
        return code or None
    return value


_STRICT = ConfigDict(extra="forbid", frozen=True)


class CcusQualification(BaseModel):
    """A qualification (保有資格) as registered in CCUS."""

    model_config = _STRICT

    code: Annotated[str | None, BeforeValidator(_optional_code)] = None
    name: str = Field(min_length=1)
    acquired_on: IsoDate | None = None


class WorkRecord(BaseModel):
    """One CCUS 就業履歴 record: a day on a site, with the worker's role and 職種.

    Validated without Python-level validators (there may be tens of thousands): the date
    is pydantic's own (an impossible date such as 2026-02-30 is refused), the 職種 code is
    normalised (``０６－０１`` = ``0601`` = ``06-01``) when the history is indexed.
    """

    model_config = _STRICT

    date: date
    site_id: str | None = None
    role: Role | None = None
    occupation: str | None = Field(
        default=None, validation_alias=AliasChoices("occupation", "occupation_code")
    )


class CcusRecord(BaseModel):
    """The worker's CCUS data that the judgement uses (looked up from the latest snapshot)."""

    model_config = _STRICT

    worker_id: str
    registration_type: Annotated[Literal["詳細型", "簡略型"], BeforeValidator(_registration_type)]
    registered_on: IsoDate
    qualifications: list[CcusQualification] = Field(default_factory=list)
    work_history: list[WorkRecord] = Field(default_factory=list)

    _index: WorkHistoryIndex | None = PrivateAttr(default=None)
    _indexed: list[WorkRecord] | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        self._index = WorkHistoryIndex.build(self.work_history)
        self._indexed = self.work_history

    @property
    def history_index(self) -> WorkHistoryIndex:
        """The index of ``work_history``, built at validation (rebuilt if the list changed)."""
        if self._index is None or self._indexed is not self.work_history:
            self._index = WorkHistoryIndex.build(self.work_history)
            self._indexed = self.work_history
        return self._index


class YearsMonths(BaseModel):
    """A period certified in years and months (経歴証明書: 「N年Mヶ月」)."""

    model_config = _STRICT

    years: int = Field(default=0, ge=0, strict=True)
    months: int = Field(default=0, ge=0, strict=True)

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months


class CareerCertification(BaseModel):
    """The employer's 経歴証明 of pre-CCUS work: the period and the 職長 / 班長 time within it."""

    model_config = _STRICT

    start: IsoDate
    end: IsoDate
    foreman: YearsMonths | None = None
    leader: YearsMonths | None = None

    @model_validator(mode="after")
    def _ordered(self) -> CareerCertification:
        if self.end < self.start:
            raise ValueError(
                f"career_certification.end ({self.end}) is before its start ({self.start})"
            )
        return self


class EvaluationRequest(BaseModel):
    """§5 evaluation request: one worker, one trade, one requested level."""

    model_config = _STRICT

    trade: str = Field(min_length=1)
    requested_level: int = Field(ge=2, le=4, strict=True)
    application_date: IsoDate
    ccus: CcusRecord
    career_certification: CareerCertification | None = None


# --------------------------------------------------------------------------- result

Decision = Literal["approved", "rejected"]
CriterionKind = Literal[
    "registration_type",
    "days",
    "foreman_days",
    "foreman_or_leader_days",
    "qualification",
    "lower_level_qualifications",
]
WarningKind = Literal[
    "misregistered_code",
    "code_name_mismatch",
    "expired_kikan",
    "occupation_unchecked",
    "undated_qualification",
]

_RESULT = ConfigDict(extra="forbid")


class DaysResult(BaseModel):
    model_config = _RESULT

    pre_ccus: int
    ccus: int
    total: int


class ForemanDaysResult(BaseModel):
    model_config = _RESULT

    foreman: int
    leader: int
    foreman_or_leader: int


class CriterionResult(BaseModel):
    """One criterion of one level: what is required, what the worker has, whether it is met.

    ``required`` / ``actual`` are day counts (int) for the day criteria and text for the
    others; ``message_ja`` is set exactly when ``met`` is false.
    """

    model_config = _RESULT

    level: int
    kind: CriterionKind
    met: bool
    required: int | str
    actual: int | str | None
    message_ja: str | None = None


class ReconciliationEntry(BaseModel):
    """A declared value the engine did not adopt as declared, and why."""

    model_config = _RESULT

    field: str
    declared: str | None
    adopted: str | None
    reason_ja: str


class JudgementWarning(BaseModel):
    """Something an evaluator should look at; never a failure by itself."""

    model_config = _RESULT

    kind: WarningKind
    message_ja: str


class EvaluationResult(BaseModel):
    """§5 evaluation result."""

    model_config = _RESULT

    decision: Decision
    requested_level: int
    eligible_level: int
    days: DaysResult
    foreman_days: ForemanDaysResult
    criteria: list[CriterionResult]
    reconciliation: list[ReconciliationEntry]
    warnings: list[JudgementWarning]
    criteria_version: str
