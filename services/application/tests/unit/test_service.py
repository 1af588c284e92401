"""The use cases over in-memory ports: idempotent submission, isolation, judgement outages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from application import data
from application.core import applications, summaries
from application.core.applications import Application, Header
from application.core.career import CareerRules
from application.core.consents import Consent
from application.core.errors import ApplicationError, JudgementUnavailable
from application.core.service import ApplicationService, Policy
from application.core.summaries import ApplicationSummary
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ResultNoticeGenerated
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.testing import MemoryDocuments, judgement_completed
from shared_kernel.principal import Principal

from .conftest import (
    ADDRESS,
    EMPLOYER,
    NOW,
    OTHER_EMPLOYER,
    RULES,
    ccus,
    grant,
    level2,
    level4,
)

KEY = "key-0001"


class FakeJudgement:
    def __init__(self) -> None:
        self.down = False
        self.summaries: dict[str, dict[str, Any]] = {
            "99000000000003": ccus("99000000000003"),
            "99000000000001": ccus("99000000000001", oldest="2015-05-01", registered="2020-04-01"),
        }
        self.previews: list[tuple[dict[str, Any], str]] = []
        self.decision = "rejected"

    async def judgeable_trades(self) -> frozenset[str]:
        if self.down:
            raise JudgementUnavailable("down")
        return frozenset({"鉄筋", "とび"})

    async def rules(self) -> CareerRules:
        if self.down:
            raise JudgementUnavailable("down")
        return RULES

    async def ccus_summary(self, worker_id: str, authorization: str) -> dict[str, Any] | None:
        if self.down:
            raise JudgementUnavailable("down")
        return self.summaries.get(worker_id)

    async def preview(self, body: dict[str, Any], authorization: str) -> dict[str, Any]:
        self.previews.append((body, authorization))
        return {
            "decision": self.decision,
            "requested_level": body["requested_level"],
            "eligible_level": 1,
            "days": {"pre_ccus": 0, "ccus": 0, "total": 0},
            "foreman_days": {"foreman": 0, "leader": 0, "foreman_or_leader": 0},
            "criteria": [
                {
                    "level": 2,
                    "kind": "days",
                    "met": False,
                    "required": 645,
                    "actual": 0,
                    "message_ja": "就業日数が645日に足りません（0日）",
                }
            ],
            "reconciliation": [],
            "warnings": [],
            "criteria_version": "鉄筋@2019-10-08",
        }


ME = Principal(subject="kensetsu01", role="employer", employer_id=EMPLOYER)
OTHER = Principal(subject="other0001", role="employer", employer_id=OTHER_EMPLOYER)
AUTH = "Bearer token"


class World:
    def __init__(self) -> None:
        self.applications = MemoryDocuments()
        self.consents = MemoryDocuments()
        self.summaries = MemoryDocuments()
        self.judgement = FakeJudgement()
        self.now = NOW
        policy = Policy(schedule=data.fee_schedule(), prefectures=data.prefectures())
        self.service = ApplicationService(
            Repository(self.applications, Application),
            Repository(self.consents, Consent),
            self.judgement,
            policy,
            Repository(self.summaries, ApplicationSummary),
            clock=lambda: self.now,
        )

    async def consent(self, *workers: str) -> None:
        for worker in workers:
            await self.service.on_consent_granted(Envelope(grant(worker), source="consent"))

    async def ready_draft(self) -> str:
        await self.consent("99000000000003", "99000000000001")
        header = Header(ADDRESS, True, {"career_certified": True, "card_issuance_consented": True})
        created = await self.service.create(ME, header)
        app_id = created["application_id"]
        await self.service.add_line(ME, app_id, level4(), AUTH)
        await self.service.add_line(ME, app_id, level2(), AUTH)
        return str(app_id)


@pytest.fixture
def world() -> World:
    return World()


async def test_the_same_key_submits_once_and_replays_the_answer(world: World) -> None:
    app_id = await world.ready_draft()
    first = await world.service.submit(ME, app_id, KEY)
    world.now += timedelta(minutes=1)
    again = await world.service.submit(ME, app_id, KEY)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.response == first.response
    assert len(world.applications.outbox("application.submitted")) == 1
    with pytest.raises(ApplicationError) as other_key:
        await world.service.submit(ME, app_id, "key-0002")
    assert other_key.value.code == "already_submitted"


async def test_a_key_used_for_one_application_is_refused_for_another(world: World) -> None:
    first = await world.ready_draft()
    await world.service.submit(ME, first, KEY)
    header = Header(ADDRESS, True, {"career_certified": True, "card_issuance_consented": True})
    second = (await world.service.create(ME, header))["application_id"]
    with pytest.raises(ApplicationError) as refused:
        await world.service.submit(ME, second, KEY)
    assert refused.value.code == "idempotency_key_reused"


async def test_a_refused_submission_is_not_bound_to_its_key(world: World) -> None:
    app_id = await world.ready_draft()
    await world.service.update_header(
        ME, app_id, Header(declarations={"card_issuance_consented": False})
    )
    with pytest.raises(ApplicationError) as refused:
        await world.service.submit(ME, app_id, KEY)
    assert [e.field for e in refused.value.errors] == ["declarations.card_issuance_consented"]
    await world.service.update_header(
        ME, app_id, Header(declarations={"card_issuance_consented": True})
    )
    assert (await world.service.submit(ME, app_id, KEY)).replayed is False


async def test_another_employer_sees_and_changes_nothing(world: World) -> None:
    app_id = await world.ready_draft()
    line_id = f"{app_id}-01"
    attempts = [
        world.service.get(OTHER, app_id),
        world.service.update_header(
            OTHER, app_id, Header(declarations={"career_certified": False})
        ),
        world.service.add_line(OTHER, app_id, level2(), AUTH),
        world.service.replace_line(OTHER, app_id, line_id, level2(), AUTH),
        world.service.remove_line(OTHER, app_id, line_id),
        world.service.preview(OTHER, app_id, line_id, AUTH),
        world.service.submit(OTHER, app_id, KEY),
        world.service.withdraw(OTHER, app_id, None),
        world.service.discard(OTHER, app_id),
    ]
    for attempt in attempts:
        with pytest.raises(ApplicationError) as refused:
            await attempt
        assert refused.value.code == "not_found"
    assert await world.service.list(OTHER, None) == []
    assert [a["application_id"] for a in await world.service.list(ME, "draft")] == [app_id]
    assert await world.service.workers(OTHER) == []


async def test_a_worker_without_consent_cannot_be_added(world: World) -> None:
    app_id = (await world.service.create(ME, Header()))["application_id"]
    with pytest.raises(ApplicationError) as refused:
        await world.service.add_line(ME, app_id, level4(), AUTH)
    assert [(e.field, e.code) for e in refused.value.errors] == [("worker_id", "consent_required")]
    # another employer's consent for the same worker does not count
    await world.service.on_consent_granted(
        Envelope(grant("99000000000003", employer_id=OTHER_EMPLOYER), source="consent")
    )
    with pytest.raises(ApplicationError):
        await world.service.add_line(ME, app_id, level4(), AUTH)


async def test_a_judgement_outage_surfaces_as_unavailable(world: World) -> None:
    await world.consent("99000000000003")
    app_id = (await world.service.create(ME, Header()))["application_id"]
    world.judgement.down = True
    with pytest.raises(JudgementUnavailable):
        await world.service.add_line(ME, app_id, level4(), AUTH)
    assert (await world.service.get(ME, app_id))["lines"] == []


async def test_prefill_and_preview_forward_the_callers_token(world: World) -> None:
    app_id = await world.ready_draft()
    prefill = await world.service.career_prefill(ME, "99000000000003", AUTH)
    assert prefill["career_period"]["start"] == "1987-04-01"
    assert prefill["career_period"]["end"] == "2019-06-03"
    preview = await world.service.preview(ME, app_id, f"{app_id}-02", AUTH)
    assert preview["flag_ja"] == "このままでは不承認となる見込みです"
    assert world.judgement.previews[0][1] == AUTH
    assert world.judgement.previews[0][0]["application_date"] == "2026-11-28"
    stored = (await world.service.get(ME, app_id))["lines"][1]
    assert stored["flag_ja"] == "このままでは不承認となる見込みです"
    assert stored["preview"]["unmet"] == ["就業日数が645日に足りません（0日）"]
    with pytest.raises(ApplicationError) as nobody:
        await world.service.career_prefill(ME, "99000000000002", AUTH)
    assert nobody.value.code == "worker_not_found"


async def test_reminders_once_a_day(world: World) -> None:
    await world.ready_draft()
    assert await world.service.send_reminders() == 0
    world.now += timedelta(hours=72)
    assert await world.service.send_reminders() == 1
    assert await world.service.send_reminders() == 0
    world.now += timedelta(hours=23)
    assert await world.service.send_reminders() == 0
    world.now += timedelta(hours=1)
    assert await world.service.send_reminders() == 1
    assert len(world.applications.outbox("application.draft-reminder")) == 2


async def test_ids_are_retried_on_a_collision(world: World) -> None:
    world.service.randbelow = lambda n: 0
    first = await world.service.create(ME, Header())
    draws = iter([0] * 6 + [1] * 6)
    world.service.randbelow = lambda n: next(draws)
    second = await world.service.create(ME, Header())
    assert first["application_id"].endswith("-000000")
    assert second["application_id"].endswith("-111111")
    assert second["application_id"].startswith("AP-20261128-")


def judged(app_id: str, sequence: int, decision: str, level: int, at: Any) -> Envelope:
    line_id = f"{app_id}-02"
    rejudged = sequence > 1
    return Envelope(
        judgement_completed(
            judgement_id=f"J-{line_id}-R1" if rejudged else f"J-{line_id}",
            application_id=app_id,
            line_id=line_id,
            employer_id=EMPLOYER,
            worker_id="99000000000001",
            worker_name="髙橋 健太",
            application_date=NOW.date(),
            decision=decision,
            eligible_level=level,
            judged_at=at,
            sequence=sequence,
            supersedes=f"J-{line_id}" if rejudged else None,
            rejudgement_run_id="R1" if rejudged else None,
            rejudgement_reason="判定基準の訂正" if rejudged else None,
        ),
        source="judgement",
    )


async def test_a_rejudgement_updates_the_line_and_leaves_a_later_consent_valid(
    world: World,
) -> None:
    app_id = await world.ready_draft()
    await world.service.submit(ME, app_id, KEY)
    worker = "99000000000001"
    # the line's first judgement ends the worker's consent (granted 2026-11-01)
    world.now = NOW + timedelta(hours=2)
    await world.service.on_judgement_completed(judged(app_id, 1, "rejected", 1, world.now))
    assert worker not in {w["worker_id"] for w in await world.service.workers(ME)}
    # the worker consents again; then the line is judged again (再判定) after that grant
    world.now = NOW + timedelta(days=3)
    await world.service.on_consent_granted(
        Envelope(grant(worker, granted_at=world.now), source="consent")
    )
    world.now += timedelta(days=1)
    rejudgement = judged(app_id, 2, "approved", 2, world.now)
    await world.service.on_judgement_completed(rejudgement)
    assert worker in {w["worker_id"] for w in await world.service.workers(ME)}
    line = (await world.service.get(ME, app_id))["lines"][1]
    assert (line["decision"], line["eligible_level"], line["judgement_sequence"]) == (
        "approved",
        2,
        2,
    )
    assert [e["decision"] for e in line["judgement_history"]] == ["rejected", "approved"]
    summary = (await world.service.list(ME, None))[0]
    assert (summary["approved_count"], summary["rejected_count"]) == (1, 0)
    # the first judgement again (another copy) changes neither the line nor the consent
    stale = judged(app_id, 1, "rejected", 1, NOW + timedelta(hours=2))
    await world.service.on_judgement_completed(stale)
    assert (await world.service.get(ME, app_id))["lines"][1]["judgement_sequence"] == 2
    assert worker in {w["worker_id"] for w in await world.service.workers(ME)}


async def test_a_draft_shows_what_it_would_cost_if_submitted_today(world: World) -> None:
    app_id = await world.ready_draft()
    draft = await world.service.get(ME, app_id)
    assert (draft["line_count"], draft["fee_total_yen"]) == (2, 8000)
    assert (await world.service.list(ME, "draft"))[0]["fee_total_yen"] == 8000
    world.now = NOW.replace(year=2025, month=9)  # a fee-support period: 0 yen
    assert (await world.service.get(ME, app_id))["fee_total_yen"] == 0
    world.now = NOW
    await world.service.submit(ME, app_id, KEY)
    world.now = NOW.replace(year=2025, month=9)  # fixed at submission
    assert (await world.service.get(ME, app_id))["fee_total_yen"] == 8000


async def test_a_consent_whose_term_is_one_year_outlives_the_judgement(world: World) -> None:
    app_id = await world.ready_draft()
    await world.service.submit(ME, app_id, KEY)
    worker = "99000000000001"
    one_year = grant(worker, granted_at=NOW - timedelta(days=1), ends_on_first_judgement=False)
    await world.service.on_consent_granted(Envelope(one_year, source="consent"))
    world.now = NOW + timedelta(hours=2)
    await world.service.on_judgement_completed(judged(app_id, 1, "approved", 2, world.now))
    assert worker in {w["worker_id"] for w in await world.service.workers(ME)}


async def test_a_submission_needs_a_well_formed_key_and_a_list_a_known_status(
    world: World,
) -> None:
    app_id = await world.ready_draft()
    for key, code in [
        (None, "idempotency_key_required"),
        ("  ", "idempotency_key_required"),
        ("キー", "invalid_idempotency_key"),
        ("k" * 256, "invalid_idempotency_key"),
    ]:
        with pytest.raises(ApplicationError) as refused:
            await world.service.submit(ME, app_id, key)
        assert refused.value.code == code
    with pytest.raises(ApplicationError) as unknown:
        await world.service.list(ME, "unknown")
    assert [(e.field, e.code) for e in unknown.value.errors] == [("status", "invalid_status")]


# --- the list read model (issue 24) -------------------------------------------------------


def listed_from_applications(world: World, status: str | None = None) -> list[dict[str, Any]]:
    """What the list answered when it read the applications themselves."""
    docs = [
        Repository(world.applications, Application).load(d)
        for d in world.applications.docs.values()
    ]
    chosen = [
        d
        for d in docs
        if d.employer_id == EMPLOYER and (d.status == status if status else d.status != "deleted")
    ]
    fee = world.service._fee_today()
    return [
        applications.summary(d, fee)
        for d in sorted(chosen, key=lambda d: d.created_at, reverse=True)
    ]


def same_moments(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Views with their moments to the millisecond (what the database keeps)."""
    out = []
    for view in views:
        row = dict(view)
        for key in ("created_at", "updated_at", "submitted_at", "last_reminded_at"):
            if row[key]:
                row[key] = row[key][:23] if "." in row[key] else row[key][:19]
        out.append(row)
    return out


async def test_the_list_reads_only_the_summaries_and_answers_as_before(world: World) -> None:
    submitted = await world.ready_draft()
    await world.service.submit(ME, submitted, KEY)
    world.now = NOW + timedelta(hours=2)
    await world.service.on_judgement_completed(judged(submitted, 1, "approved", 2, world.now))
    world.now += timedelta(minutes=1)
    draft = (await world.service.create(ME, Header()))["application_id"]
    world.now += timedelta(minutes=1)
    gone = (await world.service.create(ME, Header()))["application_id"]
    await world.service.discard(ME, gone)
    await world.service.create(OTHER, Header())

    world.applications.docs.clear()  # the list must not need them
    expected_all = [row["application_id"] for row in await world.service.list(ME, None)]
    assert expected_all == [draft, submitted]
    assert [r["application_id"] for r in await world.service.list(ME, "draft")] == [draft]
    assert await world.service.list(OTHER, "completed") == []


async def test_each_summary_equals_the_application_summary(world: World) -> None:
    submitted = await world.ready_draft()
    await world.service.submit(ME, submitted, KEY)
    world.now = NOW + timedelta(hours=2)
    await world.service.on_judgement_completed(judged(submitted, 1, "rejected", 1, world.now))
    world.now += timedelta(minutes=1)
    await world.service.create(ME, Header())
    for status in (None, "draft", "completed", "judging", "submitted"):
        assert same_moments(await world.service.list(ME, status)) == same_moments(
            listed_from_applications(world, status)
        )
    rows = await world.service.list(ME, None)
    assert (rows[1]["rejected_count"], rows[1]["status"]) == (1, "judging")


async def test_an_older_version_never_replaces_a_newer_summary_and_a_noop_write_heals(
    world: World,
) -> None:
    app_id = (await world.service.create(ME, Header()))["application_id"]
    repo = Repository(world.applications, Application)
    first = await repo.get(app_id)
    assert first is not None
    await world.service.discard(ME, app_id)
    # a late write of version 1's summary changes nothing
    assert summaries.with_summary(await world.service.summaries.get(app_id), first) is None
    assert await world.service.list(ME, None) == []
    # a crash between the two writes: the summary stays behind …
    world.summaries.docs.clear()
    assert await world.service.list(ME, None) == []
    # … until the next update of the application, even one that changes nothing
    await world.service.applications.update(app_id, lambda doc: None)
    found = await world.service.summaries.get(app_id)
    assert found is not None and (found.status, found.entry()["status"]) == ("deleted", "deleted")


def notice(app_id: str, sequence: int) -> Envelope:
    line_id = f"{app_id}-02"
    suffix = f"-{sequence}" if sequence > 1 else ""
    return Envelope(
        ResultNoticeGenerated(
            notice_id=f"RN-{line_id}{suffix}",
            judgement_id=f"J-{line_id}-R1" if sequence > 1 else f"J-{line_id}",
            application_id=app_id,
            line_id=line_id,
            employer_id=EMPLOYER,
            worker_id="99000000000001",
            document_id=f"RN-{line_id}{suffix}",
            sha256="0" * 64,
            generated_at=NOW,
            sequence=sequence,
            supersedes_notice_id=f"RN-{line_id}" if sequence > 1 else None,
        ),
        source="document",
    )


async def test_the_result_lines_follow_judgements_and_notices_from_the_summaries(
    world: World,
) -> None:
    app_id = await world.ready_draft()
    draft = (await world.service.create(ME, Header()))["application_id"]
    assert await world.service.results(ME, None) == []  # drafts are never judged
    assert await world.service.results(ME, draft) == []
    await world.service.submit(ME, app_id, KEY)
    waiting = await world.service.results(ME, app_id)
    assert [(x["line_id"], x["status"], x["status_ja"]) for x in waiting] == [
        (f"{app_id}-01", "waiting_ccus", "CCUSデータ待ち"),
        (f"{app_id}-02", "waiting_ccus", "CCUSデータ待ち"),
    ]
    world.now = NOW + timedelta(hours=2)
    await world.service.on_judgement_completed(judged(app_id, 1, "rejected", 1, world.now))
    first = notice(app_id, 1)
    await world.service.on_notice_generated(first)
    await world.service.on_notice_generated(first)  # redelivered: nothing changes
    await world.service.on_judgement_completed(judged(app_id, 2, "approved", 2, world.now))
    await world.service.on_notice_generated(notice(app_id, 2))

    world.applications.docs.clear()  # the results need only the summaries
    line = (await world.service.results(ME, None))[1]
    assert line["application_id"] == app_id
    assert (line["status"], line["status_ja"], line["decision"], line["eligible_level"]) == (
        "completed",
        "判定完了",
        "approved",
        2,
    )
    assert line["sequence"] == 2
    assert [(n["notice_id"], n["superseded_by"]) for n in line["notices"]] == [
        (f"RN-{app_id}-02", f"RN-{app_id}-02-2"),
        (f"RN-{app_id}-02-2", None),
    ]
    with pytest.raises(ApplicationError) as refused:
        await world.service.results(ME, "AP-20261128-NOTONE")
    assert refused.value.code == "not_found"
    with pytest.raises(ApplicationError):
        await world.service.results(OTHER, app_id)  # another employer's: as if absent


async def test_the_lists_read_the_same_from_the_summaries_listed_fields(world: World) -> None:
    """``summary_rows`` (the summaries as raw documents, read with the ``LISTED``
    projection) answers the lists as the typed summaries do; the access log's entry made of
    ``result_subjects`` is the one of the whole answer."""
    from datetime import UTC, datetime

    from application.adapters.inbound.http import result_subjects
    from application.core import access
    from shared_kernel.infra.access_log import entry

    app_id = await world.ready_draft()
    await world.service.create(ME, Header())  # a draft: listed, no result lines
    await world.service.submit(ME, app_id, KEY)
    await world.service.on_judgement_completed(judged(app_id, 1, "rejected", 1, NOW))
    await world.service.on_notice_generated(notice(app_id, 1))
    lean = ApplicationService(
        Repository(world.applications, Application),
        Repository(world.consents, Consent),
        world.judgement,
        world.service.policy,
        Repository(world.summaries, ApplicationSummary),
        clock=lambda: world.now,
        summary_rows=world.summaries,
    )
    for status in (None, "submitted", "draft"):
        assert await lean.list(ME, status) == await world.service.list(ME, status)
    found = await lean.results(ME, None)
    assert found == await world.service.results(ME, None) and len(found) == 2
    assert await lean.results(OTHER, None) == []

    def logged(answer: Any) -> Any:
        return entry(
            "e1",
            action="list_results",
            purpose=access.PURPOSES["list_results"],
            endpoint="GET /results",
            actor="kensetsu01",
            actor_role="employer",
            actor_employer_id=EMPLOYER,
            answer=answer,
            linked=access.LINKED,
            at=datetime(2026, 11, 28, tzinfo=UTC),
            correlation_id=None,
        )

    assert logged(result_subjects(found)) == logged(found)
    assert logged(found)["worker_ids"] == ["99000000000001", "99000000000003"]
