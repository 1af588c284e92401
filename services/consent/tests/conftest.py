"""Builders shared by the consent service's tests."""

from __future__ import annotations

from datetime import date, datetime

from consent.core.ccus import CcusWorker


def ccus_record(worker_id: str, taken_at: datetime) -> CcusWorker:
    """山田 太郎 (ヤマダ タロウ, born 1980-04-01, 詳細型) as the CCUS read model holds him."""
    return CcusWorker(
        id=worker_id,
        worker_id=worker_id,
        name="山田 太郎",
        name_kana="ヤマダ タロウ",
        birth_date=date(1980, 4, 1),
        registration_type="detailed",
        taken_at=taken_at,
    )
