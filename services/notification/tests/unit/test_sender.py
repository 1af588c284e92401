"""The service over in-memory ports: recording once, sending, retrying, the crash window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from notification.adapters.outbound.templates import JinjaRenderer
from notification.core import mails
from notification.core.applications import ApplicationMails
from notification.core.errors import MailNotRequeueable
from notification.core.links import Links
from notification.core.mails import Mail
from notification.core.rejudgements import Digest
from notification.core.service import NotificationService, SenderPolicy
from notification.core.users import User
from notification.metrics import PrometheusMetrics
from notification.ports import PermanentFailure, TransientFailure
from shared_kernel.context import get_correlation_id
from shared_kernel.infra.mongo import Change, Document
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.testing import MemoryDocuments


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.failures: list[Exception] = []
        self.correlation_ids: list[str | None] = []

    async def send(self, message: EmailMessage, recipient: str) -> None:
        assert recipient == message["To"]
        self.correlation_ids.append(get_correlation_id())
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class World:
    def __init__(self) -> None:
        self.users = MemoryDocuments()
        self.applications = MemoryDocuments()
        self.mails = MemoryDocuments()
        self.rejudgements = MemoryDocuments()
        self.mailer = FakeMailer()
        self.clock = Clock()
        self.kicks = 0
        self.service = NotificationService(
            Repository(self.users, User),
            Repository(self.applications, ApplicationMails),
            Repository(self.mails, Mail),
            JinjaRenderer(),
            self.mailer,
            rejudgements_store=Repository(self.rejudgements, Digest),
            links=Links("http://127.0.0.1:8000"),
            from_address="能力評価システム <no-reply@noryoku-hyoka.example.jp>",
            policy=SenderPolicy(
                lease=timedelta(seconds=60), retry_base_seconds=2, retry_max_seconds=10
            ),
            clock=self.clock,
            metrics=PrometheusMetrics(),
        )
        self.service.on_recorded = self.kick

    def kick(self) -> None:
        self.kicks += 1

    def by_status(self, status: str) -> list[Document]:
        return [d for d in self.mails.docs.values() if d["status"] == status]


@pytest.fixture
def world() -> World:
    return World()


async def test_recording_twice_stores_one_mail(world: World, samples: Any) -> None:
    envelope = samples.activated()
    await world.service.on_activated(envelope)
    await world.service.on_activated(envelope)  # redelivered, inbox bypassed
    assert list(world.mails.docs) == [f"account_activated:{envelope.id}:{samples.email}"]
    assert world.kicks == 1
    assert await world.service.send_due() == 1
    assert await world.service.send_due() == 0
    assert len(world.mailer.sent) == 1
    (sent,) = world.by_status("sent")
    assert sent["sent_at"] == world.clock.now


async def test_a_registration_mails_nothing_here_identity_sends_the_link(
    world: World, samples: Any
) -> None:
    """Issue 22: the activation link never reaches this service; v2 only teaches the read
    model the address (v1, retired, is not consumed: issue 26)."""
    await world.service.on_provisionally_registered(samples.provisional())
    assert world.mails.docs == {}
    (user,) = world.users.docs.values()
    assert (user["status"], user["email"]) == ("provisional", samples.email)
    assert "sealed" not in repr(user)


async def test_a_temporary_password_mail_recorded_before_issue_22_is_never_sent(
    world: World, samples: Any
) -> None:
    await world.service.on_activated(samples.activated())
    (doc_id,) = world.mails.docs
    legacy = {"sealed_secrets": {"temporary_password": "gAAAAA-old"}, "template": "x"}
    world.mails.docs[doc_id] |= legacy
    assert await world.service.send_due() == 1
    doc = world.mails.docs[doc_id]
    assert doc["status"] == "failed" and "sealed_secrets" not in doc
    assert "廃止" in doc["last_error"]
    assert world.mailer.sent == []


async def test_a_mail_is_sent_under_the_correlation_id_of_its_event(
    world: World, samples: Any
) -> None:
    """The sender is a background job: its log lines (mail.sent …) carry the correlation id
    of the event that recorded the mail, so `python -m shared_kernel.infra.trace` finds them."""
    envelope = samples.activated()
    await world.service.on_activated(envelope)
    assert get_correlation_id() is None
    assert await world.service.send_due() == 1
    assert world.mailer.correlation_ids == [envelope.correlation_id]
    assert get_correlation_id() is None  # bound for the delivery only


async def test_employer_mails_go_to_active_users_only(world: World, samples: Any) -> None:
    await world.service.on_provisionally_registered(samples.provisional())  # not active yet
    await world.service.on_consent_granted(samples.consent_granted())
    (orphan,) = world.by_status("no_recipient")
    assert orphan["to"] is None and orphan["template"] == "consent_granted"
    assert orphan["last_error"] == "宛先のメールアドレスが登録されていません"
    await world.service.on_activated(samples.activated())
    await world.service.on_activated(samples.activated(login_id="second", email="b@example.jp"))
    await world.service.on_consent_rejected(samples.consent_rejected())
    rejected = sorted(
        d["to"] for d in world.mails.docs.values() if d["template"] == "consent_rejected"
    )
    assert rejected == sorted([samples.email, "b@example.jp"])


async def test_transient_failures_back_off_then_send(world: World, samples: Any) -> None:
    await world.service.on_activated(samples.activated())
    world.mailer.failures = [TransientFailure("421 busy"), TransientFailure("421 busy")]
    assert await world.service.send_due() == 1
    (doc,) = world.by_status("pending")
    assert doc["attempts"] == 1 and doc["last_error"] == "421 busy"
    assert doc["next_attempt_at"] == world.clock.now + timedelta(seconds=2)
    assert await world.service.send_due() == 0  # not due yet
    world.clock.advance(2)
    assert await world.service.send_due() == 1
    (doc,) = world.by_status("pending")
    assert doc["next_attempt_at"] == world.clock.now + timedelta(seconds=4)
    world.clock.advance(4)
    assert await world.service.send_due() == 1
    (doc,) = world.by_status("sent")
    assert doc["attempts"] == 2 and len(world.mailer.sent) == 1


async def test_an_outage_pauses_the_whole_sender(world: World, samples: Any) -> None:
    await world.service.on_activated(samples.activated())
    await world.service.on_consent_rejected(samples.consent_rejected())
    world.mailer.failures = [TransientFailure("connection refused", outage=True)]
    assert await world.service.send_due() == 1  # the second mail is not even tried
    assert world.service.paused_until == world.clock.now + timedelta(seconds=2)
    assert await world.service.send_due() == 0
    world.clock.advance(2)
    assert await world.service.send_due() == 2
    assert len(world.mailer.sent) == 2 and world.service.paused_until is None


async def test_permanent_failure_is_recorded_and_can_be_requeued(
    world: World, samples: Any
) -> None:
    await world.service.on_activated(samples.activated())
    world.mailer.failures = [PermanentFailure("550 5.1.1 no such user <x@example.jp>")]
    await world.service.send_due()
    (doc,) = world.by_status("failed")
    assert doc["last_error"] == "550 5.1.1 no such user <x@example.jp>"
    assert doc["failed_at"] == world.clock.now
    listed = await world.service.list_mails(status="failed")
    assert [m["id"] for m in listed] == [doc["_id"]]
    await world.service.requeue(doc["_id"])
    assert await world.service.send_due() == 1
    assert world.by_status("sent")[0]["_id"] == doc["_id"]
    with pytest.raises(MailNotRequeueable):
        await world.service.requeue(doc["_id"])


async def test_crash_between_sending_and_marking_sends_again_with_same_id(
    world: World, samples: Any
) -> None:
    """The chosen side of the crash window: at least once, with one Message-ID."""
    await world.service.on_activated(samples.activated())
    (doc_id,) = world.mails.docs
    original_update = world.mails.update

    async def crash_on_mark_sent(doc_id: str, change: Change, **kw: Any) -> Document | None:
        current = world.mails.docs[doc_id]
        if current.get("lease_owner") and world.mailer.sent:
            raise ConnectionError("process died")  # the mail left, the mark did not
        return await original_update(doc_id, change, **kw)

    world.mails.update = crash_on_mark_sent  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await world.service.send_due()
    world.mails.update = original_update  # type: ignore[method-assign]
    assert len(world.mailer.sent) == 1 and world.mails.docs[doc_id]["status"] == "pending"
    assert await world.service.send_due() == 0  # the lease still holds
    world.clock.advance(61)
    assert await world.service.send_due() == 1
    first, second = world.mailer.sent
    assert first["Message-ID"] == second["Message-ID"] == world.mails.docs[doc_id]["message_id"]
    assert world.mails.docs[doc_id]["status"] == "sent"


async def test_a_held_mail_is_not_sent_by_a_second_sender(world: World, samples: Any) -> None:
    await world.service.on_activated(samples.activated())
    (doc_id,) = world.mails.docs
    held = Repository(world.mails, Mail).load(world.mails.docs[doc_id])
    claimed = mails.claim(held, "other", world.clock.now, timedelta(60))
    assert claimed is not None
    world.mails.docs[doc_id] |= claimed.to_document()
    assert await world.service.send_one(doc_id) == "skipped"
    assert world.mailer.sent == []


async def test_application_flow_records_each_mail_once(world: World, samples: Any) -> None:
    await world.service.on_activated(samples.activated())
    service = world.service
    judged = samples.judged(1, 2, approved=False)
    await service.on_judgement_completed(judged)
    await service.on_application_submitted(samples.submitted(workers=2))
    await service.on_judgement_completed(samples.judged(1, 1))
    await service.on_judgement_completed(judged)  # redelivered
    await service.on_notice_generated(samples.notice(1, 1))
    await service.on_notice_generated(samples.notice(1, 2))
    await service.on_notice_generated(samples.notice(1, 2))
    app = samples.application_id(1)
    templates = sorted(
        (d["template"], d["key"])
        for d in world.mails.docs.values()
        if d["template"] != "account_activated"
    )
    assert templates == [
        ("application_received", app),
        ("judgement_completed", app),
        ("result_notices", app),
    ]
    # each carries the correlation id of the event that decided it (its send is logged so)
    assert all(d["correlation_id"] for d in world.mails.docs.values())


def test_backoff_doubles_and_is_capped() -> None:
    assert [mails.backoff(n, 5, 60) for n in range(1, 6)] == [5, 10, 20, 40, 60]
