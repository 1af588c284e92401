"""Who sees a 結果通知書: its employer and the evaluators of its 分野 (core/access.py)."""

from __future__ import annotations

from document.core.access import sees_notice
from shared_kernel.principal import Principal

from .test_lineage import STORED, Notice

NOTICE = Notice.model_validate(
    {**STORED, "_id": "RN-AP-20261204-AAAAAA-01", "line_id": "AP-1", "issued_on": "2026-12-04"}
)
assert (NOTICE.employer_id, NOTICE.trade) == ("10000000000002", "配管")


def test_employers_see_their_own_notices() -> None:
    owner = Principal(subject="a", role="employer", employer_id="10000000000002")
    other = Principal(subject="b", role="employer", employer_id="10000000000001")
    assert sees_notice(owner, NOTICE) and not sees_notice(other, NOTICE)
    assert not sees_notice(Principal(subject="c", role="employer"), NOTICE)


def test_evaluators_see_the_notices_of_their_trades() -> None:
    assert sees_notice(Principal(subject="e", role="evaluator"), NOTICE)  # unbound: every 分野
    haikan = Principal(subject="f", role="evaluator", trades=("配管",), body="管工事協会")
    tekkin = Principal(subject="g", role="evaluator", trades=("鉄筋",), body="鉄筋協会")
    assert sees_notice(haikan, NOTICE) and not sees_notice(tekkin, NOTICE)


def test_other_roles_see_none() -> None:
    for role in ("operator", "criteria_editor", "criteria_approver"):
        principal = Principal(subject="x", role=role, trades=("配管",))  # type: ignore[arg-type]
        assert not sees_notice(principal, NOTICE)
