"""再判定 → one 「レベル判定結果が更新されました」 mail per employer and run: real Kafka,
real database, the local SMTP sink.

Events are published as the judgement service, its ``rejudge`` command and the document
service would: the plan (key: employer) and the re-judged lines (key: judgement) travel on
different partitions, so they arrive in any order; every one is published twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shared_kernel.infra.testing import eventually

SETTLE = 1.5  # time for a stray duplicate (or a wrongly decided mail) to show up
UPDATE = "【能力評価システム】レベル判定結果が更新されました"
REASON = "L3職長日数の転記誤りの訂正"


async def arrived(mailbox: Any, to: str, count: int, timeout: float = 30) -> list[Any]:
    """The messages to ``to`` once ``count`` are there, and a moment later (no extra)."""
    found: list[Any] = []

    async def enough() -> bool:
        found[:] = await mailbox.messages(to)
        return len(found) >= count

    await eventually(enough, timeout=timeout)
    await asyncio.sleep(SETTLE)
    found[:] = await mailbox.messages(to)
    return found


async def known_employer(service: Any, publish: Any, samples: Any) -> None:
    await publish(samples.activated())

    async def known() -> bool:
        return bool(await service.employer_addresses(samples.employer_id) == [samples.email])

    await eventually(known, timeout=30)


async def test_one_update_mail_per_employer_and_run(
    flow: Any, mailbox: Any, samples: Any, helpers: Any
) -> None:
    service = flow.svc.service
    other = type(samples)()  # employer B
    await known_employer(service, flow.publish, samples)
    await known_employer(service, flow.publish, other)
    app, app_b = samples.application_id(1), other.application_id(1)

    # the first judgements: the per-application mails, as before
    await flow.publish(samples.submitted(workers=3))
    for line in (1, 2, 3):
        await flow.publish(samples.judged(1, line))
    first = await arrived(mailbox, samples.email, 3)  # 本登録完了, 申請受領, 判定完了
    assert f"【能力評価システム】レベル判定完了のお知らせ（申請番号 {app}）" in {
        m["Subject"] for m in first
    }

    # the run: A's three lines, B's one; plans, lines and the new notices in any order
    run = f"R{samples.run}"
    plan_a = samples.planned(1, 1, 2, 3, run=run)
    lines_a = [
        samples.rejudged(1, 1, run=run, after=("approved", 2), before=("approved", 2)),
        samples.rejudged(1, 2, run=run, after=("rejected", 2), before=("approved", 3)),
        samples.rejudged(1, 3, run=run, after=("approved", 4), before=("rejected", 3)),
    ]
    plan_b = other.planned(1, 1, run=run)
    line_b = other.rejudged(1, 1, run=run, after=("approved", 3), before=("rejected", 2))
    notices = [samples.renotice(1, line, run=run) for line in (1, 2, 3)]
    resumed = samples.planned(1, 1, 2, 3, run=run)  # a resumed run plans again (new id)
    for envelope in [lines_a[0], plan_a, line_b, lines_a[1], plan_b, *notices, lines_a[2]]:
        await flow.publish(envelope)
        await flow.publish(envelope)  # redelivered
    await flow.publish(resumed)

    found_a = await arrived(mailbox, samples.email, 4)
    found_b = await arrived(mailbox, other.email, 2)  # 本登録完了 and the update mail

    assert sorted(m["Subject"] for m in found_a) == sorted(
        [
            "【能力評価システム】利用者本登録完了のお知らせ",
            f"【能力評価システム】レベル判定代行申請 申請受領のお知らせ（申請番号 {app}）",
            f"【能力評価システム】レベル判定完了のお知らせ（申請番号 {app}）",
            UPDATE,
        ]
    )  # no second 判定完了, no 結果通知書 mail for the re-judgements' notices
    text = helpers.text_of(next(m for m in found_a if m["Subject"] == UPDATE))
    assert f"■ 再判定の理由\n{REASON}\n" in text
    assert "■ 再判定の結果（3名：変更あり 2名・変更なし 1名）" in text
    assert (
        "1. 髙﨑 𠮷男（技能者ID 10000000000001）\n"
        "　　分野　　　：鉄筋\n"
        f"　　申請番号　：{app}\n"
        "　　申請レベル：レベル2\n"
        "　　判定結果　：承認（レベル2）　変更なし\n"
        f"　　結果確認　：https://portal.example.jp/results/{app}?detail={app}-1\n"
    ) in text
    assert "2. 山田 花子（技能者ID 10000000000002）" in text
    assert "　　判定結果　：承認（レベル3） → 不承認（レベル2）\n" in text
    assert "3. 佐藤 一郎（技能者ID 10000000000003）" in text
    assert "　　判定結果　：不承認（レベル3） → 承認（レベル4）\n" in text
    assert f"https://portal.example.jp/results/{app}?detail={app}-3" in text

    assert sorted(m["Subject"] for m in found_b) == [
        "【能力評価システム】レベル判定結果が更新されました",
        "【能力評価システム】利用者本登録完了のお知らせ",
    ]
    text_b = helpers.text_of(next(m for m in found_b if m["Subject"] == UPDATE))
    assert "■ 再判定の結果（1名：変更あり 1名・変更なし 0名）" in text_b
    assert "　　判定結果　：不承認（レベル2） → 承認（レベル3）\n" in text_b
    assert f"https://portal.example.jp/results/{app_b}?detail={app_b}-1" in text_b
    assert samples.employer_id not in text_b and "山田 花子" not in text_b

    # the handlers run again by hand (a crash before the offset commit): nothing new
    for envelope in (*lines_a, line_b):
        await service.on_judgement_completed(envelope)
    for envelope in notices:
        await service.on_notice_generated(envelope)
    await service.on_rejudgement_planned(plan_a)
    await service.on_rejudgement_planned(plan_b)
    assert await service.send_due() == 0
    for employer in (samples, other):
        digest = await service.rejudgements.get(f"{run}:{employer.employer_id}")
        assert digest is not None and digest.status == "mailed"
        assert digest.decision is not None
        assert digest.decision.cause == "complete"
        (stored,) = await service.mails.find(
            {"template": "rejudgement_results", "to": employer.email}
        )
        assert stored.status == "sent"
    await asyncio.sleep(SETTLE)
    assert len(await mailbox.messages(samples.email)) == 4
    assert len(await mailbox.messages(other.email)) == 2


async def test_the_wait_sends_what_arrived_and_a_late_line_sends_nothing(
    notification: Any, publish: Any, mailbox: Any, samples: Any, helpers: Any
) -> None:
    async with notification(rejudgement_wait_seconds=2.0, rejudgement_sweep_seconds=0.2) as svc:
        service = svc.service
        await known_employer(service, publish, samples)
        app1, app2 = samples.application_id(1), samples.application_id(2)
        await publish(samples.submitted(1, workers=3))
        await publish(samples.submitted(2, workers=1))
        # the plan comes in two parts; line 3 of application 1 is not judged in time, and
        # application 2's only line gets a re-judgement but never its first judgement
        run = f"W{samples.run}"
        for envelope in (
            samples.planned(1, 1, 2, 3, run=run),
            samples.planned(2, 1, run=run),
            samples.rejudged(1, 1, run=run),
            samples.rejudged(1, 2, run=run),
            samples.rejudged(2, 1, run=run),
        ):
            await publish(envelope)
        found = await arrived(mailbox, samples.email, 4)  # 本登録完了, 申請受領 ×2, update
        subjects = sorted(m["Subject"] for m in found)
        assert subjects == sorted(
            [
                "【能力評価システム】利用者本登録完了のお知らせ",
                f"【能力評価システム】レベル判定代行申請 申請受領のお知らせ（申請番号 {app1}）",
                f"【能力評価システム】レベル判定代行申請 申請受領のお知らせ（申請番号 {app2}）",
                UPDATE,
            ]
        )  # a sequence-2 judgement decides no 判定完了 mail
        text = helpers.text_of(next(m for m in found if m["Subject"] == UPDATE))
        assert "■ 再判定の結果（3名：変更あり 3名・変更なし 0名）" in text
        assert f"?detail={app1}-1" in text and f"?detail={app2}-1" in text
        assert f"?detail={app1}-3" not in text
        key = f"{run}:{samples.employer_id}"
        digest = await service.rejudgements.get(key)
        assert digest is not None and digest.decision is not None
        assert digest.decision.cause == "waited"

        await publish(samples.rejudged(1, 3, run=run))  # late: kept apart, never mailed

        async def kept_apart() -> bool:
            doc = await service.rejudgements.get(key)
            return doc is not None and doc.late == [f"{app1}-3"]

        await eventually(kept_apart, timeout=30)
        await asyncio.sleep(SETTLE)  # several sweeps
        assert len(await mailbox.messages(samples.email)) == 4
        application = await service.applications.get(app2)
        assert application is not None and application.result_mail is None
        assert application.results == []
