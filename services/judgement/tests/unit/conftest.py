"""Builders for evaluation requests (judgement-rules.md §5) used by the unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from judgement.core.engine import evaluate
from judgement.core.master import Master
from judgement.core.models import EvaluationRequest, EvaluationResult
from judgement.criteria import default_master

FIXTURES = Path(__file__).parent / "fixtures"

Qual = tuple[str | None, str, str | None]  # (code, name, acquired_on)


def workdays(
    start: str | date,
    count: int,
    *,
    role: str | None = None,
    occupation: str | None = None,
    step: int = 1,
) -> list[dict[str, Any]]:
    """``count`` work records on consecutive (or every ``step``-th) calendar days."""
    first = date.fromisoformat(start) if isinstance(start, str) else start
    return [
        {
            "date": (first + timedelta(days=i * step)).isoformat(),
            "site_id": "S0001",
            "role": role,
            "occupation": occupation,
        }
        for i in range(count)
    ]


def request(
    trade: str = "鉄筋",
    level: int = 2,
    *,
    application_date: str = "2026-11-01",
    registered_on: str = "2020-06-01",
    registration_type: str = "詳細型",
    quals: Iterable[Qual] = (),
    history: Iterable[dict[str, Any]] = (),
    cert: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "trade": trade,
        "requested_level": level,
        "application_date": application_date,
        "ccus": {
            "worker_id": "12345678901234",
            "registration_type": registration_type,
            "registered_on": registered_on,
            "qualifications": [
                {"code": code, "name": name, "acquired_on": acquired}
                for code, name, acquired in quals
            ],
            "work_history": list(history),
        },
    }
    if cert is not None:
        body["career_certification"] = cert
    return body


def criterion(result: EvaluationResult, level: int, kind: str, index: int = 0) -> Any:
    """The ``index``-th criterion of ``kind`` at ``level``."""
    found = [c for c in result.criteria if c.level == level and c.kind == kind]
    return found[index]


@pytest.fixture(scope="session")
def master() -> Master:
    return default_master()


@pytest.fixture(scope="session")
def judge(master: Master) -> Callable[..., EvaluationResult]:
    """``judge(body)`` or ``judge(**request kwargs)``: validate and evaluate."""

    def run(body: dict[str, Any] | None = None, /, **kwargs: Any) -> EvaluationResult:
        use = kwargs.pop("master", master)
        raw = body if body is not None else request(**kwargs)
        return evaluate(EvaluationRequest.model_validate(raw), use)

    return run


class Helpers:
    """The builders above, for test modules (``--import-mode=importlib`` forbids imports)."""

    request = staticmethod(request)
    workdays = staticmethod(workdays)
    criterion = staticmethod(criterion)
    fixtures = FIXTURES


@pytest.fixture(scope="session")
def h() -> type[Helpers]:
    return Helpers
