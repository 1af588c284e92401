"""影響確認 (criteria impact preview): what a drafted criteria table would change.

Pure, no I/O (docs/criteria-admin.md; the job that feeds it is ``judgement.impact``).
Given the 分野, the master in force and the drafted master (the same master with the draft
table applied), it judges

* **workers** — the latest CCUS snapshot of every worker *of the 分野* (:class:`Membership`)
  at the highest level: requested level 4, no 経歴証明, application date the preview date
  (:func:`preview_date`: today, or the first day the drafted table applies when that is
  later);
* **lines** — every completed application line of the 分野 that a re-judgement would judge
  again (``rejudging.skip_reason``: judged by the engine, not decided by an evaluator), with
  its own request as stored (application date, requested level, 経歴証明) and the snapshot
  it cited;

under both masters (``engine.assess``: levels and met flags only, the same judgement as
``evaluate``), and tallies the eligible levels that go up, down or stay
(:class:`Tally`), a sample of up to 50 changed outcomes with the criterion that changed each
(「レベル3：就業日数 1,720日 → 1,300日」, :func:`what_changed`) and one CSV row per changed
outcome (:data:`CSV_HEADER`; the file is UTF-8 with a BOM, :func:`csv_document`). Workers
are named by their masked 技能者ID only (:func:`mask_worker_id`), lines by their id: criteria
staff see no worker's data.

**Who is "of the 分野"** (what the bodies expect: the workers a body would call its own,
not every worker in CCUS):

* a 分野 whose criteria count only some CCUS 職種 (とび 06-01, 電気工事 09-01/09-10, 建築大工
  34-01…09 …): the workers with at least one work record under one of those codes (in
  force on the preview date, in either master) — the days that would count;
* a 分野 without a 職種 list (鉄筋, 配管, 硝子工事, 防水施工 …: every work day counts, so
  "any work record" would be every worker in CCUS): the workers holding, in CCUS, a
  qualification *of that 分野*: one its table (in force or drafted) names and no other
  分野's table does (鉄筋: 1級鉄筋施工技能士, 登録鉄筋基幹技能者 …, not 玉掛け技能講習 or the
  ministers' awards, which every table names), or a lower grade of one (2級鉄筋施工技能士);
* in both cases, every worker with a completed line of the 分野 (he applied in it).

A worker of a 分野 without a 職種 list who holds only shared qualifications and never
applied is not seen (鉄筋's CCUS code, 10 or 27, is unresolved in the master; once it is
listed, its workers are found by their work records).

Lines need no such rule: a line names its 分野.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from judgement.core.compact import CompactCcus
from judgement.core.engine import LEVELS, Assessment, CcusInput, assess
from judgement.core.errors import CriteriaNotAvailable
from judgement.core.master import Master, Table
from judgement.core.models import CareerCertification

__all__ = [
    "CSV_HEADER",
    "SAMPLE_SIZE",
    "Change",
    "Membership",
    "Outcome",
    "Tally",
    "csv_document",
    "judge_both",
    "preview_date",
    "what_changed",
]

SAMPLE_SIZE = 50
TOP_LEVEL = 4
Kind = Literal["worker", "line"]
Direction = Literal["up", "down", "unchanged"]
KIND_JA = {"worker": "技能者", "line": "申請明細"}
DIRECTION_JA = {"up": "上昇", "down": "低下", "unchanged": "変化なし"}
CSV_HEADER = (
    "区分",
    "技能者ID",
    "申請明細ID",
    "判定日（申請日）",
    "申請レベル",
    "現行基準のレベル",
    "改定案のレベル",
    "変化",
    "変わった基準",
    "現行基準の版",
    "改定案の版",
)
NO_CRITERIA = "判定基準なし"


# --------------------------------------------------------------------------- the date


def preview_date(trade: str, in_force: Master, drafted: Master, today: date) -> date:
    """The date workers are judged on: ``today``, unless the drafted table first applies
    later (a new version with a future effective date: judged today, nothing would change)."""
    known = {t.effective_from for t in in_force.trade(trade).tables}
    later = [
        t.effective_from
        for t in drafted.trade(trade).tables
        if t.effective_from > today and t.effective_from not in known
    ]
    return min(later, default=today)


# --------------------------------------------------------------------------- membership


class Membership:
    """Whether a worker is of the 分野 (module docstring); ``applied``: the workers with a
    completed line of the 分野."""

    def __init__(
        self,
        trade: str,
        in_force: Master,
        drafted: Master,
        on: date,
        applied: Iterable[str] | AbstractSet[str] = (),
    ) -> None:
        codes: set[str] = set()
        listed = False
        named: set[str] = set()
        shared: set[str] = set()
        self._masters = (in_force, drafted)
        for master in self._masters:
            for other in master.trades.values():
                table = other.table_on(on)
                if other.name == trade:
                    allowed = other.occupation_codes(on)
                    if allowed is not None:
                        listed = True
                        codes |= allowed
                    if table is not None:
                        named |= table.related
                elif table is not None:
                    shared |= table.related
        own = named - shared
        for master in self._masters:  # and the lower grades of its own items
            for name in list(own):
                item = master.items.get(name)
                if item is not None:
                    own.update(lower for lower in item.supersedes if lower not in shared)
        self.occupations: frozenset[str] | None = frozenset(codes) if listed else None
        self.items = frozenset(own)
        # a set is kept as it is: the caller may add workers while the membership is used
        self.applied = applied if isinstance(applied, set | frozenset) else frozenset(applied)
        self._codes: dict[str, bool] = {}
        self._names: dict[str, bool] = {}

    def _item_held(self, code: str | None, name: str) -> bool:
        if code:
            known = self._codes.get(code)
            if known is None:
                known = any(m.item_by_code(code) in self.items for m in self._masters)
                self._codes[code] = known
            if known:
                return True
        held = self._names.get(name)
        if held is None:
            held = any(m.item_by_name(name) in self.items for m in self._masters)
            self._names[name] = held
        return held

    def __call__(self, ccus: CompactCcus, worker_id: str | None = None) -> bool:
        if worker_id is not None and worker_id in self.applied:
            return True
        if self.occupations is not None:
            return not self.occupations.isdisjoint(ccus.occupation_codes)
        return any(self._item_held(q.code, q.name) for q in ccus.qualifications)


# --------------------------------------------------------------------------- judging


@dataclass(frozen=True, slots=True)
class Outcome:
    """One judgement under both masters (``None``: no table applies on that date)."""

    before: Assessment | None
    after: Assessment | None

    @property
    def level_before(self) -> int:
        return self.before.eligible_level if self.before else 1

    @property
    def level_after(self) -> int:
        return self.after.eligible_level if self.after else 1

    @property
    def direction(self) -> Direction:
        if self.level_after > self.level_before:
            return "up"
        if self.level_after < self.level_before:
            return "down"
        return "unchanged"


def _assess(
    ccus: CcusInput,
    master: Master,
    trade: str,
    on: date,
    certification: CareerCertification | None,
) -> Assessment | None:
    try:
        return assess(
            ccus, master, trade=trade, application_date=on, career_certification=certification
        )
    except CriteriaNotAvailable:
        return None


def judge_both(
    ccus: CcusInput,
    trade: str,
    in_force: Master,
    drafted: Master,
    on: date,
    certification: CareerCertification | None = None,
) -> Outcome | None:
    """The outcome under both masters; ``None`` when neither has a table on ``on``."""
    before = _assess(ccus, in_force, trade, on, certification)
    after = _assess(ccus, drafted, trade, on, certification)
    if before is None and after is None:
        return None
    return Outcome(before, after)


# --------------------------------------------------------------------------- wording


@dataclass(frozen=True, slots=True)
class _Criterion:
    kind: str
    name_ja: str  # 就業日数, 職長としての就業日数, 保有資格 …
    required: str  # 1,720日, 「…」
    index: int = 0  # among the level's criteria of that kind


def _criteria(table: Table, number: int) -> list[_Criterion]:
    """The criteria of a level in the order of ``Assessment.met`` (and of the §5 result)."""
    level = table.levels[number]
    out = [_Criterion("days", "就業日数", f"{level.days:,}日")]
    if level.foreman_scope is not None:
        out.append(
            _Criterion(
                "foreman",
                f"{level.foreman_scope}としての就業日数",
                f"{level.foreman_days:,}日",
            )
        )
    for i, node in enumerate(level.criteria_nodes):
        out.append(_Criterion("qualification", "保有資格", f"「{node.label}」", i))
    if number > LEVELS[0]:
        out.append(_Criterion("lower", "下位レベルの保有資格", ""))
    return out


def _counterpart(criterion: _Criterion, others: Sequence[_Criterion]) -> _Criterion | None:
    for other in others:
        if other.kind == criterion.kind and other.index == criterion.index:
            return other
    return None


def _pair(number: int, old: _Criterion | None, new: _Criterion | None) -> str:
    """「レベルN：<criterion> <before> → <after>」 (なし for a criterion one table lacks)."""
    if old is not None and new is not None and old.name_ja != new.name_ja:
        # the foreman rule's scope changed (職長 → 職長又は班長): name both
        return f"レベル{number}：{old.name_ja} {old.required} → {new.name_ja} {new.required}"
    shown = old or new
    assert shown is not None
    before = old.required if old is not None else "なし"
    after = new.required if new is not None else "なし"
    return f"レベル{number}：{shown.name_ja} {before} → {after}"


def _level_reasons(number: int, before: Assessment, after: Assessment, up: bool) -> list[str]:
    """Why level ``number`` holds under one master and not under the other."""
    old = _criteria(before.table, number)
    new = _criteria(after.table, number)
    failing, failing_flags, other = (
        (old, before.met[number], new) if up else (new, after.met[number], old)
    )
    reasons: list[str] = []
    for criterion, met in zip(failing, failing_flags, strict=True):
        if met:
            continue
        counterpart = _counterpart(criterion, other)
        if criterion.kind == "lower":
            reasons.extend(_lower_reasons(number, before, after))
            continue
        pair = (criterion, counterpart) if up else (counterpart, criterion)
        if pair[0] is not None and pair[1] is not None and pair[0].required == pair[1].required:
            state = "未充足 → 充足" if up else "充足 → 未充足"
            reasons.append(f"レベル{number}：{criterion.name_ja} {criterion.required}（{state}）")
        else:
            reasons.append(_pair(number, *pair))
    # a criterion the other table added or dropped that was not the failing side's
    if not reasons:
        for criterion in other:
            if _counterpart(criterion, failing) is None:
                pair = (None, criterion) if up else (criterion, None)
                reasons.append(_pair(number, *pair))
    return reasons


def _lower_reasons(number: int, before: Assessment, after: Assessment) -> list[str]:
    reasons = []
    for lower in range(LEVELS[0], number):
        quals_before = _qualification_flags(before, lower)
        quals_after = _qualification_flags(after, lower)
        if all(quals_before) != all(quals_after):
            old = [c for c in _criteria(before.table, lower) if c.kind == "qualification"]
            new = [c for c in _criteria(after.table, lower) if c.kind == "qualification"]
            texts = "・".join(c.required for c in old) or "なし"
            drafted = "・".join(c.required for c in new) or "なし"
            reasons.append(
                f"レベル{number}：レベル{lower}の保有資格 {texts} → {drafted}"
                if texts != drafted
                else f"レベル{number}：レベル{lower}の保有資格 {texts}"
            )
    return reasons


def _qualification_flags(assessment: Assessment, number: int) -> list[bool]:
    criteria = _criteria(assessment.table, number)
    return [
        met
        for c, met in zip(criteria, assessment.met[number], strict=True)
        if c.kind == "qualification"
    ]


def what_changed(outcome: Outcome) -> str:
    """The criterion (or criteria, joined by ／) that changed a changed outcome, in Japanese,
    e.g. 「レベル3：就業日数 1,720日 → 1,300日」."""
    before, after = outcome.before, outcome.after
    if outcome.direction == "unchanged":
        return DIRECTION_JA["unchanged"]
    if before is None or after is None:
        old = before.table.version if before else NO_CRITERIA
        new = after.table.version if after else NO_CRITERIA
        return f"判定基準 {old} → {new}"
    if not before.met or not after.met:  # 簡略型: judged on the registration alone
        return "技能者登録の種別"
    up = outcome.direction == "up"
    number = min(before.eligible_level, after.eligible_level) + 1
    reasons = _level_reasons(number, before, after, up)
    return "／".join(dict.fromkeys(reasons)) or f"レベル{number}の基準"


# --------------------------------------------------------------------------- tally


@dataclass(frozen=True, slots=True)
class Change:
    """A changed outcome (one sample entry, one CSV row)."""

    kind: Kind
    worker_id: str
    line_id: str | None
    on: date
    requested_level: int
    before: int
    after: int
    direction: Direction
    criterion_ja: str
    version_before: str | None
    version_after: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "kind_ja": KIND_JA[self.kind],
            "worker_id": mask_worker_id(self.worker_id),
            "line_id": self.line_id,
            "application_date": self.on.isoformat(),
            "requested_level": self.requested_level,
            "level_before": self.before,
            "level_after": self.after,
            "change": self.direction,
            "change_ja": DIRECTION_JA[self.direction],
            "criterion_ja": self.criterion_ja,
            "version_before": self.version_before,
            "version_after": self.version_after,
        }

    def csv_row(self) -> tuple[str, ...]:
        return (
            KIND_JA[self.kind],
            mask_worker_id(self.worker_id),
            self.line_id or "",
            self.on.isoformat(),
            str(self.requested_level),
            str(self.before),
            str(self.after),
            DIRECTION_JA[self.direction],
            self.criterion_ja,
            self.version_before or NO_CRITERIA,
            self.version_after or NO_CRITERIA,
        )


def mask_worker_id(worker_id: str) -> str:
    """``9900******0002``, as on the public verification page: the preview is for criteria
    staff, who have no access to workers' data — enough to recognise a 技能者ID one holds
    (an evaluator of the 分野), not to learn one."""
    if len(worker_id) <= 8:
        return "*" * len(worker_id)
    return worker_id[:4] + "*" * (len(worker_id) - 8) + worker_id[-4:]


def _counts() -> dict[str, int]:
    return {"up": 0, "down": 0, "unchanged": 0}


@dataclass
class Tally:
    """Counts per kind, the first changed outcomes (for the sample) and the CSV rows."""

    workers: dict[str, int] = field(default_factory=_counts)
    lines: dict[str, int] = field(default_factory=_counts)
    changes: list[Change] = field(default_factory=list)  # this chunk's, for the CSV
    kept: dict[str, list[Change]] = field(
        default_factory=lambda: {"worker": [], "line": []}
    )  # up to SAMPLE_SIZE of each kind, in the order found

    def add(
        self,
        kind: Kind,
        outcome: Outcome,
        *,
        worker_id: str,
        on: date,
        line_id: str | None = None,
        requested_level: int = TOP_LEVEL,
    ) -> Change | None:
        direction = outcome.direction
        (self.workers if kind == "worker" else self.lines)[direction] += 1
        if direction == "unchanged":
            return None
        change = Change(
            kind=kind,
            worker_id=worker_id,
            line_id=line_id,
            on=on,
            requested_level=requested_level,
            before=outcome.level_before,
            after=outcome.level_after,
            direction=direction,
            criterion_ja=what_changed(outcome),
            version_before=outcome.before.table.version if outcome.before else None,
            version_after=outcome.after.table.version if outcome.after else None,
        )
        self.changes.append(change)
        kept = self.kept[kind]
        if len(kept) < SAMPLE_SIZE:
            kept.append(change)
        return change

    def merge(self, other: Tally) -> None:
        """Add a chunk's tally (its CSV rows are taken by the caller, not kept here)."""
        for key in ("up", "down", "unchanged"):
            self.workers[key] += other.workers[key]
            self.lines[key] += other.lines[key]
        for kind, found in other.kept.items():
            room = SAMPLE_SIZE - len(self.kept[kind])
            self.kept[kind].extend(found[: max(room, 0)])

    def sample(self) -> list[dict[str, Any]]:
        """Up to 50 changed outcomes: workers and lines alternately while both last."""
        workers, lines = self.kept["worker"], self.kept["line"]
        picked: list[Change] = []
        for i in range(SAMPLE_SIZE):
            for source in (workers, lines):
                if i < len(source) and len(picked) < SAMPLE_SIZE:
                    picked.append(source[i])
        return [c.as_dict() for c in picked]


# --------------------------------------------------------------------------- CSV


def csv_rows(changes: Iterable[Change]) -> str:
    """CSV text of the rows (no header, CRLF line ends, every field quoted as needed)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(c.csv_row() for c in changes)
    return out.getvalue()


def csv_header() -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(CSV_HEADER)
    return out.getvalue()


BOM = "\ufeff"


def csv_document(parts: Iterable[str]) -> Iterable[bytes]:
    """The CSV file as UTF-8 with a BOM (Excel reads Japanese right): header, then ``parts``."""
    yield (BOM + csv_header()).encode("utf-8")
    for part in parts:
        yield part.encode("utf-8")
