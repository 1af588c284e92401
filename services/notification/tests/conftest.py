"""Event builders shared by the notification service's unit and integration tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import (
    ApplicationDraftReminder,
    ApplicationLine,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    ConsentGranted,
    ConsentRejected,
    JudgementCompletedV2,
    RejudgementPlanned,
    ResultNoticeGenerated,
    UserActivated,
    UserProvisionallyRegisteredV2,
)


class Samples:
    """Events as the other services publish them; every id unique per instance."""

    def __init__(self) -> None:
        run = uuid.uuid4().hex[:8]
        self.run = run
        self.employer_id = str(int(run, 16) % 10**14).zfill(14)
        self.login_id = f"user{run}"
        self.email = f"taro.{run}@example.jp"

    def address(self, name: str) -> str:
        return f"{name}.{self.run}@example.jp"

    def provisional(
        self,
        *,
        email: str | None = None,
        expires_at: datetime = datetime(2026, 11, 21, 15, 30, tzinfo=UTC),
    ) -> Envelope:
        """利用者仮申請 as identity emits it since issue 22 (v2: no secret)."""
        return Envelope(
            UserProvisionallyRegisteredV2(
                login_id=self.login_id,
                email=email or self.email,
                employer_id=self.employer_id,
                employer_name="株式会社髙﨑建設",
                expires_at=expires_at,
            ),
            source="identity",
        )

    def activated(self, *, email: str | None = None, login_id: str | None = None) -> Envelope:
        return Envelope(
            UserActivated(
                login_id=login_id or self.login_id,
                email=email or self.email,
                employer_id=self.employer_id,
                employer_name="株式会社髙﨑建設",
                activated_at=datetime(2026, 11, 19, 1, 0, tzinfo=UTC),
            ),
            source="identity",
        )

    def consent_granted(self, *, employer_id: str | None = None) -> Envelope:
        return Envelope(
            ConsentGranted(
                consent_id=f"C-{self.run}",
                employer_id=employer_id or self.employer_id,
                worker_id="10000000000001",
                worker_name="髙﨑 𠮷男",
                worker_name_kana="タカサキ ヨシオ",
                birth_date=date(1980, 4, 1),
                scopes=["view_ccus_data", "proxy_application", "card_issuance", "fee"],
                granted_at=datetime(2026, 11, 19, 3, 0, tzinfo=UTC),
                valid_until=date(2027, 11, 18),
            ),
            source="consent",
        )

    def consent_rejected(self) -> Envelope:
        return Envelope(
            ConsentRejected(
                consent_id=f"C-{self.run}-2",
                employer_id=self.employer_id,
                worker_id="10000000000002",
                reason="同意書の署名欄に技能者本人の署名がありません。",
                rejected_at=datetime(2026, 11, 19, 4, 0, tzinfo=UTC),
            ),
            source="consent",
        )

    def application_id(self, n: int = 1) -> str:
        return f"A{self.run}-{n}"

    def submitted(self, n: int = 1, *, workers: int = 2) -> Envelope:
        app = self.application_id(n)
        return Envelope(
            ApplicationSubmitted(
                application_id=app,
                employer_id=self.employer_id,
                application_date=date(2026, 11, 20),
                submitted_at=datetime(2026, 11, 20, 0, 5, tzinfo=UTC),
                fee_total_yen=4000 * workers,
                lines=[
                    ApplicationLine(
                        line_id=f"{app}-{i}",
                        worker_id=f"1000000000000{i}",
                        worker_name=["髙﨑 𠮷男", "山田 花子", "佐藤 一郎"][i - 1],
                        worker_name_kana="タカサキ ヨシオ",
                        birth_date=date(1980, 4, 1),
                        trade="鉄筋",
                        requested_level=1 + i,
                        foreman_months=12 if i > 1 else 0,
                        fee_yen=4000,
                    )
                    for i in range(1, workers + 1)
                ],
            ),
            source="application",
        )

    def reminder(self, n: int = 1) -> Envelope:
        return Envelope(
            ApplicationDraftReminder(
                application_id=self.application_id(n),
                employer_id=self.employer_id,
                line_count=2,
                draft_created_at=datetime(2026, 11, 16, 23, 0, tzinfo=UTC),
                reminded_at=datetime(2026, 11, 19, 23, 0, tzinfo=UTC),
            ),
            source="application",
        )

    def withdrawn(self, n: int, *lines: int) -> Envelope:
        app = self.application_id(n)
        return Envelope(
            ApplicationWithdrawn(
                application_id=app,
                employer_id=self.employer_id,
                line_ids=[f"{app}-{i}" for i in lines],
                withdrawn_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
            ),
            source="application",
        )

    def judged(self, n: int, line: int, *, approved: bool = True, **extra: Any) -> Envelope:
        app = self.application_id(n)
        return Envelope(
            JudgementCompletedV2(
                judgement_id=f"J-{app}-{line}",
                application_id=app,
                line_id=f"{app}-{line}",
                employer_id=self.employer_id,
                worker_id=f"1000000000000{line}",
                worker_name=["髙﨑 𠮷男", "山田 花子", "佐藤 一郎"][line - 1],
                trade="鉄筋",
                evaluation_body="公益社団法人 全国鉄筋工事業協会",
                application_date=date(2026, 11, 20),
                requested_level=1 + line,
                decision="approved" if approved else "rejected",
                eligible_level=1 + line if approved else line,
                criteria_version="鉄筋@2019-10-08",
                messages=[] if approved else ["1級鉄筋施工技能士がCCUSに登録されていません"],
                judged_at=extra.pop("judged_at", datetime(2026, 11, 21, 2, 0, tzinfo=UTC)),
                **extra,
            ),
            source="judgement",
        )

    def notice(self, n: int, line: int) -> Envelope:
        app = self.application_id(n)
        return Envelope(
            ResultNoticeGenerated(
                notice_id=f"N-{app}-{line}",
                judgement_id=f"J-{app}-{line}",
                application_id=app,
                line_id=f"{app}-{line}",
                employer_id=self.employer_id,
                worker_id=f"1000000000000{line}",
                document_id=f"D-{app}-{line}",
                sha256="0" * 64,
                generated_at=datetime(2026, 11, 21, 2, 1, tzinfo=UTC),
            ),
            source="document",
        )

    def rejudged(
        self,
        n: int,
        line: int,
        *,
        run: str | None = "R1",
        after: tuple[str, int] = ("approved", 3),
        before: tuple[str | None, int | None] = ("approved", 2),
        sequence: int = 2,
        reason: str = "L3職長日数の転記誤りの訂正",
    ) -> Envelope:
        """A re-judgement (再判定) of line ``line`` of application ``n`` in run ``run``."""
        first = self.judged(n, line).event
        assert isinstance(first, JudgementCompletedV2)
        decision, level = after
        event = first.model_copy(
            update={
                "judgement_id": f"{first.judgement_id}-{run or 'manual'}",
                "decision": decision,
                "eligible_level": level,
                "criteria_version": "鉄筋@2026-12-01",
                "judged_at": datetime(2026, 12, 7, 1, 0, tzinfo=UTC),
                "sequence": sequence,
                "supersedes": first.judgement_id,
                "previous_decision": before[0],
                "previous_eligible_level": before[1],
                "rejudgement_run_id": run,
                "rejudgement_reason": reason,
            }
        )
        return Envelope(JudgementCompletedV2.model_validate(event.model_dump()), source="judgement")

    def planned(
        self, n: int, *lines: int, run: str = "R1", reason: str = "L3職長日数の転記誤りの訂正"
    ) -> Envelope:
        """RejudgementPlanned: lines of application ``n`` that run ``run`` judges again."""
        app = self.application_id(n)
        return Envelope(
            RejudgementPlanned(
                run_id=run,
                employer_id=self.employer_id,
                line_ids=[f"{app}-{i}" for i in lines],
                reason=reason,
                requested_at=datetime(2026, 12, 7, 0, 55, tzinfo=UTC),
            ),
            source="judgement-rejudge",
        )

    def renotice(self, n: int, line: int, *, run: str = "R1") -> Envelope:
        """The 結果通知書 of a re-judgement (sequence 2)."""
        first = self.notice(n, line).event
        assert isinstance(first, ResultNoticeGenerated)
        event = first.model_copy(
            update={
                "notice_id": f"{first.notice_id}-{run}",
                "judgement_id": f"{first.judgement_id}-{run}",
                "document_id": f"{first.document_id}-{run}",
                "sequence": 2,
                "supersedes_notice_id": first.notice_id,
            }
        )
        return Envelope(ResultNoticeGenerated.model_validate(event.model_dump()), source="document")


@pytest.fixture
def samples() -> Samples:
    return Samples()
