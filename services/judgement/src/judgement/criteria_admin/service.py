"""The use cases of criteria administration (docs/criteria-admin.md).

Drafts are written through the ``CriteriaStore`` port (version-checked, the rules in
``judgement.core.criteria_admin``); every action leaves an audit entry. Approval publishes:
under the publication lease it validates the draft against the versions published *now*,
marks the draft approved, stores the immutable version with its ``CriteriaPublished`` event
(outbox), moves ``criteria_state.generation`` and rebuilds this process's master before it
returns (other processes follow within their poll interval, and a re-judgement request is
only ever judged after its consumer checked the generation). With ``rejudge`` the completed
lines of the 分野 judged by the corrected table are re-judged through the operators' path
(``judgement.rejudge.planning``), the run recorded in ``rejudge_runs``.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from judgement.core import criteria_admin as admin
from judgement.core.criteria_admin import (
    AuditAction,
    AuditEntry,
    CriteriaDraft,
    CriteriaVersion,
    QualificationDraft,
    TableDraft,
)
from judgement.core.criteria_check import Change, Problem, check_draft, diff
from judgement.core.errors import Refused, UnknownTrade
from judgement.core.master import Master
from judgement.criteria_admin.source import MasterSource
from judgement.ports.criteria import CriteriaStore, VersionExists
from shared_kernel.context import get_logger
from shared_kernel.errors import FieldError, invalid
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import CriteriaPublished
from shared_kernel.time import japan_today

log = get_logger(__name__)
SOURCE = "judgement"
IMMUTABLE = (
    "公開された判定基準の版は変更・削除できません。"
    "訂正する場合は、この版を訂正する下書きを作成してください"
)


class Actor(Protocol):
    """Who acts (the token's principal): login id, role and 分野 binding."""

    @property
    def subject(self) -> str: ...

    @property
    def role(self) -> str: ...

    def handles(self, trade: str) -> bool: ...


RejudgeRun = Callable[..., Awaitable[dict[str, Any]]]
"""Starts a re-judgement run: ``(master, trades=, run_id=, reason=, requested_by=, now=,
criteria_versions=, record=)`` → the run's summary (``judgement.rejudge.planning.run``)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Approval:
    version: CriteriaVersion
    draft: CriteriaDraft
    rejudge: dict[str, Any] | None


@dataclass(frozen=True)
class _Who:
    """An actor known by login id and role only (a hook's caller)."""

    subject: str
    role: str

    def handles(self, trade: str) -> bool:
        return True


class CriteriaAdministration:
    def __init__(
        self,
        store: CriteriaStore,
        source: MasterSource,
        *,
        rejudge: RejudgeRun | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.source = source
        self.rejudge_run = rejudge
        self.clock = clock

    # access ---------------------------------------------------------------------------
    @staticmethod
    def _editor(actor: Actor, trade: str) -> None:
        if actor.role != "criteria_editor" or not actor.handles(trade):
            raise Refused(
                "forbidden",
                "other_trade",
                f"分野「{trade}」の判定基準を編集する権限がありません",
            )

    @staticmethod
    def _reader(actor: Actor, trade: str) -> None:
        if actor.role == "criteria_approver":
            return
        CriteriaAdministration._editor(actor, trade)

    @staticmethod
    def _approver(actor: Actor) -> None:
        if actor.role != "criteria_approver":
            raise Refused("forbidden", "forbidden", "この操作を行う権限がありません。")

    @staticmethod
    def trade_name(master: Master, name: str) -> str:
        try:
            return master.trade(name).name
        except UnknownTrade as exc:
            # 422 (the request names it): the same 分野 in a path is a 404 (``unknown_trade``)
            raise invalid([FieldError("trade", exc.code, exc.message)], exc.message) from None

    async def _audit(
        self,
        actor: Actor,
        action: AuditAction,
        trade: str,
        *,
        draft_id: str | None = None,
        version_id: str | None = None,
        reason: str | None = None,
        rejudge_run_id: str | None = None,
    ) -> None:
        await self.store.record(
            AuditEntry(
                id=str(uuid.uuid4()),
                at=self.clock(),
                actor=actor.subject,
                role=actor.role,
                action=action,
                trade=trade,
                draft_id=draft_id,
                version_id=version_id,
                reason=reason,
                rejudge_run_id=rejudge_run_id,
            )
        )

    async def version(self, version_id: str) -> CriteriaVersion:
        """A published version (``version_not_found`` if there is none)."""
        found = await self.store.version(version_id)
        if found is None:
            raise Refused(
                "not_found", "version_not_found", f"判定基準の版「{version_id}」はありません"
            )
        return found

    async def versions(self, trade: str) -> list[CriteriaVersion]:
        return await self.store.versions(trade)

    async def refuse_change(self, version_id: str) -> None:
        """A published version is never changed nor deleted: always refused (409)."""
        await self.version(version_id)
        raise Refused("conflict", "published_immutable", IMMUTABLE, {"version_id": version_id})

    async def _draft(self, draft_id: str) -> CriteriaDraft:
        draft = await self.store.draft(draft_id)
        if draft is None:
            raise Refused("not_found", "draft_not_found", "該当する下書きがありません")
        return draft

    # validation ----------------------------------------------------------------------
    def problems_of(
        self,
        draft: CriteriaDraft,
        master: Master,
        versions: Sequence[CriteriaVersion],
        *,
        effective_from: date | None = None,
    ) -> list[Problem]:
        """The draft's problems against the master with ``versions`` published."""
        when = effective_from or draft.effective_from
        latest = admin.latest_of(versions, draft.trade, when)
        found: list[Problem] = []
        if draft.corrects is None and latest is not None:
            found.append(
                Problem(
                    path="effective_from",
                    message_ja=f"適用開始日{when.isoformat()}の版「{latest.id}」がすでに公開されています。"
                    "その版を訂正する下書きとして作成してください",
                )
            )
            return found
        corrected = draft.corrects is not None
        return check_draft(
            draft.table,
            draft.new_qualifications,
            trade=draft.trade,
            effective_from=when,
            revision=(latest.revision + 1) if corrected and latest else 1,
            new_version=not corrected,
            today=japan_today(self.clock()),
            master=master,
            documents=self.source.documents(
                versions, leave_out=(draft.trade, when) if corrected else None
            ),
        )

    async def impact_started(self, draft_id: str, trade: str, actor: str, role: str) -> None:
        """The audit entry of an impact preview started (the preview's ``ImpactAudit``)."""
        await self._audit(_Who(actor, role), "impact_started", trade, draft_id=draft_id)

    async def drafted(self, draft_id: str) -> tuple[str, Master, Master]:
        """``(分野, master in force, the master with the draft applied)`` — the impact
        preview's :class:`judgement.impact.DraftMasters` port. The drafted master is built
        from the same documents as the master in force, the corrected table left out and the
        draft's table (and new qualifications) added, by the master's own ``build_master``.
        Raises ``UnknownDraft`` (404) or ``DraftNotUsable`` (422, with the first problem)."""
        from judgement.core.master import build_master
        from judgement.impact import DraftNotUsable, UnknownDraft

        draft = await self.store.draft(draft_id)
        if draft is None:
            raise UnknownDraft(draft_id)
        master = await self.source.fresh()
        versions = self.source.versions
        problems = self.problems_of(draft, master, versions)
        if problems:
            first = problems[0]
            where = f"（{first.path}）" if first.path else ""
            raise DraftNotUsable(
                f"下書きに問題があるため影響を確認できません{where}：{first.message_ja}"
            )
        latest = admin.latest_of(versions, draft.trade, draft.effective_from)
        corrected = draft.corrects is not None
        revision = (latest.revision + 1) if corrected and latest else 1
        table = admin.draft_table_document(draft, draft.effective_from, revision)
        documents: dict[str, Any] = {"tables": [table]}
        if draft.new_qualifications:
            documents["qualifications"] = admin.draft_qualification_documents(draft)
        leave_out = (draft.trade, draft.effective_from) if corrected else None
        drafted = build_master(
            [*self.source.documents(versions, leave_out=leave_out), ("下書き", documents)]
        )
        return draft.trade, master, drafted

    async def problems(self, draft: CriteriaDraft) -> list[Problem]:
        master = await self.source.fresh()
        return self.problems_of(draft, master, self.source.versions)

    # reading -------------------------------------------------------------------------
    async def get(self, actor: Actor, draft_id: str) -> tuple[CriteriaDraft, list[Problem]]:
        draft = await self._draft(draft_id)
        self._reader(actor, draft.trade)
        return draft, await self.problems(draft)

    async def drafts(
        self, actor: Actor, trade: str | None = None, status: str | None = None
    ) -> list[CriteriaDraft]:
        if trade is not None:
            trade = self.trade_name(await self.source.current(), trade)
            self._reader(actor, trade)
        found = await self.store.drafts(trade, status)
        if actor.role == "criteria_approver":
            return found
        return [d for d in found if actor.handles(d.trade)]

    async def pending_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for draft in await self.store.drafts():
            if draft.status in admin.PENDING:
                counts[draft.trade] = counts.get(draft.trade, 0) + 1
        return counts

    def compared_with(self, draft: CriteriaDraft) -> CriteriaVersion | None:
        """What a draft is compared with: the version it corrects, else the version that
        would apply on its effective date without it."""
        versions = admin.in_force(self.source.versions)
        if draft.corrects is not None:
            return next((v for v in self.source.versions if v.id == draft.corrects), None)
        earlier = [
            v
            for v in versions
            if v.trade == draft.trade and v.effective_from < draft.effective_from
        ]
        return earlier[-1] if earlier else None

    async def diff(
        self, actor: Actor, draft_id: str
    ) -> tuple[CriteriaVersion | None, list[Change]]:
        draft = await self._draft(draft_id)
        self._reader(actor, draft.trade)
        await self.source.fresh()
        before = self.compared_with(draft)
        old = TableDraft.model_validate(admin.table_document(before.table)) if before else None
        return before, diff(old, draft.table, draft.new_qualifications)

    # editing -------------------------------------------------------------------------
    async def create(
        self,
        actor: Actor,
        *,
        trade: str,
        effective_from: date | None,
        corrects: str | None,
        table: TableDraft,
        new_qualifications: Sequence[QualificationDraft],
        refuse_invalid: bool = False,
    ) -> tuple[CriteriaDraft, list[Problem]]:
        """A new draft (``refuse_invalid``: an upload, stored only without invalid problems)."""
        master = await self.source.fresh()
        name = self.trade_name(master, trade)
        self._editor(actor, name)
        if table.trade is not None and self.trade_name(master, table.trade) != name:
            raise Refused(
                "invalid",
                "table_trade_mismatch",
                f"表の分野（{table.trade}）と下書きの分野（{name}）が一致しません",
            )
        if effective_from and table.effective_from and effective_from != table.effective_from:
            raise Refused(
                "invalid",
                "table_date_mismatch",
                "表の適用開始日と下書きの適用開始日が一致しません",
            )
        versions = self.source.versions
        target = admin.correction_target(
            versions, name, effective_from or table.effective_from, corrects
        )
        now = self.clock()
        when = target.effective_from if target else (effective_from or table.effective_from)
        assert when is not None  # correction_target refuses a new version without a date
        draft = admin.new_draft(
            id=admin.draft_id(now, secrets.token_hex(3)),
            trade=name,
            effective_from=when,
            corrects=target,
            table=table,
            new_qualifications=new_qualifications,
            author=actor.subject,
            now=now,
        )
        problems = self.problems_of(draft, master, versions)
        invalid = [p for p in problems if p.kind == "invalid"]
        if refuse_invalid and invalid:
            raise Refused(
                "invalid",
                "invalid_upload",
                f"アップロードされた表に{len(invalid)}件の問題があるため、登録しませんでした",
                {"problems": [p.model_dump() for p in invalid]},
            )
        stored = await self.store.insert_draft(draft)
        await self._audit(actor, "draft_created", name, draft_id=stored.id)
        return stored, problems

    async def save(
        self,
        actor: Actor,
        draft_id: str,
        *,
        expected_version: int,
        table: TableDraft,
        new_qualifications: Sequence[QualificationDraft],
        effective_from: date | None,
    ) -> tuple[CriteriaDraft, list[Problem]]:
        draft = await self._draft(draft_id)
        self._editor(actor, draft.trade)
        master = await self.source.fresh()
        if table.trade is not None and self.trade_name(master, table.trade) != draft.trade:
            raise Refused(
                "invalid",
                "table_trade_mismatch",
                f"表の分野（{table.trade}）と下書きの分野（{draft.trade}）が一致しません",
            )
        now = self.clock()
        saved = await self.store.update_draft(
            draft_id,
            lambda d: admin.edit(
                d,
                expected_version=expected_version,
                table=table,
                new_qualifications=new_qualifications,
                effective_from=effective_from or table.effective_from,
                now=now,
            ),
        )
        await self._audit(actor, "draft_saved", saved.trade, draft_id=saved.id)
        return saved, self.problems_of(saved, master, self.source.versions)

    async def submit(self, actor: Actor, draft_id: str) -> CriteriaDraft:
        draft = await self._draft(draft_id)
        self._editor(actor, draft.trade)
        master = await self.source.fresh()
        versions = self.source.versions
        now = self.clock()

        def change(current: CriteriaDraft) -> CriteriaDraft:
            problems = self.problems_of(current, master, versions)
            before = self.compared_with(current)
            old = TableDraft.model_validate(admin.table_document(before.table)) if before else None
            changed = bool(diff(old, current.table, current.new_qualifications))
            return admin.submit(current, [p.model_dump() for p in problems], changed, now)

        saved = await self.store.update_draft(draft_id, change)
        await self._audit(actor, "submitted", saved.trade, draft_id=saved.id)
        return saved

    async def withdraw(self, actor: Actor, draft_id: str) -> CriteriaDraft:
        draft = await self._draft(draft_id)
        self._editor(actor, draft.trade)
        now = self.clock()
        saved = await self.store.update_draft(draft_id, lambda d: admin.withdraw(d, now))
        await self._audit(actor, "withdrawn", saved.trade, draft_id=saved.id)
        return saved

    # decisions -----------------------------------------------------------------------
    async def return_draft(self, actor: Actor, draft_id: str, reason: str) -> CriteriaDraft:
        self._approver(actor)
        await self._draft(draft_id)
        now = self.clock()
        saved = await self.store.update_draft(
            draft_id, lambda d: admin.return_draft(d, actor.subject, reason, now)
        )
        await self._audit(actor, "returned", saved.trade, draft_id=saved.id, reason=reason)
        return saved

    async def approve(
        self,
        actor: Actor,
        draft_id: str,
        *,
        reason: str,
        rejudge: bool,
        effective_from: date | None = None,
    ) -> Approval:
        self._approver(actor)
        draft = await self._draft(draft_id)
        if draft.status == "approved" and draft.published_version:
            missing = await self.store.version(draft.published_version) is None
            if missing and draft.decided_by == actor.subject:
                # an approval interrupted between the draft and its version: finish it
                return await self._publish(actor, draft, draft.effective_from, reason, rejudge)
        now = self.clock()
        when = admin.check_approval(
            draft,
            actor.subject,
            reason=reason,
            rejudge=rejudge,
            effective_from=effective_from,
            today=japan_today(now),
        )
        return await self._publish(actor, draft, when, reason, rejudge)

    async def _publish(
        self, actor: Actor, checked: CriteriaDraft, when: date, reason: str, rejudge: bool
    ) -> Approval:
        resuming = checked.status == "approved"
        async with self.store.publishing(f"{checked.id}/{secrets.token_hex(4)}"):
            versions = await self.store.versions()
            master = await self.source.current()
            now = self.clock()
            if resuming:  # the draft is approved already: its content and date are final
                corrected = next((v for v in versions if v.id == checked.corrects), None)
                revision = corrected.revision + 1 if corrected else 1
            else:
                revision = admin.revision_for(checked, versions, when)
                problems = self.problems_of(checked, master, versions, effective_from=when)
                if problems:
                    raise Refused(
                        "invalid",
                        "has_problems",
                        f"この下書きには{len(problems)}件の問題があるため、公開できません",
                        {"problems": [p.model_dump() for p in problems]},
                    )
            version, approved = admin.publish(
                checked,
                revision=revision,
                effective_from=when,
                approver=actor.subject,
                reason=reason,
                now=now,
            )
            if not resuming:

                def claim(current: CriteriaDraft) -> CriteriaDraft:
                    if current.version != checked.version or current.status != "submitted":
                        raise Refused(
                            "conflict",
                            "draft_changed",
                            "承認の処理中に下書きが変更されました。内容を確認してから、もう一度承認してください",
                        )
                    return approved

                approved = await self.store.update_draft(checked.id, claim)
            event = Envelope(
                CriteriaPublished(
                    trade=version.trade,
                    version=version.id,
                    revision=version.revision,
                    effective_from=version.effective_from,
                    approved_by=actor.subject,
                    drafted_by=checked.author,
                    reason=reason,
                    published_at=now,
                ),
                source=SOURCE,
            )
            try:
                await self.store.insert_version(version, [event])
            except VersionExists:
                raise Refused(
                    "conflict",
                    "version_exists",
                    f"版「{version.id}」はすでに公開されています",
                ) from None
            await self.store.bump_generation(version.id)
        await self.source.reload()  # this process judges with it from now on
        await self._audit(
            actor,
            "approved",
            version.trade,
            draft_id=checked.id,
            version_id=version.id,
            reason=reason,
        )
        summary: dict[str, Any] | None = None
        if rejudge and checked.corrects is not None:
            summary = await self._rejudge(actor, version, versions, reason)
            run_id = summary.get("run_id")
            approved = await self.store.update_draft(
                checked.id, lambda d: d.model_copy(update={"rejudge_run_id": run_id})
            )
        await self._audit(
            actor,
            "published",
            version.trade,
            draft_id=checked.id,
            version_id=version.id,
            reason=reason,
            rejudge_run_id=summary.get("run_id") if summary else None,
        )
        log.info("criteria.published", version=version.id, rejudge=bool(summary))
        return Approval(version=version, draft=approved, rejudge=summary)

    async def _rejudge(
        self,
        actor: Actor,
        version: CriteriaVersion,
        before: Collection[CriteriaVersion],
        reason: str,
    ) -> dict[str, Any]:
        """Re-judge the completed lines of the 分野 whose current judgement used a revision
        of the corrected table (any earlier revision of the same effective date)."""
        family = sorted({v.id for v in before if v.key == version.key})
        now = self.clock()
        run_id = f"R{now:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        if self.rejudge_run is None:
            return {"run_id": None, "status": "not_configured"}
        master = await self.source.current()
        try:
            summary = await self.rejudge_run(
                master,
                trades={version.trade},
                run_id=run_id,
                reason=reason,
                requested_by=actor.subject,
                now=now,
                criteria_versions=family,
                record={"criteria_version": version.id, "corrected_versions": family},
            )
        except Exception as exc:  # the version is published: the run can be resumed
            log.exception("criteria.rejudge_failed", run_id=run_id)
            return {
                "run_id": run_id,
                "status": "failed",
                "message_ja": "基準は公開しましたが、再判定を開始できませんでした。"
                f"運用担当者が `python -m judgement rejudge --run-id {run_id}` で再開できます",
                "error": type(exc).__name__,
            }
        return {**summary, "status": "started", "criteria_versions": family}

    async def audit_trail(self, actor: Actor, trade: str | None = None) -> list[AuditEntry]:
        self._approver(actor)
        if trade is not None:
            trade = self.trade_name(await self.source.current(), trade)
        return await self.store.audit_trail(trade)


def problems_json(problems: Sequence[Problem]) -> list[Mapping[str, Any]]:
    return [p.model_dump() for p in problems]
