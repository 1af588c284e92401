"""Each event → its mail, exactly once: real Kafka, real database, the local SMTP sink.

Events are published as the identity, consent, application, judgement and document
services would; every event is published twice (a forced redelivery) and the mails are
read back from the SMTP sink. One service (with its HTTP API, fixture ``flow``) serves
the whole module: starting one costs seconds while its consumers join their group, and
every test uses ids and addresses of its own.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY

from shared_kernel.events.catalogue import (
    TOPIC_APPLICATION,
    TOPIC_CONSENT,
    TOPIC_IDENTITY,
    TOPIC_JUDGEMENT,
)
from shared_kernel.infra.testing import eventually

SETTLE = 1.0  # time for a stray duplicate to show up before counting


def duplicates(flow: Any, topic: str) -> float:
    """Redelivered events the service's consumer recognised (and skipped) so far."""
    value = REGISTRY.get_sample_value(
        "events_consumed_total",
        {
            "topic": flow.settings.topic(topic),
            "group": f"{flow.settings.topic_prefix}notification",
            "outcome": "duplicate",
        },
    )
    return value or 0.0


async def arrived(mailbox: Any, to: str, count: int) -> list[Any]:
    """The messages to ``to`` once ``count`` are there, and a moment later (no extra)."""
    found: list[Any] = []

    async def enough() -> bool:
        found[:] = await mailbox.messages(to)
        return len(found) >= count

    await eventually(enough, timeout=30)
    await asyncio.sleep(SETTLE)
    found[:] = await mailbox.messages(to)
    return found


async def known_employer(flow: Any, samples: Any) -> None:
    await flow.publish(samples.activated())

    async def known() -> bool:
        addresses = await flow.svc.service.employer_addresses(samples.employer_id)
        return bool(addresses == [samples.email])

    await eventually(known, timeout=30)


async def test_identity_mails_once_even_when_redelivered(
    flow: Any, mailbox: Any, samples: Any, helpers: Any
) -> None:
    """A 仮申請 mails nothing here (identity sends the activation link itself); the
    activation confirmation goes out once, whatever the redeliveries."""
    service = flow.svc.service
    before = duplicates(flow, TOPIC_IDENTITY)
    provisional = samples.provisional(expires_at=datetime(2099, 1, 1, 3, 0, tzinfo=UTC))
    activated = samples.activated()
    for envelope in (provisional, provisional, activated, activated):  # each redelivered
        await flow.publish(envelope)
    await eventually(lambda: duplicates(flow, TOPIC_IDENTITY) >= before + 2, timeout=30)
    found = await arrived(mailbox, samples.email, 1)

    # the handlers run again by hand (as after a crash before the offset commit)
    await service.on_provisionally_registered(provisional)
    await service.on_activated(activated)
    assert await service.send_due() == 0
    stored = [m.to_document() for m in await service.mails.find({"to": samples.email})]
    assert len(stored) == 1
    assert len(await mailbox.messages(samples.email)) == 1

    [activated_mail] = found
    assert activated_mail["Subject"] == "【能力評価システム】利用者本登録完了のお知らせ"
    assert activated_mail["From"] == "能力評価システム <no-reply@noryoku-hyoka.example.jp>"
    assert f"ログインID：{samples.login_id}" in helpers.text_of(activated_mail)
    assert [d["status"] for d in stored] == ["sent"]
    assert all("sealed_secrets" not in d for d in stored)
    assert {d["message_id"] for d in stored} == {m["Message-ID"] for m in found}


async def test_employer_mails_once_each(
    flow: Any, mailbox: Any, samples: Any, helpers: Any
) -> None:
    await known_employer(flow, samples)
    consent_before = duplicates(flow, TOPIC_CONSENT)
    application_before = duplicates(flow, TOPIC_APPLICATION)
    events = [
        samples.consent_granted(),
        samples.consent_rejected(),
        samples.submitted(workers=2),
        samples.reminder(2),
    ]
    for envelope in events:
        await flow.publish(envelope)
        await flow.publish(envelope)  # forced redelivery
    await eventually(
        lambda: (
            duplicates(flow, TOPIC_CONSENT) >= consent_before + 2
            and duplicates(flow, TOPIC_APPLICATION) >= application_before + 2
        ),
        timeout=30,
    )
    found = await arrived(mailbox, samples.email, 5)  # with the 本登録完了 mail

    by_subject = {m["Subject"]: m for m in found}
    assert len(found) == 5 and len(by_subject) == 5
    assert {m["To"] for m in found} == {samples.email}
    granted = helpers.text_of(
        by_subject["【能力評価システム】個人情報利用申請 承認のお知らせ（髙﨑 𠮷男様）"]
    )
    assert "氏名　　：髙﨑 𠮷男（タカサキ ヨシオ）" in granted
    assert "有効期限：2027年11月18日まで" in granted
    rejected = helpers.text_of(
        by_subject[
            "【能力評価システム】個人情報利用申請 差戻しのお知らせ（技能者ID 10000000000002）"
        ]
    )
    assert "■ 差戻しの理由\n同意書の署名欄に技能者本人の署名がありません。" in rejected
    app1, app2 = samples.application_id(1), samples.application_id(2)
    received = helpers.text_of(
        by_subject[f"【能力評価システム】レベル判定代行申請 申請受領のお知らせ（申請番号 {app1}）"]
    )
    assert "2. 山田 花子（技能者ID 10000000000002）" in received
    assert "　　分野：鉄筋　申請レベル：レベル3　手数料：4,000円" in received
    assert "■ 手数料の合計：8,000円" in received
    reminder = helpers.text_of(
        by_subject[f"【能力評価システム】申請ボタンの押し忘れにご注意ください（申請番号 {app2}）"]
    )
    assert "申請ボタンの押し忘れにご注意ください。" in reminder
    assert f"https://portal.example.jp/applications/{app2}" in reminder


async def test_one_result_mail_per_application_and_one_for_the_notices(
    flow: Any, mailbox: Any, samples: Any, helpers: Any
) -> None:
    app = samples.application_id(1)
    await known_employer(flow, samples)
    judgement_before = duplicates(flow, TOPIC_JUDGEMENT)
    early = samples.judged(1, 2, approved=False)
    await flow.publish(early)  # the judgement of line 2 arrives before the application

    async def kept() -> bool:
        return await flow.svc.service.applications.get(app) is not None

    await eventually(kept, timeout=30)
    await flow.publish(samples.submitted(workers=2))
    await flow.publish(samples.judged(1, 1))
    await flow.publish(early)  # redelivered
    await eventually(lambda: duplicates(flow, TOPIC_JUDGEMENT) >= judgement_before + 1)
    await arrived(mailbox, samples.email, 3)  # 本登録完了, 申請受領, 判定完了
    second = samples.notice(1, 2)
    for envelope in (samples.notice(1, 1), second, second, samples.notice(1, 2)):
        await flow.publish(envelope)  # redelivered, then sent again under a new event id
    found = await arrived(mailbox, samples.email, 4)

    subjects = sorted(m["Subject"] for m in found)
    assert subjects == sorted(
        [
            "【能力評価システム】利用者本登録完了のお知らせ",
            f"【能力評価システム】レベル判定代行申請 申請受領のお知らせ（申請番号 {app}）",
            f"【能力評価システム】レベル判定完了のお知らせ（申請番号 {app}）",
            f"【能力評価システム】結果通知書発行のお知らせ（申請番号 {app}）",
        ]
    )
    result = next(m for m in found if "判定完了" in m["Subject"])
    text = helpers.text_of(result)
    assert "■ 判定結果（承認 1名・不承認 1名）" in text
    assert "1. 髙﨑 𠮷男（技能者ID 10000000000001）" in text
    assert "　　判定結果　：承認\n　　判定レベル：レベル2\n" in text
    assert "2. 山田 花子（技能者ID 10000000000002）" in text
    assert "　　判定結果　：不承認\n　　判定レベル：レベル2\n" in text
    assert "　　・1級鉄筋施工技能士がCCUSに登録されていません" in text
    assert f"https://portal.example.jp/results/{app}" in text
    assert "結果通知書（PDF）の準備ができましたら、あらためてメールでお知らせします。" in text
    notices = helpers.text_of(next(m for m in found if "結果通知書発行" in m["Subject"]))
    assert f"https://portal.example.jp/results/{app}/notices/N-{app}-1" in notices
    assert f"https://portal.example.jp/results/{app}/notices/N-{app}-2" in notices


async def test_operators_see_mails_without_recipient(flow: Any, samples: Any, helpers: Any) -> None:
    granted = samples.consent_granted()  # nobody of this employer is registered
    await flow.publish(granted)
    operator = helpers.bearer(flow.settings, "operator")
    listed: list[Any] = []

    async def recorded() -> bool:
        response = await flow.client.get(
            "/mails", params={"status": "no_recipient", "event_id": granted.id}, headers=operator
        )
        listed[:] = response.json()
        return bool(listed)

    await eventually(recorded, timeout=30)
    employer = helpers.bearer(flow.settings, "employer", samples.employer_id)
    forbidden = await flow.client.get("/mails", headers=employer)
    anonymous = await flow.client.get("/mails")
    bad = await flow.client.get("/mails", params={"status": "lost"}, headers=operator)
    none_sent = await flow.client.get(
        "/mails", params={"status": "sent", "event_id": granted.id}, headers=operator
    )

    (mail,) = listed
    assert mail["id"] == f"consent_granted:{granted.id}:-"
    assert mail["to"] is None
    assert mail["template"] == "consent_granted"
    assert mail["event_id"] == granted.id
    assert mail["event_type"] == "jp.ccus.level.consent.granted.v1"
    assert mail["employer_id"] == samples.employer_id
    assert mail["status"] == "no_recipient"
    assert mail["last_error"] == "宛先のメールアドレスが登録されていません"
    assert mail["created_at"] and mail["sent_at"] is None
    assert not {"text", "html", "sealed_secrets"} & set(mail)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    assert anonymous.status_code == 401
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    assert none_sent.json() == []
