"""The 「レベル判定結果が更新されました」 mail: what it says, and the service over in-memory
ports (recorded once per employer and run, the sweep's fallback, late lines, a crash)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from prometheus_client import REGISTRY

from notification.adapters.outbound.templates import JinjaRenderer
from notification.core import compose, rejudgements
from notification.core.applications import ApplicationMails
from notification.core.links import Links
from notification.core.mails import Mail
from notification.core.rejudgements import Digest
from notification.core.service import NotificationService
from notification.core.users import User
from notification.metrics import PrometheusMetrics
from shared_kernel.events import Envelope
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.testing import MemoryDocuments

LINKS = Links("https://portal.example.jp/")
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
WAIT = timedelta(minutes=30)
SUBJECT = "【能力評価システム】レベル判定結果が更新されました"


def digest(*envelopes: Envelope) -> rejudgements.Digest:
    doc: rejudgements.Digest | None = None
    for envelope in envelopes:
        step: Any = (
            rejudgements.planned if envelope.type.endswith("planned.v1") else rejudgements.rejudged
        )
        at = rejudgements.Arrival(envelope.id, envelope.type, envelope.correlation_id, NOW)
        outcome = step(envelope.event, at, doc)
        if outcome is not None:
            doc = outcome[0]
    assert doc is not None
    return doc


def test_the_update_mail_lists_old_and_new_results(samples: Any) -> None:
    doc = digest(
        samples.planned(1, 1, 2, 3),
        samples.rejudged(1, 3, after=("approved", 4), before=("approved", 3)),
        samples.rejudged(1, 1, after=("approved", 2), before=("approved", 2)),
        samples.rejudged(1, 2, after=("approved", 3), before=("rejected", 2)),
    )
    draft = compose.rejudgement_results(doc, LINKS)
    assert draft is not None and draft.template == "rejudgement_results"
    assert draft.trigger.key == f"R1:{samples.employer_id}"
    assert draft.trigger.employer_id == samples.employer_id
    subject, text, html = JinjaRenderer().render(draft.template, draft.context)
    app = samples.application_id(1)
    assert subject == SUBJECT
    assert "■ 再判定の理由\nL3職長日数の転記誤りの訂正\n" in text
    assert "■ 再判定の結果（3名：変更あり 2名・変更なし 1名）" in text
    assert (
        "1. 髙﨑 𠮷男（技能者ID 10000000000001）\n"
        "　　分野　　　：鉄筋\n"
        f"　　申請番号　：{app}\n"
        "　　申請レベル：レベル2\n"
        "　　判定結果　：承認（レベル2）　変更なし\n"
        f"　　結果確認　：https://portal.example.jp/results/{app}?detail={app}-1\n"
    ) in text
    assert (
        "2. 山田 花子（技能者ID 10000000000002）\n"
        "　　分野　　　：鉄筋\n"
        f"　　申請番号　：{app}\n"
        "　　申請レベル：レベル3\n"
        "　　判定結果　：不承認（レベル2） → 承認（レベル3）\n"
    ) in text
    assert "3. 佐藤 一郎（技能者ID 10000000000003）" in text
    assert "　　判定結果　：承認（レベル3） → 承認（レベル4）\n" in text
    assert "再判定日時：2026年12月7日 10:00（日本時間）" in text
    assert "結果確認画面：https://portal.example.jp/results\n" in text
    assert "能力評価システム（建設技能者の能力評価・レベル判定）" in text
    assert f'href="https://portal.example.jp/results/{app}?detail={app}-2"' in html
    assert "不承認（レベル2）" in html and "変更なし" in html


def test_an_unknown_previous_result_is_said_so(samples: Any) -> None:
    doc = digest(samples.rejudged(1, 1, run=None, before=(None, None)))
    draft = compose.rejudgement_results(doc, LINKS)
    assert draft is not None
    _, text, _ = JinjaRenderer().render(draft.template, draft.context)
    assert "判定結果　：承認（レベル3）（再判定前の結果は不明です）" in text
    assert "（1名：変更あり 0名・変更なし 0名）" in text


class Mailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage, recipient: str) -> None:
        self.sent.append(message)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self) -> None:
        self.clock = Clock()
        self.mailer = Mailer()
        self.rejudgements = MemoryDocuments()
        self.mails = MemoryDocuments()
        self.applications = MemoryDocuments()
        self.service = NotificationService(
            Repository(MemoryDocuments(), User),
            Repository(self.applications, ApplicationMails),
            Repository(self.mails, Mail),
            JinjaRenderer(),
            self.mailer,
            rejudgements_store=Repository(self.rejudgements, Digest),
            links=LINKS,
            from_address="能力評価システム <no-reply@noryoku-hyoka.example.jp>",
            rejudgement_wait=WAIT,
            clock=self.clock,
            metrics=PrometheusMetrics(),
        )

    async def employer(self, samples: Any, *addresses: str) -> None:
        for n, address in enumerate(addresses):
            await self.service.on_activated(
                samples.activated(email=address, login_id=f"{samples.login_id}-{n}")
            )
        await self.service.send_due()
        self.mailer.sent.clear()

    async def handle(self, envelope: Envelope) -> None:
        if envelope.type.endswith("planned.v1"):
            await self.service.on_rejudgement_planned(envelope)
        else:
            await self.service.on_judgement_completed(envelope)

    def update_mails(self) -> list[dict[str, Any]]:
        return [d for d in self.mails.docs.values() if d["template"] == "rejudgement_results"]


@pytest.fixture
def world() -> World:
    return World()


def decided_total(cause: str) -> float:
    labels = {"cause": cause}
    return REGISTRY.get_sample_value("notification_rejudgement_mails_decided_total", labels) or 0


async def test_one_mail_per_recipient_once_whatever_runs_again(world: World, samples: Any) -> None:
    await world.employer(samples, samples.address("a"), samples.address("b"))
    before = decided_total("complete")
    events = [samples.rejudged(1, 1), samples.planned(1, 1, 2), samples.rejudged(1, 2)]
    for envelope in [*events, *events]:  # every handler again, as after a crash
        await world.handle(envelope)
    key = f"R1:{samples.employer_id}"
    assert sorted(d["_id"] for d in world.update_mails()) == [
        f"rejudgement_results:{key}:{samples.address('a')}",
        f"rejudgement_results:{key}:{samples.address('b')}",
    ]
    assert all(d["event_id"] == events[2].id for d in world.update_mails())
    assert all(d["correlation_id"] == events[2].correlation_id for d in world.update_mails())
    assert world.rejudgements.docs[key]["status"] == "mailed"
    assert decided_total("complete") == before + 1
    assert await world.service.send_due() == 2
    assert {m["Subject"] for m in world.mailer.sent} == {SUBJECT}
    assert await world.service.close_waited_digests(NOW) == 0
    assert world.applications.docs == {}  # no per-application mail, nor its read model


async def test_the_sweep_sends_after_the_wait_and_late_lines_send_nothing(
    world: World, samples: Any
) -> None:
    await world.employer(samples, samples.email)
    await world.service.on_rejudgement_planned(samples.planned(1, 1, 2, 3))
    await world.service.on_judgement_completed(samples.rejudged(1, 1))
    await world.service.on_judgement_completed(samples.rejudged(1, 2))
    world.clock.now = NOW + WAIT - timedelta(seconds=1)
    assert await world.service.close_waited_digests(NOW) == 0
    assert world.update_mails() == []
    world.clock.now = NOW + WAIT
    assert await world.service.close_waited_digests(NOW) == 1
    (mail,) = world.update_mails()
    assert "2名：" in mail["text"] and samples.application_id(1) + "-3" not in mail["text"]
    late_before = REGISTRY.get_sample_value("notification_rejudgement_late_lines_total") or 0
    await world.service.on_judgement_completed(samples.rejudged(1, 3))
    assert len(world.update_mails()) == 1
    key = f"R1:{samples.employer_id}"
    assert world.rejudgements.docs[key]["late"] == [f"{samples.application_id(1)}-3"]
    late_after = REGISTRY.get_sample_value("notification_rejudgement_late_lines_total")
    assert late_after == late_before + 1
    world.clock.now += WAIT * 2
    assert await world.service.close_waited_digests(NOW) == 0
    assert await world.service.send_due() == 1


async def test_a_decision_whose_mails_were_not_recorded_is_mailed_by_the_sweep(
    world: World, samples: Any
) -> None:
    """A crash between the digest's decision and the mail's record: the sweep records it."""
    await world.employer(samples, samples.email)
    doc = digest(samples.planned(1, 1), samples.rejudged(1, 1))
    key = f"R1:{samples.employer_id}"
    world.rejudgements.docs[key] = {**doc.to_document(), "_id": key, "version": 3}
    assert await world.service.close_waited_digests(NOW) == 1
    assert len(world.update_mails()) == 1
    assert world.rejudgements.docs[key]["status"] == "mailed"
    assert await world.service.close_waited_digests(NOW) == 0


async def test_a_rejudgement_notice_gives_no_mail(world: World, samples: Any) -> None:
    await world.employer(samples, samples.email)
    await world.service.on_notice_generated(samples.renotice(1, 1))
    assert {d["template"] for d in world.mails.docs.values()} == {"account_activated"}
    assert world.applications.docs == {}
