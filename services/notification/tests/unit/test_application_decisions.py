"""When the 判定完了 and 結果通知書 mails are decided: once, whatever the arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from notification.core import applications

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


def apply(
    doc: applications.ApplicationMails | None, step: Any, envelope: Any, event_id: str
) -> applications.ApplicationMails:
    outcome = step(envelope.event, event_id, envelope.type, NOW, doc)
    assert outcome is not None
    new, events = outcome
    assert events == []
    return new


def test_judgements_before_the_application_are_kept(samples: Any) -> None:
    doc = apply(None, applications.judged, samples.judged(1, 2), "j2")
    doc = apply(doc, applications.judged, samples.judged(1, 1), "j1")
    assert doc.submitted is False and doc.result_mail is None
    doc = apply(doc, applications.submitted, samples.submitted(workers=2), "s")
    assert doc.result_mail is not None and doc.result_mail.model_dump() == {
        "event_id": "s",
        "event_type": "jp.ccus.level.application.submitted.v1",
        "at": NOW,
        "line_ids": [f"{samples.application_id(1)}-1", f"{samples.application_id(1)}-2"],
        "with_notices": False,
    }


def test_result_mail_waits_for_every_line(samples: Any) -> None:
    doc = apply(None, applications.submitted, samples.submitted(workers=2), "s")
    doc = apply(doc, applications.judged, samples.judged(1, 1), "j1")
    assert doc.result_mail is None
    doc = apply(doc, applications.judged, samples.judged(1, 2, approved=False), "j2")
    assert doc.result_mail.event_id == "j2"
    assert doc.notices_mail is None


def test_the_decision_is_taken_once(samples: Any) -> None:
    doc = apply(None, applications.submitted, samples.submitted(workers=1), "s")
    doc = apply(doc, applications.judged, samples.judged(1, 1), "j1")
    decided = doc.result_mail
    later = samples.judged(1, 1, judged_at=datetime(2026, 11, 22, tzinfo=UTC))
    doc = apply(doc, applications.judged, later, "j1-again")
    assert doc.result_mail == decided
    # the same result again (or an older one) changes nothing at all
    assert applications.judged(samples.judged(1, 1).event, "x", "t", NOW, doc) is None
    assert applications.submitted(samples.submitted(workers=1).event, "x", "t", NOW, doc) is None


def test_withdrawn_lines_do_not_hold_the_mail(samples: Any) -> None:
    doc = apply(None, applications.submitted, samples.submitted(workers=3), "s")
    doc = apply(doc, applications.judged, samples.judged(1, 1), "j1")
    doc = apply(doc, applications.withdrawn, samples.withdrawn(1, 2, 3), "w")
    assert doc.result_mail.line_ids == [f"{samples.application_id(1)}-1"]
    assert doc.result_mail.event_id == "w"


def test_a_fully_withdrawn_application_gets_no_result_mail(samples: Any) -> None:
    doc = apply(None, applications.submitted, samples.submitted(workers=2), "s")
    doc = apply(doc, applications.withdrawn, samples.withdrawn(1, 1, 2), "w")
    assert doc.result_mail is None


def test_notices_already_there_go_into_the_result_mail(samples: Any) -> None:
    doc = apply(None, applications.submitted, samples.submitted(workers=2), "s")
    doc = apply(doc, applications.judged, samples.judged(1, 1), "j1")
    doc = apply(doc, applications.notice_generated, samples.notice(1, 1), "n1")
    doc = apply(doc, applications.withdrawn, samples.withdrawn(1, 2), "w")
    assert doc.result_mail.with_notices is True
    assert doc.notices_mail is None  # no follow-up needed


def test_follow_up_once_the_last_notice_arrives(samples: Any) -> None:
    doc = apply(None, applications.submitted, samples.submitted(workers=2), "s")
    doc = apply(doc, applications.judged, samples.judged(1, 1), "j1")
    doc = apply(doc, applications.notice_generated, samples.notice(1, 1), "n1")
    doc = apply(doc, applications.judged, samples.judged(1, 2), "j2")
    assert doc.result_mail.with_notices is False  # notice 2 is not there yet
    assert doc.notices_mail is None
    doc = apply(doc, applications.notice_generated, samples.notice(1, 2), "n2")
    assert doc.notices_mail.event_id == "n2"
    again = samples.notice(1, 2)
    assert applications.notice_generated(again.event, "n2b", again.type, NOW, doc) is None


def test_a_later_notice_replaces_an_earlier_one(samples: Any) -> None:
    doc = apply(None, applications.notice_generated, samples.notice(1, 1), "n1")
    newer = samples.notice(1, 1)
    event = newer.event.model_copy(
        update={"notice_id": "N-new", "generated_at": NOW + timedelta(hours=1)}
    )
    outcome = applications.notice_generated(event, "n1b", newer.type, NOW, doc)
    assert outcome is not None
    assert [n.notice_id for n in outcome[0].notices] == ["N-new"]
