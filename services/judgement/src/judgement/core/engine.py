"""The judgement engine: judgement-rules.md §2 (counting days) and §3 (judging).

``evaluate(request, master)`` is the public entry point for a §5 request; the CLI, the
preview endpoint, the ApplicationSubmitted consumer and the benchmark call it. The same
judgement is available for any CCUS input that has what the engine reads
(:class:`CcusInput`: registration, qualifications and a day counter):
``evaluate_ccus`` (the §5 result, used for the compact stored form of a snapshot,
``judgement.core.compact``) and ``assess`` (levels and the met flags of every criterion
only, no texts: the criteria impact preview judges hundreds of thousands with it). All
three share the steps below, so they agree by construction (and the unit tests check it).
Pure: no I/O, no clock (the application date is an argument), no global state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from judgement.core.history import Counts
from judgement.core.master import Level, Master, MasterSettings, Table, Trade
from judgement.core.models import (
    CareerCertification,
    CriterionResult,
    DaysResult,
    EvaluationRequest,
    EvaluationResult,
    ForemanDaysResult,
    JudgementWarning,
    ReconciliationEntry,
)
from judgement.core.tree import (
    AllOf,
    AnyOf,
    AtLeast,
    Holding,
    HoldingKind,
    Leaf,
    Node,
    TreeContext,
    holding_text,
)

__all__ = [
    "LEVELS",
    "Assessment",
    "CcusInput",
    "assess",
    "criteria_context",
    "evaluate",
    "evaluate_ccus",
    "evaluate_in_context",
]


class QualificationRecord(Protocol):
    """A CCUS qualification as the engine reads it (code normalised, or None)."""

    @property
    def code(self) -> str | None: ...

    @property
    def name(self) -> str: ...

    @property
    def acquired_on(self) -> date | None: ...


class DayCounter(Protocol):
    """Distinct work dates in a window, only under the allowed 職種 codes (None = all)."""

    def count(self, first: date, last: date, allowed: frozenset[str] | None) -> Counts: ...


class CcusInput(Protocol):
    """What the engine reads of a worker's CCUS data: ``CcusRecord`` (validated §5 JSON)
    and ``judgement.core.compact.CompactCcus`` (the stored compact form) both are one."""

    @property
    def registration_type(self) -> str: ...

    @property
    def registered_on(self) -> date: ...

    @property
    def qualifications(self) -> Sequence[QualificationRecord]: ...

    @property
    def history_index(self) -> DayCounter: ...


LEVELS = (2, 3, 4)
DETAILED = "詳細型"
SIMPLE_REJECTION = "詳細型での技能者登録が必要です"


def _jdate(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _ym(months: int) -> str:
    return f"{months // 12}年{months % 12}ヶ月"


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _anniversary(d: date, years: int) -> date:
    """The same day ``years`` later; 29 February falls on 1 March in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return date(d.year + years, 3, 1)


# --------------------------------------------------------------------------- qualifications


@dataclass(slots=True)
class _Qualifications:
    held: dict[str, Holding]
    not_counted: dict[str, str]
    oldest: date | None  # 起算点: oldest 取得年月日 among all registered qualifications


def _looks_like(name: str, table: Table, master: Master) -> str | None:
    """The required item a free-text name resembles (exactly, then by containment)."""
    key = master.normalise(name)
    watched: str
    item: str
    for watched, item in table.watch_names:
        if watched == key:
            return item
    for watched, item in table.watch_names:
        if watched in key or (len(key) >= 4 and key in watched):
            return item
    return None


def _match(
    record: QualificationRecord, master: Master, table: Table, warnings: list[JudgementWarning]
) -> str | None:
    """The catalogue item a CCUS record shows: by code first, by normalised name otherwise."""
    code = record.code
    if code is not None:
        if master.is_other_code(code):
            looks = _looks_like(record.name, table, master)
            if looks is not None:
                codes = "・".join(master.items[looks].codes)
                hint = f"正しい資格コード（{codes}）" if codes else "正しい資格コード"
                warnings.append(
                    JudgementWarning(
                        kind="misregistered_code",
                        message_ja=(
                            f"資格コードの誤登録の可能性があります：「{record.name}」が"
                            f"その他の資格コード（{code}）で登録されているため算入していません"
                            f"（{looks}として算入するには{hint}での登録が必要です）"
                        ),
                    )
                )
            return None
        item: str | None = master.item_by_code(code)
        by_name: str | None
        if item is not None:
            by_name = master.item_by_name(record.name)
            if (
                by_name is not None
                and by_name != item
                and (item in table.related or by_name in table.related)
            ):
                warnings.append(
                    JudgementWarning(
                        kind="code_name_mismatch",
                        message_ja=(
                            f"資格コード{code}（{item}）と資格名「{record.name}」が一致しません。"
                            f"資格コードを優先して{item}として扱いました"
                        ),
                    )
                )
            return item
        by_name = master.item_by_name(record.name)
        if by_name is None:
            return None
        known = master.items[by_name].codes
        if known:
            if by_name in table.related:
                warnings.append(
                    JudgementWarning(
                        kind="misregistered_code",
                        message_ja=(
                            f"資格コードの誤登録の可能性があります：「{record.name}」が"
                            f"資格コード{code}で登録されているため算入していません"
                            f"（基準マスタの資格コード：{'・'.join(known)}）"
                        ),
                    )
                )
            return None
        return by_name
    named: str | None = master.item_by_name(record.name)
    return named


def _qualifications(
    records: Sequence[QualificationRecord],
    application_date: date,
    master: Master,
    table: Table,
    warnings: list[JudgementWarning],
) -> _Qualifications:
    settings = master.settings
    with_higher = application_date >= settings.supersedes_effective_from
    held: dict[str, Holding] = {}
    not_counted: dict[str, str] = {}
    oldest: date | None = None
    for record in records:
        acquired = record.acquired_on
        if (
            acquired is not None
            and acquired <= application_date
            and (oldest is None or acquired < oldest)
        ):
            oldest = acquired
        item = _match(record, master, table, warnings)
        if item is None:
            continue
        relevant = item in table.related
        if acquired is None:
            if not settings.undated_qualifications_count:
                not_counted.setdefault(
                    item, f"{record.name}の取得年月日がCCUSに登録されていないため算入できません"
                )
                if relevant:
                    warnings.append(
                        JudgementWarning(
                            kind="undated_qualification",
                            message_ja=(
                                f"「{record.name}」の取得年月日がCCUSに登録されていないため"
                                "算入していません"
                            ),
                        )
                    )
                continue
        elif acquired > application_date:
            not_counted.setdefault(
                item,
                f"{record.name}の取得年月日（{acquired.isoformat()}）が申請日より後のため"
                "算入できません",
            )
            continue
        if acquired is not None and master.items[item].is_kikan:
            expiry = _anniversary(acquired, settings.kikan_validity_years) - timedelta(days=1)
            if application_date > expiry:
                not_counted.setdefault(
                    item,
                    f"{record.name}の有効期限（{expiry.isoformat()}）が切れているため算入できません",
                )
                if relevant:
                    warnings.append(
                        JudgementWarning(
                            kind="expired_kikan",
                            message_ja=(
                                f"{record.name}（{acquired.isoformat()}取得）は有効期限"
                                f"（{expiry.isoformat()}）が切れているため算入していません。"
                                "更新講習の修了を確認してください"
                            ),
                        )
                    )
                continue
        texts: dict[HoldingKind, str] = {}
        for implied, kind in master.closure(item, with_higher).items():
            current = held.get(implied)
            if (
                current is None
                or (current.kind == "higher" and kind == "direct")
                or (
                    current.kind == kind
                    and acquired is not None
                    and (current.acquired_on is None or acquired < current.acquired_on)
                )
            ):
                text = texts.get(kind)
                if text is None:
                    text = texts[kind] = holding_text(record.name, acquired, kind)
                held[implied] = Holding(implied, text, acquired, kind)
    return _Qualifications(held, not_counted, oldest)


# --------------------------------------------------------------------------- pre-CCUS period


@dataclass(frozen=True, slots=True)
class _PreCcus:
    months: int = 0
    foreman_months: int = 0
    leader_months: int = 0


def _pre_ccus(
    cert: CareerCertification | None,
    registered_on: date,
    application_date: date,
    oldest: date | None,
    settings: MasterSettings,
    reconciliation: list[ReconciliationEntry],
) -> _PreCcus:
    if cert is None:
        return _PreCcus()
    if application_date >= settings.career_certification_ignored_from:
        reconciliation.append(
            ReconciliationEntry(
                field="career_certification",
                declared=f"{cert.start.isoformat()}〜{cert.end.isoformat()}",
                adopted=None,
                reason_ja=(
                    f"{_jdate(settings.career_certification_ignored_from)}以降の申請では"
                    "経歴証明は使用できません（CCUSの就業履歴のみで評価します）"
                ),
            )
        )
        return _PreCcus()
    declared_foreman = cert.foreman.total_months if cert.foreman else 0
    declared_leader = cert.leader.total_months if cert.leader else 0

    months = 0
    if oldest is None:
        reconciliation.append(
            ReconciliationEntry(
                field="career_certification.start",
                declared=cert.start.isoformat(),
                adopted=None,
                reason_ja=(
                    "CCUSに取得年月日のある資格が登録されていないため起算点がなく、"
                    "経歴証明の期間は算入できません"
                ),
            )
        )
    else:
        start = cert.start
        if _month_index(start) < _month_index(oldest):
            start = oldest
            reconciliation.append(
                ReconciliationEntry(
                    field="career_certification.start",
                    declared=cert.start.isoformat(),
                    adopted=oldest.isoformat(),
                    reason_ja="起算点はCCUSに登録された最も古い資格の取得日です",
                )
            )
        end = cert.end
        reason: str | None = None
        if _month_index(end) > _month_index(registered_on):
            end = registered_on
            reason = "終着点はCCUSの技能者情報登録日です"
        cap = settings.career_end_cap
        if application_date >= settings.career_end_cap_applies_from and _month_index(
            end
        ) > _month_index(cap):
            end = cap
            reason = (
                f"{_jdate(settings.career_end_cap_applies_from)}以降の申請では、経歴証明で"
                f"認められるのは{_jdate(cap)}までの経験です"
            )
        if reason is not None:
            reconciliation.append(
                ReconciliationEntry(
                    field="career_certification.end",
                    declared=cert.end.isoformat(),
                    adopted=end.isoformat(),
                    reason_ja=reason,
                )
            )
        months = max(0, _month_index(end) - _month_index(start) + 1)
        declared_months = _month_index(cert.end) - _month_index(cert.start) + 1
        if months == 0:
            reconciliation.append(
                ReconciliationEntry(
                    field="career_certification.period",
                    declared=_ym(declared_months),
                    adopted=_ym(0),
                    reason_ja="採用した起算点が終着点より後のため、経歴証明の期間は算入できません",
                )
            )

    foreman, leader = declared_foreman, declared_leader
    excess = foreman + leader - months
    if excess > 0:
        for which in settings.declared_excess_cut_order:
            if which == "leader":
                cut = min(leader, excess)
                leader -= cut
            else:
                cut = min(foreman, excess)
                foreman -= cut
            excess -= cut
        reason_ja = (
            f"職長・班長の期間の合計は、採用した経歴証明の期間（{_ym(months)}）を"
            "超えられないため、超過分を除きました"
        )
        for name, before, after in (
            ("foreman", declared_foreman, foreman),
            ("leader", declared_leader, leader),
        ):
            if after != before:
                reconciliation.append(
                    ReconciliationEntry(
                        field=f"career_certification.{name}",
                        declared=_ym(before),
                        adopted=_ym(after),
                        reason_ja=reason_ja,
                    )
                )
    return _PreCcus(months, foreman, leader)


# --------------------------------------------------------------------------- judging


def _lower_label(number: int) -> str:
    return "レベル" + "・".join(str(n) for n in range(LEVELS[0], number)) + "の保有資格"


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What every level is judged on: the table, the days and the qualifications held."""

    table: Table
    detailed: bool
    total: int
    foreman: int
    either: int
    days: DaysResult
    foreman_days: ForemanDaysResult
    quals: _Qualifications
    reconciliation: list[ReconciliationEntry]
    warnings: list[JudgementWarning]


def criteria_context(
    ccus: CcusInput,
    master: Master,
    trade_name: str,
    application_date: date,
    certification: CareerCertification | None,
) -> tuple[Table, TreeContext]:
    """The table in force and the context the engine evaluates its criteria trees in (the
    qualifications it found held, the days counted): for explaining a judgement
    (``core.outlook``) with exactly the engine's inputs."""
    data = _inputs(ccus, master, trade_name, application_date, certification)
    return data.table, TreeContext(data.quals.held, data.quals.not_counted, data.total)


def _inputs(
    ccus: CcusInput,
    master: Master,
    trade_name: str,
    application_date: date,
    certification: CareerCertification | None,
) -> _Inputs:
    """§2: the table in force, the days (pre-CCUS + CCUS) and the qualifications held."""
    trade: Trade = master.trade(trade_name)
    table = master.table_for(trade.name, application_date)
    settings = master.settings
    warnings: list[JudgementWarning] = []
    reconciliation: list[ReconciliationEntry] = []

    quals = _qualifications(ccus.qualifications, application_date, master, table, warnings)
    pre = _pre_ccus(
        certification,
        ccus.registered_on,
        application_date,
        quals.oldest,
        settings,
        reconciliation,
    )

    allowed = trade.occupation_codes(application_date)
    counts = ccus.history_index.count(ccus.registered_on, application_date, allowed)
    if allowed is not None:
        codes = "・".join(sorted(allowed)) or "なし"
        if counts.unfiltered != counts.days:
            reconciliation.append(
                ReconciliationEntry(
                    field="ccus.work_history",
                    declared=f"{counts.unfiltered:,}日",
                    adopted=f"{counts.days:,}日",
                    reason_ja=f"{trade.name}の職種（{codes}）以外の就業履歴は算入しません",
                )
            )
        if counts.unchecked:
            warnings.append(
                JudgementWarning(
                    kind="occupation_unchecked",
                    message_ja=(
                        f"職種コードのない就業履歴が{counts.unchecked:,}日分あり、"
                        f"{trade.name}の職種（{codes}）か確認できませんでした"
                        "（就業日数には算入しています）"
                    ),
                )
            )

    pre_days = settings.months_to_days(pre.months)
    pre_foreman = settings.months_to_days(pre.foreman_months)
    pre_leader = settings.months_to_days(pre.leader_months)
    if settings.foreman_or_leader_conversion == "combined_months":
        pre_either = settings.months_to_days(pre.foreman_months + pre.leader_months)
    else:
        pre_either = pre_foreman + pre_leader
    total = pre_days + counts.days
    foreman_days = pre_foreman + counts.foreman
    either_days = pre_either + counts.foreman_or_leader
    return _Inputs(
        table=table,
        detailed=ccus.registration_type == DETAILED,
        total=total,
        foreman=foreman_days,
        either=either_days,
        days=DaysResult(pre_ccus=pre_days, ccus=counts.days, total=total),
        foreman_days=ForemanDaysResult(
            foreman=foreman_days,
            leader=pre_leader + counts.leader,
            foreman_or_leader=either_days,
        ),
        quals=quals,
        reconciliation=reconciliation,
        warnings=warnings,
    )


def evaluate(request: EvaluationRequest, master: Master) -> EvaluationResult:
    """Judge one request against the master (§2–§3) and return the §5 result.

    Raises ``UnknownTrade`` for a trade the master does not know and
    ``CriteriaNotAvailable`` for a trade it cannot judge (no table in force).
    """
    return evaluate_ccus(
        request.ccus,
        master,
        trade=request.trade,
        requested_level=request.requested_level,
        application_date=request.application_date,
        career_certification=request.career_certification,
    )


def evaluate_ccus(
    ccus: CcusInput,
    master: Master,
    *,
    trade: str,
    requested_level: int,
    application_date: date,
    career_certification: CareerCertification | None = None,
) -> EvaluationResult:
    """``evaluate`` for any CCUS input (the §5 request's other fields given one by one)."""
    data = _inputs(ccus, master, trade, application_date, career_certification)
    return _evaluated(data, ccus, requested_level)


def evaluate_in_context(
    ccus: CcusInput,
    master: Master,
    *,
    trade: str,
    requested_level: int,
    application_date: date,
    career_certification: CareerCertification | None = None,
) -> tuple[EvaluationResult, Table, TreeContext]:
    """``evaluate_ccus`` and ``criteria_context`` of the same inputs, computed once (the
    outlook explains the result it reads)."""
    data = _inputs(ccus, master, trade, application_date, career_certification)
    ctx = TreeContext(data.quals.held, data.quals.not_counted, data.total)
    return _evaluated(data, ccus, requested_level), data.table, ctx


def _evaluated(data: _Inputs, ccus: CcusInput, requested_level: int) -> EvaluationResult:
    table = data.table
    total = data.total
    if not data.detailed:
        return EvaluationResult(
            decision="rejected",
            requested_level=requested_level,
            eligible_level=1,
            days=data.days,
            foreman_days=data.foreman_days,
            criteria=[
                CriterionResult(
                    level=requested_level,
                    kind="registration_type",
                    met=False,
                    required=DETAILED,
                    actual=ccus.registration_type,
                    message_ja=SIMPLE_REJECTION,
                )
            ],
            reconciliation=data.reconciliation,
            warnings=data.warnings,
            criteria_version=table.version,
        )

    ctx = TreeContext(data.quals.held, data.quals.not_counted, total)
    outcomes = {n: [node.evaluate(ctx) for node in table.levels[n].criteria_nodes] for n in LEVELS}
    qualifications_met = {n: all(o.met for o in outcomes[n]) for n in LEVELS}

    criteria: list[CriterionResult] = []
    met_levels: list[int] = []
    for number in LEVELS:
        level = table.levels[number]
        days_ok = total >= level.days
        criteria.append(
            CriterionResult(
                level=number,
                kind="days",
                met=days_ok,
                required=level.days,
                actual=total,
                message_ja=None
                if days_ok
                else f"就業日数が不足しています（必要 {level.days:,}日、現在 {total:,}日）",
            )
        )
        foreman_ok = True
        if level.foreman_scope is not None:
            only_foreman = level.foreman_scope == "職長"
            actual = data.foreman if only_foreman else data.either
            foreman_ok = actual >= level.foreman_days
            criteria.append(
                CriterionResult(
                    level=number,
                    kind="foreman_days" if only_foreman else "foreman_or_leader_days",
                    met=foreman_ok,
                    required=level.foreman_days,
                    actual=actual,
                    message_ja=None
                    if foreman_ok
                    else (
                        f"{level.foreman_scope}としての就業日数が不足しています"
                        f"（必要 {level.foreman_days:,}日、現在 {actual:,}日）"
                    ),
                )
            )
        for node, outcome in zip(level.criteria_nodes, outcomes[number], strict=True):
            criteria.append(
                CriterionResult(
                    level=number,
                    kind="qualification",
                    met=outcome.met,
                    required=node.label,
                    actual=outcome.actual,
                    message_ja=None if outcome.met else outcome.problem,
                )
            )
        lower_ok = True
        if number > LEVELS[0]:
            failing = [n for n in range(LEVELS[0], number) if not qualifications_met[n]]
            lower_ok = not failing
            criteria.append(
                CriterionResult(
                    level=number,
                    kind="lower_level_qualifications",
                    met=lower_ok,
                    required=_lower_label(number),
                    actual=None if failing else "充足",
                    message_ja=None
                    if lower_ok
                    else "レベル"
                    + "・".join(str(n) for n in failing)
                    + "の保有資格の要件を満たしていません",
                )
            )
        if days_ok and foreman_ok and qualifications_met[number] and lower_ok:
            met_levels.append(number)

    return EvaluationResult(
        decision="approved" if requested_level in met_levels else "rejected",
        requested_level=requested_level,
        eligible_level=max(met_levels, default=1),
        days=data.days,
        foreman_days=data.foreman_days,
        criteria=criteria,
        reconciliation=data.reconciliation,
        warnings=data.warnings,
        criteria_version=table.version,
    )


# --------------------------------------------------------------------------- levels only


def _holds(node: Node, held: dict[str, Holding], total: int) -> bool:
    """``node.evaluate(ctx).met`` without building its texts."""
    if isinstance(node, Leaf):
        return node.item in held
    if isinstance(node, AllOf):
        ok = all(_holds(c, held, total) for c in node.children)
    elif isinstance(node, AnyOf):
        ok = any(_holds(c, held, total) for c in node.children)
    else:
        assert isinstance(node, AtLeast)
        ok = sum(1 for c in node.children if _holds(c, held, total)) >= node.k
    return ok and (node.min_days is None or total >= node.min_days)


@dataclass(frozen=True, slots=True)
class Assessment:
    """The outcome of a judgement without its texts: what the impact preview compares.

    ``met[n]`` are the met flags of level ``n``'s criteria in the order of the §5 result's
    ``criteria`` (days, the foreman rule if any, one per top-level qualification part, the
    lower levels' qualifications from level 3); empty for a 簡略型 registration, which is
    judged on its registration alone.
    """

    eligible_level: int
    table: Table
    total_days: int
    met: dict[int, tuple[bool, ...]]

    def level(self, number: int) -> Level:
        return self.table.levels[number]


def assess(
    ccus: CcusInput,
    master: Master,
    *,
    trade: str,
    application_date: date,
    career_certification: CareerCertification | None = None,
) -> Assessment:
    """The eligible level and every criterion's met flag, as ``evaluate_ccus`` finds them."""
    data = _inputs(ccus, master, trade, application_date, career_certification)
    table = data.table
    if not data.detailed:
        return Assessment(1, table, data.total, {})
    held = data.quals.held
    total = data.total
    parts = {
        n: tuple(_holds(node, held, total) for node in table.levels[n].criteria_nodes)
        for n in LEVELS
    }
    qualifications_met = {n: all(parts[n]) for n in LEVELS}
    met: dict[int, tuple[bool, ...]] = {}
    eligible = 1
    for number in LEVELS:
        level = table.levels[number]
        flags = [total >= level.days]
        if level.foreman_scope is not None:
            actual = data.foreman if level.foreman_scope == "職長" else data.either
            flags.append(actual >= level.foreman_days)
        flags.extend(parts[number])
        if number > LEVELS[0]:
            flags.append(all(qualifications_met[n] for n in range(LEVELS[0], number)))
        met[number] = tuple(flags)
        if all(flags):
            eligible = number
    return Assessment(eligible, table, total, met)
