"""基準管理 (criteria administration), pure parts: the draft workflow, four eyes, revision
numbering, validation messages, the diff's wording and the YAML file refusals.

The use cases run here against an in-memory ``CriteriaStore`` (the same port the MongoDB
adapter implements; tests/integration/test_criteria_admin.py runs them on the real DB).
"""

from __future__ import annotations

import copy
import itertools
import os
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from judgement.adapters.inbound.http import STATUS
from judgement.core import criteria_admin as admin
from judgement.core.criteria_admin import (
    AuditEntry,
    CriteriaDraft,
    CriteriaVersion,
    QualificationDraft,
    TableDraft,
)
from judgement.core.criteria_check import check_draft, diff, structure_problems
from judgement.core.errors import Refused
from judgement.core.master import TableSpec, build_master
from judgement.criteria import packaged_documents, without_tables, yaml_files
from judgement.criteria_admin.service import CriteriaAdministration
from judgement.criteria_admin.source import MasterSource
from judgement.ports.criteria import VersionExists
from shared_kernel.events import Envelope
from shared_kernel.principal import Principal

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 2026-12-07 12:00 JST
TODAY = date(2026, 12, 7)
BASE, PACKAGED = without_tables(packaged_documents())
TEKKIN = next(t for t in PACKAGED if t.trade == "鉄筋")
TEKKIN_ID = "鉄筋@2019-10-08"

EDITOR = Principal(subject="zentekkin01", role="criteria_editor", trades=("鉄筋",))
EDITOR_2 = Principal(subject="zentekkin02", role="criteria_editor", trades=("鉄筋",))
TOBI_EDITOR = Principal(subject="tobi01", role="criteria_editor", trades=("とび",))
APPROVER = Principal(subject="mlit01", role="criteria_approver")
APPROVER_2 = Principal(subject="mlit02", role="criteria_approver")


def tekkin_table(**changes: Any) -> TableDraft:
    """鉄筋's packaged table as a draft's content, with ``changes`` applied (dotted paths)."""
    content = copy.deepcopy(admin.table_document(TEKKIN))
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = content
        for part in parents:
            node = node[part]
        node[last] = value
    return TableDraft.model_validate(content).content()


# --------------------------------------------------------------------------- in-memory store


class MemoryStore:
    """The ``CriteriaStore`` port in memory (version-checked like the MongoDB adapter)."""

    def __init__(self) -> None:
        self.version_docs: dict[str, CriteriaVersion] = {}
        self.events: list[Envelope] = []
        self.draft_docs: dict[str, CriteriaDraft] = {}
        self.entries: list[AuditEntry] = []
        self.gen = 0
        self.holder: str | None = None

    async def versions(self, trade: str | None = None) -> list[CriteriaVersion]:
        found = [v for v in self.version_docs.values() if trade in (None, v.trade)]
        return sorted(found, key=lambda v: (v.key, v.revision))

    async def version(self, version_id: str) -> CriteriaVersion | None:
        return self.version_docs.get(version_id)

    async def version_of_draft(self, draft_id: str) -> CriteriaVersion | None:
        return next((v for v in self.version_docs.values() if v.draft_id == draft_id), None)

    async def insert_version(
        self, version: CriteriaVersion, events: Sequence[Envelope] = ()
    ) -> None:
        if version.id in self.version_docs:
            raise VersionExists(version.id)
        self.version_docs[version.id] = version
        self.events.extend(events)

    async def draft(self, draft_id: str) -> CriteriaDraft | None:
        return self.draft_docs.get(draft_id)

    async def drafts(
        self, trade: str | None = None, status: str | None = None
    ) -> list[CriteriaDraft]:
        return [
            d
            for d in self.draft_docs.values()
            if trade in (None, d.trade) and status in (None, d.status)
        ]

    async def insert_draft(self, draft: CriteriaDraft) -> CriteriaDraft:
        stored = draft.model_copy(update={"version": 1})
        self.draft_docs[draft.id] = stored
        return stored

    async def update_draft(
        self, draft_id: str, change: Callable[[CriteriaDraft], CriteriaDraft]
    ) -> CriteriaDraft:
        current = self.draft_docs.get(draft_id)
        if current is None:
            raise Refused("not_found", "draft_not_found", "該当する下書きがありません")
        new = change(current).model_copy(update={"version": current.version + 1})
        self.draft_docs[draft_id] = new
        return new

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    async def audit_trail(self, trade: str | None = None) -> list[AuditEntry]:
        return [e for e in self.entries if trade in (None, e.trade)]

    async def generation(self) -> int:
        return self.gen

    async def bump_generation(self, version_id: str | None) -> int:
        self.gen += 1
        return self.gen

    @asynccontextmanager
    async def publishing(self, holder: str) -> AsyncIterator[None]:
        assert self.holder is None
        self.holder = holder
        try:
            yield
        finally:
            self.holder = None


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def criteria(store: MemoryStore) -> CriteriaAdministration:
    source = MasterSource(store, BASE, PACKAGED, clock=lambda: NOW)
    await source.current()
    return CriteriaAdministration(store, source, clock=lambda: NOW)


# --------------------------------------------------------------------------- the master in force


async def test_a_fresh_store_is_seeded_with_the_packaged_tables_once(store: MemoryStore) -> None:
    source = MasterSource(store, BASE, PACKAGED, clock=lambda: NOW)
    master = await source.current()
    assert len(store.version_docs) == len(PACKAGED) == 7
    seeded = store.version_docs[TEKKIN_ID]
    assert (seeded.revision, seeded.published_by) == (1, "seed")
    assert master.table_for("鉄筋", TODAY).version == TEKKIN_ID
    assert store.gen == 1
    again = MasterSource(store, BASE, PACKAGED, clock=lambda: NOW)
    await again.current()
    assert len(store.version_docs) == 7 and store.gen == 1  # idempotent


def test_the_highest_revision_of_each_table_is_in_force() -> None:
    seeded = admin.seed_versions(PACKAGED, NOW)
    r2 = TEKKIN.model_copy(update={"revision": 2}, deep=True)
    r2.levels[2].days = 700
    corrected = CriteriaVersion(
        id="鉄筋@2019-10-08-r2",
        trade="鉄筋",
        effective_from=TEKKIN.effective_from,
        revision=2,
        table=r2,
        published_by="mlit01",
        published_at=NOW,
    )
    master = build_master([*BASE, *admin.version_documents([*seeded, corrected])])
    table = master.table_for("鉄筋", TODAY)
    assert table.version == "鉄筋@2019-10-08-r2" and table.levels[2].days == 700
    assert master.table_for("とび", TODAY).version == "とび@2020-03-04"  # revision 1 keeps its name


# --------------------------------------------------------------------------- workflow


def _draft(**changes: Any) -> CriteriaDraft:
    return admin.new_draft(
        id="CD-20261207-abcdef",
        trade="鉄筋",
        effective_from=TEKKIN.effective_from,
        corrects=admin.seed_versions([TEKKIN], NOW)[0],
        table=tekkin_table(**changes),
        new_qualifications=[],
        author="zentekkin01",
        now=NOW,
    ).model_copy(update={"version": 1})


def test_state_transitions_of_a_draft() -> None:
    draft = _draft(**{"levels.2.days": 700})
    assert (draft.status, draft.corrects, draft.effective_from) == (
        "draft",
        TEKKIN_ID,
        date(2019, 10, 8),
    )
    with pytest.raises(Refused) as problems:
        admin.submit(draft, [{"path": "x"}], True, NOW)
    assert problems.value.code == "has_problems"
    submitted = admin.submit(draft, [], True, NOW)
    assert submitted.status == "submitted"
    with pytest.raises(Refused) as locked:
        admin.edit(
            submitted,
            expected_version=1,
            table=draft.table,
            new_qualifications=[],
            effective_from=None,
            now=NOW,
        )
    assert (locked.value.kind, locked.value.code) == ("conflict", "not_editable")
    with pytest.raises(Refused, match="差戻しの理由"):
        admin.return_draft(submitted, "mlit01", " ", NOW)
    returned = admin.return_draft(submitted, "mlit01", "出典を追記してください", NOW)
    assert (returned.status, returned.return_reason) == ("returned", "出典を追記してください")
    edited = admin.edit(
        returned,
        expected_version=1,
        table=draft.table,
        new_qualifications=[],
        effective_from=None,
        now=NOW,
    )
    assert edited.status == "draft"  # editable again, then submitted again
    withdrawn = admin.withdraw(edited, NOW)
    assert withdrawn.status == "withdrawn"
    with pytest.raises(Refused):
        admin.submit(withdrawn, [], True, NOW)


def test_a_stale_save_names_both_versions() -> None:
    draft = _draft().model_copy(update={"version": 4})
    with pytest.raises(Refused) as stale:
        admin.edit(
            draft,
            expected_version=3,
            table=draft.table,
            new_qualifications=[],
            effective_from=None,
            now=NOW,
        )
    assert stale.value.kind == "conflict" and stale.value.code == "stale_draft"
    assert (
        "あなたが編集を始めた版（3）の後に、他の方が版4を保存しています" in stale.value.message_ja
    )
    assert stale.value.details == {"your_version": 3, "current_version": 4}


def test_four_eyes_and_the_effective_date() -> None:
    submitted = admin.submit(_draft(**{"levels.2.days": 700}), [], True, NOW)
    with pytest.raises(Refused) as own:
        admin.check_approval(
            submitted, "zentekkin01", reason="x", rejudge=False, effective_from=None, today=TODAY
        )
    assert (own.value.kind, own.value.code) == ("forbidden", "own_draft")
    # a correction keeps the corrected table's date, whatever today is
    assert admin.check_approval(
        submitted, "mlit01", reason="訂正", rejudge=True, effective_from=None, today=TODAY
    ) == date(2019, 10, 8)
    with pytest.raises(Refused, match="訂正の適用開始日"):
        admin.check_approval(
            submitted, "mlit01", reason="x", rejudge=False, effective_from=TODAY, today=TODAY
        )
    new = submitted.model_copy(update={"corrects": None, "effective_from": date(2027, 4, 1)})
    assert admin.check_approval(
        new, "mlit01", reason="x", rejudge=False, effective_from=None, today=TODAY
    ) == date(2027, 4, 1)
    with pytest.raises(Refused) as past:
        admin.check_approval(
            new, "mlit01", reason="x", rejudge=False, effective_from=date(2026, 12, 6), today=TODAY
        )
    assert past.value.code == "effective_from_past" and "2026-12-06" in past.value.message_ja
    with pytest.raises(Refused) as rejudge:
        admin.check_approval(
            new, "mlit01", reason="x", rejudge=True, effective_from=None, today=TODAY
        )
    assert rejudge.value.code == "rejudge_needs_correction"
    with pytest.raises(Refused, match="理由"):
        admin.check_approval(
            new, "mlit01", reason="  ", rejudge=False, effective_from=None, today=TODAY
        )


def test_revision_numbering() -> None:
    seeded = admin.seed_versions([TEKKIN], NOW)
    draft = admin.submit(_draft(**{"levels.2.days": 700}), [], True, NOW)
    assert admin.revision_for(draft, seeded, TEKKIN.effective_from) == 2
    version, approved = admin.publish(
        draft,
        revision=2,
        effective_from=TEKKIN.effective_from,
        approver="mlit01",
        reason="訂正",
        now=NOW,
    )
    assert version.id == "鉄筋@2019-10-08-r2" and version.table.revision == 2
    assert (approved.status, approved.published_version) == ("approved", version.id)
    # a second correction drafted against revision 1 is refused once revision 2 is out …
    with pytest.raises(Refused) as superseded:
        admin.revision_for(draft, [*seeded, version], TEKKIN.effective_from)
    assert superseded.value.code == "corrected_version_superseded"
    # … and a new draft of the same table corrects the latest revision: r3
    target = admin.correction_target([*seeded, version], "鉄筋", TEKKIN.effective_from, None)
    assert target is not None and target.id == "鉄筋@2019-10-08-r2"
    with pytest.raises(Refused) as old:
        admin.correction_target([*seeded, version], "鉄筋", None, TEKKIN_ID)
    assert old.value.code == "corrected_version_superseded"
    third = draft.model_copy(update={"corrects": version.id})
    assert admin.revision_for(third, [*seeded, version], TEKKIN.effective_from) == 3
    # a new version of a date already published is a correction, not a second table
    new = draft.model_copy(update={"corrects": None})
    with pytest.raises(Refused, match="すでに公開されています"):
        admin.revision_for(new, seeded, TEKKIN.effective_from)
    with pytest.raises(Refused, match="公開された版は変更できません"):
        admin.edit(
            approved,
            expected_version=approved.version,
            table=draft.table,
            new_qualifications=[],
            effective_from=None,
            now=NOW,
        )


# --------------------------------------------------------------------------- validation


MASTER = build_master([*BASE, *admin.version_documents(admin.seed_versions(PACKAGED, NOW))])
DOCUMENTS = [
    *BASE,
    *admin.version_documents(
        admin.seed_versions(PACKAGED, NOW), leave_out=("鉄筋", date(2019, 10, 8))
    ),
]


def problems_of(
    table: TableDraft, items: Sequence[QualificationDraft] = (), **kw: Any
) -> dict[str, str]:
    found = check_draft(
        table,
        items,
        trade="鉄筋",
        effective_from=kw.get("effective_from", TEKKIN.effective_from),
        revision=2,
        new_version=kw.get("new_version", False),
        today=TODAY,
        master=MASTER,
        documents=DOCUMENTS,
    )
    return {p.path: p.message_ja for p in found}


def test_a_correct_table_has_no_problems() -> None:
    assert problems_of(tekkin_table(**{"levels.2.days": 700})) == {}


def test_validation_messages_name_the_field() -> None:
    found = problems_of(tekkin_table(**{"levels.3.foreman.days": 0, "levels.2.days": -1}))
    assert found["levels.3.foreman.days"] == "レベル3の職長日数は1以上の整数で入力してください"
    assert found["levels.2.days"] == "レベル2の就業日数は0以上の整数で入力してください"
    unknown = problems_of(
        tekkin_table(**{"levels.3.qualifications": {"all_of": ["1級鉄筋技能士X"]}})
    )
    assert unknown == {
        "levels.3.qualifications.all_of.0": "資格「1級鉄筋技能士X」は資格カタログにありません。"
        "新しい資格として追加するか、カタログから選んでください"
    }
    alias = problems_of(tekkin_table(**{"levels.2.qualifications": {"all_of": ["玉掛技能講習"]}}))
    assert "「玉掛け技能講習」という名前です" in alias["levels.2.qualifications.all_of.0"]
    shape = problems_of(
        tekkin_table(
            **{"levels.4.qualifications": {"at_least": 5, "of": ["卓越した技能者"], "x": 1}}
        )
    )
    assert (
        shape["levels.4.qualifications.at_least"]
        == "「5つ以上」は、選べる資格の数（1）以下にしてください"
    )
    assert shape["levels.4.qualifications.x"] == "条件に使えない項目「x」があります"
    scope = problems_of(tekkin_table(**{"levels.3.foreman.scope": "班長"}))
    assert "「職長」または「職長又は班長」" in scope["levels.3.foreman.scope"]


def test_a_partial_table_has_only_incomplete_problems() -> None:
    partial = TableDraft.model_validate({"levels": {2: {"days": 645}}})
    found = check_draft(
        partial,
        [],
        trade="鉄筋",
        effective_from=date(2027, 4, 1),
        revision=1,
        new_version=True,
        today=TODAY,
        master=MASTER,
        documents=DOCUMENTS,
    )
    assert {p.path for p in found} == {"source", "levels.3", "levels.4"}
    assert {p.kind for p in found} == {"incomplete"}
    assert "レベル3の基準が入力されていません" in [p.message_ja for p in found]
    past = problems_of(tekkin_table(), new_version=True, effective_from=date(2026, 12, 1))
    assert "今日（2026-12-07）以降" in past["effective_from"]


def test_a_new_qualification_in_the_same_draft() -> None:
    table = tekkin_table(
        **{"levels.3.qualifications": {"any_of": ["1級鉄筋施工技能士", "鉄筋施工管理者"]}}
    )
    assert "levels.3.qualifications.any_of.1" in problems_of(table)
    item = QualificationDraft(name="鉄筋施工管理者", codes=["12345"], category="その他")
    assert problems_of(table, [item]) == {}
    clash = QualificationDraft(
        name="鉄筋施工管理者", codes=["40040", "49999", "1234"], category="資格"
    )
    found = problems_of(table, [clash])
    assert (
        found["new_qualifications.0.codes.0"]
        == "資格コード40040はすでに資格「玉掛け技能講習」に使われています"
    )
    assert "「その他」の資格コード" in found["new_qualifications.0.codes.1"]
    assert "5桁の数字" in found["new_qualifications.0.codes.2"]
    assert "区分は次のいずれか" in found["new_qualifications.0.category"]
    known = problems_of(table, [QualificationDraft(name="玉掛け技能講習", category="技能講習")])
    assert "すでに資格カタログにあります" in known["new_qualifications.0.name"]


def test_unreadable_content_is_worded_per_field() -> None:
    with pytest.raises(ValidationError) as bad:
        TableDraft.model_validate(
            {"levels": {3: {"foreman": {"days": "abc"}, "days": 1.5}, "x": {}}, "zzz": 1}
        )
    found = {p.path: p.message_ja for p in structure_problems(bad.value.errors())}
    assert found["levels.3.foreman.days"] == "レベル3の職長日数は1以上の整数で入力してください"
    assert found["levels.3.days"] == "レベル3の就業日数は0以上の整数で入力してください"
    assert found["zzz"] == "項目「zzz」は使えません"
    assert found["levels.x.[key]"] == "レベルは2・3・4の数字で入力してください"
    with pytest.raises(ValidationError) as nul:
        TableDraft.model_validate({"source": "a\x00b"})
    assert (
        structure_problems(nul.value.errors())[0].message_ja
        == "使用できない文字（NUL文字）が含まれています"
    )


# --------------------------------------------------------------------------- diff


def test_the_diff_is_worded_for_the_bodies_staff() -> None:
    before = tekkin_table()
    after = tekkin_table(
        **{
            "levels.2.days": 700,
            "levels.3.foreman": {"scope": "職長又は班長", "days": 430},
            "levels.4.qualifications": {
                "any_of": ["登録鉄筋基幹技能者", "優秀施工者国土交通大臣顕彰", "鉄筋施工管理者"]
            },
        }
    )
    item = QualificationDraft(name="鉄筋施工管理者", codes=["12345"], category="その他")
    changes = {(c.level, c.criterion): c for c in diff(before, after, [item])}
    days = changes[(2, "days")]
    assert (days.before, days.after, days.change, days.change_ja) == (
        "645日",
        "700日",
        "changed",
        "変更",
    )
    assert days.summary_ja == "レベル2の就業日数：645日 → 700日"
    assert changes[(3, "foreman")].summary_ja == (
        "レベル3の職長・班長としての就業日数："
        "職長又は班長として645日以上 → 職長又は班長として430日以上"
    )
    quals = changes[(4, "qualifications")]
    assert quals.items_added == ["鉄筋施工管理者"]
    assert quals.items_removed == ["卓越した技能者", "安全優良職長厚生労働大臣顕彰"] or set(
        quals.items_removed
    ) == {
        "卓越した技能者",
        "安全優良職長厚生労働大臣顕彰",
    }
    assert quals.summary_ja.startswith("レベル4の保有資格：「鉄筋施工管理者」を追加、")
    catalogue = changes[(None, "catalogue")]
    assert (
        catalogue.change == "added"
        and catalogue.after == "鉄筋施工管理者（資格コード 12345、区分 その他）"
    )
    assert len(changes) == 4  # nothing else changed
    assert diff(before, before) == []
    # against nothing: every criterion is added
    added = diff(None, TableDraft.model_validate({"levels": {2: {"days": 645}}}))
    assert [(c.criterion, c.change, c.summary_ja) for c in added] == [
        ("days", "added", "レベル2の就業日数を追加：645日")
    ]


# --------------------------------------------------------------------------- YAML files


def test_an_export_round_trips_through_upload() -> None:
    version = admin.seed_versions([TEKKIN], NOW)[0]
    text = yaml_files.dump(admin.export_document(version), ["comment"])
    assert text.startswith("# comment\n") and "&" not in text and "*" not in text
    table, items = yaml_files.draft_content(yaml_files.parse(text.encode()))
    assert (table.trade, table.effective_from, items) == ("鉄筋", TEKKIN.effective_from, [])
    assert (
        TableSpec.model_validate(admin.table_document_of(table, "鉄筋", TEKKIN.effective_from, 1))
        == TEKKIN
    )
    # the same shape as the packaged file
    assert yaml.safe_load(text)["tables"][0]["levels"][2] == {
        "days": 645,
        "qualifications": {"all_of": ["玉掛け技能講習"]},
    }


def refused(data: bytes | str) -> yaml_files.UploadRefused:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(yaml_files.UploadRefused) as caught:
        yaml_files.draft_content(yaml_files.parse(raw))
    return caught.value


def test_an_anchor_bomb_is_refused_before_anything_is_built() -> None:
    names = "abcdefghij"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{new}: &{new} [*{old}, *{old}, *{old}, *{old}, *{old}]\n"
        for old, new in itertools.pairwise(names)
    )
    error = refused(bomb)
    assert (STATUS[error.code], error.code) == (422, "yaml_anchor")
    assert "アンカー" in error.message_ja
    assert refused("tables: [*x]\n").code in ("yaml_alias", "invalid_yaml")


def test_garbage_is_refused() -> None:
    rng = random.Random(21)
    ten_mb = os.urandom(10 * 1024 * 1024)
    assert (STATUS[refused(ten_mb).code], refused(ten_mb).code) == (413, "payload_too_large")
    garbage = bytes(rng.randrange(256) for _ in range(200_000))
    assert STATUS[refused(garbage).code] == 422
    text_garbage = "".join(rng.choice("{}[]:,-&*!|>'\"#%@` \n\tあ") for _ in range(100_000))
    assert STATUS[refused(text_garbage).code] == 422
    assert refused("- [" * 100 + "x").code in ("yaml_too_deep", "invalid_yaml")
    assert refused("a: !!python/object:os.system x\n").code == "yaml_tag"
    assert refused("tables: []\n---\ntables: []\n").code == "yaml_documents"
    assert refused("\x00").code == "invalid_character"
    assert STATUS[refused("x: " + "9" * 5000 + "\n").code] == 422
    assert refused("just text").code == "not_a_table_file"


def test_wrong_types_and_foreign_sections_are_refused_with_japanese_messages() -> None:
    text = (
        "settings: {days_per_year: 1}\n"
        "tables: [{trade: 鉄筋, effective_from: 2027-04-01, source: x, levels: {2: {days: 1}}}]\n"
    )
    assert refused(text).code == "unsupported_section"
    wrong = refused(
        "tables:\n  - {trade: 鉄筋, effective_from: 2027-04-01, source: x,"
        " levels: {2: {days: '645日'}}}\n"
        "qualifications:\n  - {name: X, codes: [40040], category: 技能講習}\n"
    )
    assert wrong.code == "unreadable_table"
    messages = {p.path: p.message_ja for p in wrong.problems}
    assert messages["tables.0.levels.2.days"] == "レベル2の就業日数は0以上の整数で入力してください"
    assert "引用符で囲んだ5桁の数字" in messages["qualifications.0.codes.0"]
    assert refused("tables: [{levels: {}}]\n").code == "table_identity_missing"
    assert refused("tables: [{}, {}]\n").code == "one_table"


# --------------------------------------------------------------------------- the use cases


async def test_drafting_approving_and_publishing(
    criteria: CriteriaAdministration, store: MemoryStore
) -> None:
    draft, problems = await criteria.create(
        EDITOR,
        trade="鉄筋",
        effective_from=TEKKIN.effective_from,  # the date of a published table: a correction
        corrects=None,
        table=tekkin_table(**{"levels.2.days": 700}),
        new_qualifications=[],
    )
    assert problems == [] and draft.corrects == TEKKIN_ID and draft.version == 1
    with pytest.raises(Refused) as other:
        await criteria.submit(TOBI_EDITOR, draft.id)
    assert (other.value.kind, other.value.code) == ("forbidden", "other_trade")
    with pytest.raises(Refused) as no_role:
        await criteria.approve(EDITOR_2, draft.id, reason="x", rejudge=False)
    assert no_role.value.kind == "forbidden"
    await criteria.submit(EDITOR_2, draft.id)  # another editor of the 分野 may submit it
    with pytest.raises(Refused) as own:
        await criteria.approve(
            Principal(subject="zentekkin01", role="criteria_approver"),
            draft.id,
            reason="x",
            rejudge=False,
        )
    assert own.value.code == "own_draft"
    done = await criteria.approve(APPROVER, draft.id, reason="L2日数の転記誤り", rejudge=False)
    assert done.version.id == "鉄筋@2019-10-08-r2" and done.draft.status == "approved"
    # this process judges with it at once
    assert criteria.source.master.table_for("鉄筋", TODAY).levels[2].days == 700
    event = store.events[-1].event
    assert event.model_dump(mode="json") | {"published_at": None} == {
        "trade": "鉄筋",
        "version": "鉄筋@2019-10-08-r2",
        "revision": 2,
        "effective_from": "2019-10-08",
        "approved_by": "mlit01",
        "drafted_by": "zentekkin01",
        "reason": "L2日数の転記誤り",
        "published_at": None,
    }
    with pytest.raises(Refused) as again:
        await criteria.approve(APPROVER_2, draft.id, reason="x", rejudge=False)
    assert (again.value.kind, again.value.code) == ("conflict", "published_immutable")
    actions = [(e.action, e.actor) for e in store.entries]
    assert actions == [
        ("draft_created", "zentekkin01"),
        ("submitted", "zentekkin02"),
        ("approved", "mlit01"),
        ("published", "mlit01"),
    ]


async def test_an_upload_with_invalid_parts_stores_nothing(
    criteria: CriteriaAdministration, store: MemoryStore
) -> None:
    bad = tekkin_table(**{"levels.3.qualifications": {"all_of": ["存在しない資格"]}})
    with pytest.raises(Refused) as refused_upload:
        await criteria.create(
            EDITOR,
            trade="鉄筋",
            effective_from=date(2027, 4, 1),
            corrects=None,
            table=bad,
            new_qualifications=[],
            refuse_invalid=True,
        )
    assert refused_upload.value.code == "invalid_upload"
    assert refused_upload.value.details["problems"][0]["path"] == "levels.3.qualifications.all_of.0"
    assert store.draft_docs == {} and store.entries == []
    # the same content through the editor's form is kept, with its problem, as a draft
    kept, problems = await criteria.create(
        EDITOR,
        trade="鉄筋",
        effective_from=date(2027, 4, 1),
        corrects=None,
        table=bad,
        new_qualifications=[],
    )
    assert kept.corrects is None and [p.path for p in problems] == [
        "levels.3.qualifications.all_of.0"
    ]


async def test_extra_master_files_still_load_on_top(store: MemoryStore) -> None:
    from pathlib import Path

    from judgement.criteria import extra_documents

    extra = Path(__file__).parent / "fixtures" / "extra"
    source = MasterSource(store, BASE, PACKAGED, extra_documents([extra]), clock=lambda: NOW)
    master = await source.current()
    assert master.table_for("試験施工", date(2026, 12, 1)).version == "試験施工@2026-12-01"
    assert master.table_for("型枠", date(2027, 4, 1)).version == "型枠@2027-04-01"
    assert "試験施工@2026-12-01" not in store.version_docs  # extras are not published versions
    # a draft of a (trade, date) an extra file holds cannot be published over it
    criteria = CriteriaAdministration(store, source, clock=lambda: NOW)
    _, problems = await criteria.create(
        Principal(subject="k1", role="criteria_editor", trades=("型枠",)),
        trade="型枠",
        effective_from=date(2027, 4, 1),
        corrects=None,
        table=tekkin_table(),
        new_qualifications=[],
    )
    assert [p.message_ja.startswith("基準マスタとして読み込めません") for p in problems] == [True]
