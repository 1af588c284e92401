"""Which judgements and workers an evaluator bound to 分野 sees (core/access.py)."""

from __future__ import annotations

from judgement.core import access
from judgement.core.lines import JudgementSummary
from shared_kernel.principal import Principal

EMPLOYER = Principal(subject="kensetsu01", role="employer", employer_id="10000000000001")
UNBOUND = Principal(subject="hyoka0001", role="evaluator")
TEKKIN = Principal(subject="hyoka0002", role="evaluator", trades=("鉄筋",), body="鉄筋協会")
LINE = JudgementSummary.model_construct(
    id="AP-20261204-AAAAAA-01", employer_id="10000000000002", trade="配管"
)


def test_the_list_filter_per_role() -> None:
    assert access.judgement_filter(EMPLOYER) == {"employer_id": "10000000000001"}
    assert access.judgement_filter(UNBOUND) == {}
    assert access.judgement_filter(TEKKIN) == {"trade": {"$in": ["鉄筋"]}}
    assert not access.scoped(UNBOUND) and access.scoped(TEKKIN) and not access.scoped(EMPLOYER)


def test_a_judgement_is_seen_by_its_employer_and_the_evaluators_of_its_trade() -> None:
    assert access.sees_judgement(UNBOUND, LINE)
    assert not access.sees_judgement(TEKKIN, LINE)
    assert access.sees_judgement(TEKKIN, LINE.model_copy(update={"trade": "鉄筋"}))
    assert not access.sees_judgement(EMPLOYER, LINE)
    assert access.sees_judgement(
        EMPLOYER, LINE.model_copy(update={"employer_id": "10000000000001"})
    )
    operator = Principal(subject="unyo0001", role="operator")
    assert not access.sees_judgement(operator, LINE)


def test_a_workers_ccus_data_needs_a_line_of_the_evaluators_trade() -> None:
    assert access.evaluator_sees_worker(UNBOUND, [])
    assert not access.evaluator_sees_worker(TEKKIN, [])  # never applied for
    assert not access.evaluator_sees_worker(TEKKIN, ["配管"])
    assert access.evaluator_sees_worker(TEKKIN, ["配管", "鉄筋"])
    assert not access.evaluator_sees_worker(EMPLOYER, ["鉄筋"])  # employers: the consent
    bound_to_nothing = Principal(subject="hyoka0003", role="evaluator", trades=())
    assert not access.evaluator_sees_worker(bound_to_nothing, ["鉄筋"])
    assert access.judgement_filter(bound_to_nothing) == {"trade": {"$in": []}}
