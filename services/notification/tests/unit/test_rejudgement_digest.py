"""再判定: one update mail per employer and run, whatever the arrival order (pure digest).

The digest (``core.rejudgements``) gathers a run's re-judged lines of one employer and its
plan; these tests apply events to it as the store would, in every order that Kafka's
partitions allow, with duplicates, plan parts, the quiet-wait fallback and late lines.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from notification.core import applications, compose, rejudgements
from notification.core.links import Links
from shared_kernel.events import Envelope

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
WAIT = timedelta(minutes=30)
LINKS = Links("https://portal.example.jp")
Doc = rejudgements.Digest


def arrival(envelope: Envelope, at: datetime = NOW) -> rejudgements.Arrival:
    return rejudgements.Arrival(envelope.id, envelope.type, envelope.correlation_id, at)


def apply(doc: Doc | None, envelope: Envelope, at: datetime = NOW) -> Doc | None:
    """The digest after ``envelope`` (``None`` from the step: unchanged, as the store does)."""
    planned = envelope.type.endswith("planned.v1")
    step: Any = rejudgements.planned if planned else rejudgements.rejudged
    outcome = step(envelope.event, arrival(envelope, at), doc)
    if outcome is None:
        return doc
    new, events = outcome
    assert events == []
    return new


def run(*envelopes: Envelope, at: datetime = NOW) -> Doc:
    doc: Doc | None = None
    for envelope in envelopes:
        doc = apply(doc, envelope, at)
    assert doc is not None
    return doc


def line(samples: Any, n: int) -> str:
    return f"{samples.application_id(1)}-{n}"


def test_plan_first_then_every_line_decides_with_the_last_line(samples: Any) -> None:
    plan = samples.planned(1, 1, 2, 3)
    doc = run(plan)
    assert doc.status == "planned" and doc.planned == [line(samples, i) for i in (1, 2, 3)]
    assert doc.reason == "L3職長日数の転記誤りの訂正"
    doc = run(plan, samples.rejudged(1, 1), samples.rejudged(1, 2))
    assert doc.status == "open" and doc.decision is None
    third = samples.rejudged(1, 3)
    doc = run(plan, samples.rejudged(1, 1), samples.rejudged(1, 2), third)
    assert doc.status == "decided"
    assert doc.decision is not None and doc.decision.model_dump() == {
        "event_id": third.id,
        "event_type": "jp.ccus.level.judgement.completed.v2",
        "correlation_id": third.correlation_id,
        "at": NOW,
        "cause": "complete",
        "line_ids": [line(samples, i) for i in (1, 2, 3)],
    }


def test_lines_first_then_the_plan_decides(samples: Any) -> None:
    lines = [samples.rejudged(1, i) for i in (2, 1, 3)]
    doc = run(*lines)
    assert doc.status == "open" and doc.planned == []  # no plan: nothing is complete
    plan = samples.planned(1, 1, 2, 3)
    doc = run(*lines, plan)
    assert doc.decision.event_id == plan.id and doc.decision.cause == "complete"
    assert [e.line_id for e in rejudgements.decided_lines(doc)] == [
        line(samples, i) for i in (1, 2, 3)
    ]  # by application and line, whatever the arrival order


def test_a_plan_in_parts_waits_for_the_union(samples: Any) -> None:
    first, second = samples.planned(1, 1, 2), samples.planned(1, 3)
    lines = [samples.rejudged(1, i) for i in (1, 2, 3)]
    doc = run(first, second, lines[0], lines[1])
    assert doc.decision is None  # line 3 of the second part is missing
    doc = run(first, second, *lines)
    assert doc.decision.event_id == lines[2].id
    # a resumed run publishes its plan again (a new event id): nothing changes
    again = samples.planned(1, 1, 2)
    assert rejudgements.planned(again.event, arrival(again), run(first, second)) is None


def test_a_plan_part_with_only_lines_not_yet_arrived_keeps_waiting(samples: Any) -> None:
    doc = run(samples.rejudged(1, 1), samples.planned(1, 1, 2))
    assert doc.decision is None
    doc = run(samples.rejudged(1, 1), samples.planned(1, 1, 2), samples.rejudged(1, 2))
    assert doc.decision.cause == "complete"


def test_duplicates_change_nothing(samples: Any) -> None:
    one = samples.rejudged(1, 1)
    doc = run(samples.planned(1, 1, 2), one)
    assert rejudgements.rejudged(one.event, arrival(one), doc) is None  # redelivered
    resent = samples.rejudged(1, 1)  # the same judgement republished under a new event id
    assert resent.id != one.id
    assert rejudgements.rejudged(resent.event, arrival(resent), doc) is None
    plan = samples.planned(1, 1, 2)
    assert rejudgements.planned(plan.event, arrival(plan), doc) is None
    assert len(doc.lines) == 1


def test_a_decided_digest_stays_decided(samples: Any) -> None:
    doc = run(samples.planned(1, 1), samples.rejudged(1, 1))
    decided = doc.decision
    assert decided is not None
    for envelope in (samples.rejudged(1, 1), samples.planned(1, 1), samples.planned(1, 1, 2)):
        assert apply(doc, envelope) == doc
    assert rejudgements.waited(doc, now=NOW + WAIT * 2, wait=WAIT, listening_since=NOW) is None


def test_a_late_line_is_kept_apart_and_never_mailed(samples: Any) -> None:
    doc = run(samples.planned(1, 1), samples.rejudged(1, 1))
    late = samples.rejudged(1, 2)
    after = apply(doc, late)
    assert after is not None
    assert after.late == [line(samples, 2)] and rejudgements.is_late(after, line(samples, 2))
    assert after.decision == doc.decision and after.lines == doc.lines
    assert rejudgements.rejudged(late.event, arrival(late), after) is None  # redelivered
    draft = compose.rejudgement_results(after, LINKS)
    assert draft is not None and [r["line_id"] for r in draft.context["rows"]] == [line(samples, 1)]


def test_the_wait_sends_what_arrived(samples: Any) -> None:
    doc = run(samples.planned(1, 1, 2, 3), samples.rejudged(1, 1), samples.rejudged(1, 2))
    assert not rejudgements.is_due(doc, NOW + WAIT - timedelta(seconds=1), WAIT, NOW)
    assert rejudgements.waited(doc, now=NOW + WAIT / 2, wait=WAIT, listening_since=NOW) is None
    later = NOW + WAIT
    assert rejudgements.is_due(doc, later, WAIT, NOW)
    outcome = rejudgements.waited(doc, now=later, wait=WAIT, listening_since=NOW)
    assert outcome is not None
    decided = outcome[0]
    assert decided.status == "decided"
    assert decided.decision.cause == "waited" and decided.decision.at == later
    assert decided.decision.line_ids == [line(samples, 1), line(samples, 2)]
    assert decided.decision.event_id == doc.last_event.event_id


def test_the_wait_covers_a_plan_that_never_came(samples: Any) -> None:
    doc = run(samples.rejudged(1, 1))
    assert rejudgements.is_due(doc, NOW + WAIT, WAIT, NOW)


def test_every_new_arrival_restarts_the_wait(samples: Any) -> None:
    doc = run(samples.planned(1, 1, 2, 3), samples.rejudged(1, 1))
    doc = apply(doc, samples.rejudged(1, 2), at=NOW + WAIT / 2)
    assert doc is not None
    assert not rejudgements.is_due(doc, NOW + WAIT, WAIT, NOW)
    assert rejudgements.is_due(doc, NOW + WAIT * 3 / 2, WAIT, NOW)


def test_the_wait_counts_from_the_start_of_listening(samples: Any) -> None:
    """After an outage the events that came meanwhile are read before the wait is over."""
    doc = run(samples.planned(1, 1, 2), samples.rejudged(1, 1))
    restarted = NOW + timedelta(hours=5)
    assert not rejudgements.is_due(doc, restarted + timedelta(seconds=5), WAIT, restarted)
    assert rejudgements.is_due(doc, restarted + WAIT, WAIT, restarted)


def test_a_plan_without_lines_waits_without_deadline(samples: Any) -> None:
    doc = run(samples.planned(1, 1, 2))
    assert not rejudgements.is_due(doc, NOW + timedelta(days=30), WAIT, NOW)
    assert compose.rejudgement_results(doc, LINKS) is None


def test_a_rejudgement_outside_a_run_is_a_run_of_its_own(samples: Any) -> None:
    single = samples.rejudged(1, 1, run=None)
    event = single.event
    doc = run(single)
    assert rejudgements.run_of(event) == event.judgement_id  # type: ignore[attr-defined]
    assert doc.decision.cause == "complete" and doc.planned == [line(samples, 1)]


def test_mailed_once(samples: Any) -> None:
    doc = run(samples.planned(1, 1), samples.rejudged(1, 1))
    outcome = rejudgements.mailed(doc, now=NOW)
    assert outcome is not None and outcome[0].status == "mailed"
    assert rejudgements.mailed(outcome[0], now=NOW) is None
    assert rejudgements.mailed(run(samples.rejudged(1, 1)), now=NOW) is None  # not decided


def test_first_judgements_and_rejudgements_go_their_own_ways(samples: Any) -> None:
    first = samples.judged(1, 1)
    assert rejudgements.rejudged(first.event, arrival(first), None) is None
    again = samples.rejudged(1, 1)
    assert applications.judged(again.event, again.id, again.type, NOW, None) is None
    renotice = samples.renotice(1, 1)
    assert applications.notice_generated(renotice.event, "n", renotice.type, NOW, None) is None
    # a re-judgement after the 判定完了 decision changes neither the mail nor its rows
    doc = applications.submitted(samples.submitted(workers=1).event, "s", "t", NOW, None)
    assert doc is not None
    decided = applications.judged(first.event, "j", "t", NOW, doc[0])
    assert decided is not None and decided[0].result_mail is not None
    assert applications.judged(again.event, "j2", "t", NOW, decided[0]) is None


def test_changed_or_not(samples: Any) -> None:
    rejudged = samples.rejudged(1, 1, after=("approved", 3), before=(None, None))
    entry = rejudgements.line_entry(rejudged.event)
    assert rejudgements.changed(entry.model_copy(update={"previous_decision": "approved"})) is None
    same = {"previous_decision": "approved", "previous_eligible_level": 3}
    assert rejudgements.changed(entry.model_copy(update=same)) is False
    up = {"previous_decision": "rejected", "previous_eligible_level": 2}
    assert rejudgements.changed(entry.model_copy(update=up)) is True
