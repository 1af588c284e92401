"""影響確認 against the real database: snapshots stored by the service (mirrored in compact
form, one of them stored before the form existed), completed lines, the job run to done by
the service's background task, its counts checked against the pure core, the CSV, the
roles (an editor of another 分野: 403) and a job whose process died taken over."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from judgement.config import Settings
from judgement.core import compact, impact, judging
from judgement.core.master import Master
from judgement.criteria import load_master
from judgement.feed.synthetic import Generated, generate
from judgement.impact import UnknownDraft, jobs_for
from judgement.impact.job import TOKYO
from judgement.inject import create_app
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import ApplicationLine, ApplicationSubmitted
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import isolated, signed_token
from shared_kernel.principal import Principal

TABLES = Path(judging.__file__).resolve().parents[1] / "criteria" / "master" / "tables"
DRAFT = "CD-20261207-a1b2c3"
EMPLOYER = "12345678901234"
APPLIED_ON = date(2026, 11, 20)


def drafted_master(tmp_path: Path) -> Master:
    """The packaged master plus a とび table from 2025-04-01: level 2 needs 800 days (645
    now), level 3 1,300 (1,720 now)."""
    text = (TABLES / "tobi.yaml").read_text(encoding="utf-8")
    text = text[text.index("tables:") :].replace(
        "effective_from: 2020-03-04", "effective_from: 2025-04-01", 1
    )
    text = text.replace("        days: 645\n", "        days: 800\n", 1)
    text = text.replace("days: 1720", "days: 1300", 1)
    path = tmp_path / "draft.yaml"
    path.write_text(text, encoding="utf-8")
    return load_master([path])


class Drafts:
    def __init__(self, **drafts: tuple[str, Master, Master]) -> None:
        self.drafts = drafts

    async def for_draft(self, draft_id: str) -> tuple[str, Master, Master]:
        key = draft_id.replace("-", "_")
        if key not in self.drafts:
            raise UnknownDraft(draft_id)
        return self.drafts[key]


def bearer(**claims: Any) -> dict[str, str]:
    """A token signed with the test key that ``isolated`` settings trust."""
    return {"Authorization": "Bearer " + signed_token(Principal(**claims))}


def tobi_workers(count: int) -> list[Generated]:
    found = []
    for worker in generate(20 * count, seed="impact-it", as_of=date(2026, 11, 1)):
        if worker.trade == "とび" and worker.snapshot.registration_type == "detailed":
            found.append(worker)
            if len(found) == count:
                break
    return found


def submitted(workers: list[Generated]) -> Envelope:
    lines = []
    for n, worker in enumerate(workers, 1):
        career = worker.career if n % 2 else None
        lines.append(
            ApplicationLine(
                line_id=f"IM-1-{n}",
                worker_id=worker.snapshot.worker_id,
                worker_name=worker.snapshot.name,
                worker_name_kana=worker.snapshot.name_kana,
                birth_date=worker.snapshot.birth_date,
                trade="とび",
                requested_level=3,
                fee_yen=0,
                career_start=career.start if career else None,
                career_end=career.end if career else None,
                foreman_months=career.foreman_months if career else 0,
                leader_months=career.leader_months if career else 0,
            )
        )
    return Envelope(
        ApplicationSubmitted(
            application_id="IM-1",
            employer_id=EMPLOYER,
            application_date=APPLIED_ON,
            submitted_at=datetime(2026, 11, 20, tzinfo=UTC),
            fee_total_yen=0,
            lines=lines,
        ),
        source="application",
    )


def app_for(settings: ServiceSettings) -> FastAPI:
    own = isolated(
        Settings,
        topic_prefix=settings.topic_prefix,
        db_name=settings.db_name,
        review_policy="auto",
        outbox_poll_seconds=0.2,
    )
    return create_app(own)


async def done(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(300):
        answer = await client.get(f"/criteria/drafts/{DRAFT}/impact", headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["status"] != "failed", body
        if body["status"] == "done":
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"the impact preview did not finish: {body}")


def expected(
    workers: list[Generated], applied: list[Generated], in_force: Master, drafted: Master
) -> impact.Tally:
    """What the preview must find, computed with the pure core from the same data."""
    on = impact.preview_date("とび", in_force, drafted, datetime.now(TOKYO).date())
    ids = [w.snapshot.worker_id for w in applied]
    membership = impact.Membership("とび", in_force, drafted, on, ids)
    tally = impact.Tally()
    for worker in workers:
        ccus = judging.snapshot_compact(worker.snapshot)
        if membership(ccus, worker.snapshot.worker_id):
            outcome = impact.judge_both(ccus, "とび", in_force, drafted, on)
            if outcome is not None:
                tally.add("worker", outcome, worker_id=worker.snapshot.worker_id, on=on)
    lines = submitted(applied).event.lines  # type: ignore[attr-defined]
    for worker, line in zip(applied, lines, strict=True):
        ccus = judging.snapshot_compact(worker.snapshot)
        outcome = impact.judge_both(
            ccus, "とび", in_force, drafted, APPLIED_ON, judging.certification(line)
        )
        assert outcome is not None
        tally.add("line", outcome, worker_id=line.worker_id, on=APPLIED_ON, line_id=line.line_id)
    return tally


async def test_the_preview_runs_to_done_and_serves_its_csv(
    settings: ServiceSettings, db: object, tmp_path: Path
) -> None:
    app = app_for(settings)
    workers = tobi_workers(31)
    legacy, applied = workers[-1], workers[:10]
    async with app.router.lifespan_context(app):
        container = app.state.container
        service = container.service
        for worker in workers[:-1]:
            await service.on_snapshot(Envelope(worker.snapshot, source="ccus"))
        # a worker whose snapshot was stored before the compact form (and its mirror)
        old = judging.snapshot_version_doc(legacy.snapshot)
        del old["ccus_compact"]
        await DocumentStore(container.runtime.db, "ccus_snapshots").insert(old)
        await service.workers.insert(judging.latest_snapshot(legacy.snapshot))
        mirror = DocumentStore(container.runtime.db, "ccus_compact")
        assert await mirror.get(legacy.snapshot.worker_id) is None
        stored = await mirror.get(workers[0].snapshot.worker_id)
        assert stored is not None
        assert compact.decode(stored["ccus_compact"]) == judging.snapshot_compact(
            workers[0].snapshot
        )
        await service.on_application_submitted(submitted(applied))
        assert len(await service.judgements.find({"status": "completed"})) == len(applied)
        # a newer snapshot of an applied worker: his line cites the older one (phase "cited")
        later = applied[0].snapshot.model_copy(
            update={"taken_at": applied[0].snapshot.taken_at + timedelta(days=1)}
        )
        await service.on_snapshot(Envelope(later, source="ccus"))
        newest = await mirror.get(later.worker_id)
        assert newest is not None and newest["snapshot_id"] == judging.snapshot_id(later)

        in_force, drafted = container.master, drafted_master(tmp_path)
        jobs = jobs_for(container.runtime)
        jobs.drafts = Drafts(**{DRAFT.replace("-", "_"): ("とび", in_force, drafted)})
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://j")
        approver = bearer(subject="shonin01", role="criteria_approver")
        editor = bearer(subject="tobi01", role="criteria_editor", trades=("とび",))

        started = await client.post(f"/criteria/drafts/{DRAFT}/impact", headers=editor)
        assert started.status_code == 202, started.text
        assert started.json()["status"] in ("queued", "running", "done")
        assert started.json()["draft_id"] == DRAFT
        body = await done(client, approver)
        assert body["done"] == body["total"] == len(workers) + len(applied)
        assert body["lines_without_snapshot"] == 0
        assert body["version_in_force"] == "とび@2020-03-04"
        assert body["version_drafted"] == "とび@2025-04-01"
        want = expected(workers, applied, in_force, drafted)
        assert body["counts"] == want.workers and body["lines"] == want.lines
        assert body["workers"] == sum(want.workers.values()) >= len(applied)
        assert want.workers["up"] + want.workers["down"] > 0

        def key(entry: dict[str, Any]) -> str:
            return f"{entry['kind']} {entry['worker_id']} {entry['line_id']}"

        assert sorted(body["sample"], key=key) == sorted(want.sample(), key=key)
        assert all(s["criterion_ja"].startswith("レベル") for s in body["sample"])
        assert body["rows"] == len(want.changes)
        # the legacy worker was migrated into the mirror on the way
        assert await mirror.get(legacy.snapshot.worker_id) is not None

        answer = await client.get(f"/criteria/drafts/{DRAFT}/impact.csv", headers=editor)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert answer.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
        assert rows[0] == list(impact.CSV_HEADER)
        assert sorted(rows[1:]) == sorted(list(c.csv_row()) for c in want.changes)

        # again: a new attempt, the same answer
        again = await client.post(f"/criteria/drafts/{DRAFT}/impact", headers=approver)
        assert again.status_code == 202 and again.json()["attempt"] == 2
        second = await done(client, approver)
        assert (second["counts"], second["lines"]) == (body["counts"], body["lines"])


async def test_roles_and_a_job_taken_over_from_a_dead_process(
    settings: ServiceSettings, db: object, tmp_path: Path
) -> None:
    app = app_for(settings)
    async with app.router.lifespan_context(app):
        container = app.state.container
        for worker in tobi_workers(3):
            await container.service.on_snapshot(Envelope(worker.snapshot, source="ccus"))
        jobs = jobs_for(container.runtime)
        jobs.drafts = Drafts(
            **{DRAFT.replace("-", "_"): ("とび", container.master, drafted_master(tmp_path))}
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://j")
        url = f"/criteria/drafts/{DRAFT}/impact"
        other = bearer(subject="tekkin01", role="criteria_editor", trades=("鉄筋",))
        approver = bearer(subject="shonin01", role="criteria_approver")
        employer = bearer(subject="kensetsu01", role="employer", employer_id=EMPLOYER)
        evaluator = bearer(subject="hyoka01", role="evaluator")

        assert (await client.post(url)).status_code == 401
        for who in (employer, evaluator):
            assert (await client.post(url, headers=who)).status_code == 403
        refused = await client.post(url, headers=other)
        assert refused.status_code == 403 and refused.json()["code"] == "other_trade"
        assert (await client.get(url, headers=approver)).status_code == 404  # not started
        unknown = await client.post("/criteria/drafts/CD-20990101-000000/impact", headers=approver)
        assert unknown.status_code == 404

        # a job whose process died: running, its heartbeat two hours old
        long_ago = datetime.now(UTC) - timedelta(hours=2)
        await jobs.jobs.insert(
            {
                "_id": DRAFT,
                "trade": "とび",
                "status": "running",
                "phase": "workers",
                "attempt": 1,
                "runner": "dead-process",
                "requested_by": "tobi01",
                "heartbeat_at": long_ago,
                "as_of": "2026-12-01",
            }
        )
        assert (await client.get(url, headers=other)).status_code == 403
        assert (await client.get(f"{url}.csv", headers=approver)).status_code == 409
        await jobs._resume_stale()
        body = await done(client, approver)
        assert body["attempt"] == 2 and body["requested_by"] == "tobi01"
        assert body["done"] == body["total"] == 3
        assert (await client.get(f"{url}.csv", headers=other)).status_code == 403

        # a stale job whose draft is gone is given up, not retried forever
        gone = "CD-20261207-dead00"
        await jobs.jobs.insert(
            {
                "_id": gone,
                "trade": "とび",
                "status": "running",
                "attempt": 1,
                "runner": "dead-process",
                "heartbeat_at": long_ago,
                "as_of": "2026-12-01",
            }
        )
        await jobs._resume_stale()
        failed = await client.get(f"/criteria/drafts/{gone}/impact", headers=approver)
        assert failed.json()["status"] == "failed" and failed.json()["error"]
