"""Builders shared by the unit tests: consent events and documents, CCUS summaries, lines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from application import data
from application.core import consents, lines
from application.core.career import CareerRules
from shared_kernel.events.catalogue import ConsentGranted

EMPLOYER = "10000000000001"
OTHER_EMPLOYER = "10000000000002"
TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 12:00 in Japan
WORKERS = {
    "99000000000001": ("髙橋 健太", "タカハシ ケンタ", date(1994, 7, 15)),
    "99000000000002": ("𠮷野 翔太", "ヨシノ ショウタ", date(1988, 2, 29)),
    "99000000000003": ("髙﨑 誠", "タカサキ マコト", date(1968, 11, 3)),
}
RULES = CareerRules(
    cap_from=date(2024, 4, 1),
    cap_end=date(2024, 3, 31),
    none_from=date(2029, 4, 1),
    management_levels=(3, 4),
)
"""The master's rules as judgement's ``GET /rules`` publishes them today."""
TRADES = frozenset({"鉄筋", "電気工事", "とび", "建築大工"})


def grant(
    worker_id: str,
    *,
    employer_id: str = EMPLOYER,
    granted_at: datetime = datetime(2026, 11, 1, tzinfo=UTC),
    valid_until: date = date(2027, 11, 1),
    ends_on_first_judgement: bool | None = None,
) -> ConsentGranted:
    name, kana, birth = WORKERS[worker_id]
    return ConsentGranted(
        consent_id=f"{employer_id}-{worker_id}",
        employer_id=employer_id,
        worker_id=worker_id,
        worker_name=name,
        worker_name_kana=kana,
        birth_date=birth,
        scopes=["view_ccus_data", "proxy_application", "card_issuance", "fee"],
        granted_at=granted_at,
        valid_until=valid_until,
        ends_on_first_judgement=ends_on_first_judgement,
    )


def consent_doc(worker_id: str, **kwargs: Any) -> consents.Consent:
    doc = consents.granted(grant(worker_id, **kwargs), None)
    assert doc is not None
    return doc


def ccus(
    worker_id: str = "99000000000003",
    oldest: str | None = "1987-04-01",
    registered: str = "2019-06-03",
    registration_type: str = "detailed",
) -> dict[str, Any]:
    return {
        "worker_id": worker_id,
        "registration_type": registration_type,
        "registered_on": registered,
        "oldest_qualification_on": oldest,
    }


def context(worker_id: str = "99000000000003", **overrides: Any) -> lines.Context:
    base: dict[str, Any] = {
        "application_date": TODAY,
        "trades": TRADES,
        "prefectures": data.prefectures(),
        "consent": consent_doc(worker_id) if worker_id in WORKERS else None,
        "ccus": ccus(worker_id),
        "rules": RULES,
    }
    return lines.Context(**{**base, **overrides})


def level4(worker_id: str = "99000000000003", **overrides: Any) -> lines.LineRequest:
    base: dict[str, Any] = {
        "worker_id": worker_id,
        "trade": "とび",
        "requested_level": 4,
        "career_period": {"start": "1987-04-01", "end": "2019-06-03"},
        "foreman": {"years": 10, "months": 0},
        "leader": {"years": 0, "months": 0},
    }
    return lines.LineRequest(**{**base, **overrides})


def level2(worker_id: str = "99000000000001", **overrides: Any) -> lines.LineRequest:
    base: dict[str, Any] = {
        "worker_id": worker_id,
        "trade": "鉄筋",
        "requested_level": 2,
        "career_period": None,
    }
    return lines.LineRequest(**{**base, **overrides})


def checked(request: lines.LineRequest, ctx: lines.Context | None = None) -> lines.CheckedLine:
    worker_id = str(request.worker_id)
    got, errors = lines.check(request, ctx or context(worker_id, ccus=ccus(worker_id)))
    assert errors == [], errors
    assert got is not None
    return got


ADDRESS = {
    "postal_code": "100-0001",
    "prefecture": "東京都",
    "city_address": "千代田区千代田1-1",
    "building": "髙橋ビル3階",
    "addressee": "株式会社髙橋建設 総務部",
    "phone": "03-1234-5678",
}


@pytest.fixture
def make_checked() -> Callable[..., lines.CheckedLine]:
    return checked
