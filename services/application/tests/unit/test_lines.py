"""技能者追加: one line checked as a whole (consent, trade, level, period, 職長・班長, address)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from application.core import lines

from .conftest import ADDRESS, ccus, consent_doc, context, level2, level4

LATER = consent_doc("99000000000003", valid_until=date(2030, 1, 1))


def fields(errors: list[lines.FieldError]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in errors]


def test_a_complete_level_4_line() -> None:
    got, errors = lines.check(level4(), context())
    assert errors == [] and got is not None
    assert got.worker.worker_name == "髙﨑 誠"
    assert (got.trade, got.requested_level) == ("とび", 4)
    assert got.period is not None and got.period.as_dict() == {
        "start": "1987-04-01",
        "end": "2019-06-03",
    }
    assert got.foreman is not None and got.foreman.ja() == "10年0ヶ月"
    assert got.delivery_address is None  # the application's address applies
    assert got.warnings == []


def test_consent_is_required() -> None:
    _, errors = lines.check(level4(), context(consent=None))
    assert fields(errors) == [("worker_id", "consent_required")]


def test_a_worker_id_must_be_14_digits() -> None:
    _, errors = lines.check(level4(worker_id="9900000000000"), context())
    assert fields(errors) == [("worker_id", "invalid_worker_id")]
    assert lines.normalise_worker_id("９９０００００００００００３") == "99000000000003"
    assert lines.normalise_worker_id("9900-0000-0000-03") == "99000000000003"


def test_the_trade_must_be_judgeable() -> None:
    _, errors = lines.check(level4(trade="左官"), context())
    assert fields(errors) == [("trade", "trade_not_available")]
    assert errors[0].message.startswith("「左官」は能力評価基準が登録されている分野ではないため")
    _, errors = lines.check(level4(trade=""), context())
    assert fields(errors) == [("trade", "required")]


def test_every_problem_is_reported_at_once() -> None:
    request = level4(
        trade="左官",
        requested_level=3,
        career_period={"start": "2019-06-04", "end": "2019-06-03"},
        foreman=None,
        delivery_address={"postal_code": "1234"},
    )
    _, errors = lines.check(request, context(consent=None))
    assert fields(errors) == [
        ("worker_id", "consent_required"),
        ("trade", "trade_not_available"),
        ("career_period.end", "end_before_start"),
        ("foreman", "required"),
        ("delivery_address.postal_code", "invalid_postal_code"),
        ("delivery_address.prefecture", "required"),
        ("delivery_address.city_address", "required"),
        ("delivery_address.addressee", "required"),
        ("delivery_address.phone", "required"),
    ]


def test_level_2_must_not_carry_foreman_years() -> None:
    _, errors = lines.check(level2(foreman={"years": 0, "months": 0}), context("99000000000001"))
    assert fields(errors) == [("foreman", "not_allowed")]


def test_level_3_without_leader_is_refused() -> None:
    _, errors = lines.check(level4(requested_level=3, leader=None), context())
    assert fields(errors) == [("leader", "required")]


def test_an_omitted_period_takes_the_ccus_prefill() -> None:
    request = level4(career_period=None, career_period_given=False)
    got, errors = lines.check(
        request, context(ccus=ccus(oldest="2005-04-01", registered="2024-06-10"))
    )
    assert errors == [] and got is not None and got.period is not None
    assert got.period.as_dict() == {"start": "2005-04-01", "end": "2024-03-31"}  # capped
    assert got.prefill is not None
    assert [n.field for n in got.prefill.notes] == ["start", "end", "end"]


def test_an_explicit_null_period_means_no_career_certification() -> None:
    got, errors = lines.check(level2(career_period=None), context("99000000000001"))
    assert errors == [] and got is not None and got.period is None
    assert got.prefill is not None and got.prefill.period is not None  # still shown


def test_a_period_after_the_cap_is_refused_with_the_capped_value() -> None:
    request = level4(career_period={"start": "2005-04-01", "end": "2024-06-10"})
    _, errors = lines.check(request, context())
    assert [(e.field, e.code, e.suggested) for e in errors] == [
        ("career_period.end", "career_end_after_cutoff", "2024-03-31")
    ]


def test_from_2029_04_01_a_period_is_refused() -> None:
    _, errors = lines.check(level4(), context(application_date=date(2029, 4, 1), consent=LATER))
    assert fields(errors) == [("career_period", "career_not_allowed")]
    _, errors = lines.check(level4(), context(application_date=date(2029, 3, 31), consent=LATER))
    assert fields(errors) == []
    no_period = level4(career_period=None)
    _, errors = lines.check(no_period, context(application_date=date(2029, 4, 1), consent=LATER))
    assert errors == []


def test_from_2029_04_01_the_prefill_offers_no_period() -> None:
    request = level4(career_period=None, career_period_given=False)
    got, errors = lines.check(request, context(application_date=date(2029, 4, 1), consent=LATER))
    assert errors == [] and got is not None and got.period is None
    _, errors = lines.check(level4(), context(application_date=date(2029, 4, 1), consent=LATER))
    assert fields(errors) == [("career_period", "career_not_allowed")]


def test_the_delivery_address_can_be_changed_per_line() -> None:
    got, errors = lines.check(
        level4(delivery_address={**ADDRESS, "prefecture": "大阪府"}), context()
    )
    assert errors == [] and got is not None
    assert got.delivery_address is not None and got.delivery_address["prefecture"] == "大阪府"
    empty, errors = lines.check(level4(delivery_address={"postal_code": ""}), context())
    assert errors == [] and empty is not None and empty.delivery_address is None


def test_warnings_do_not_refuse_the_line() -> None:
    request = level4(career_period={"start": "1980-04-01", "end": "2019-06-03"})
    got, errors = lines.check(request, context(ccus=ccus(registration_type="simple")))
    assert errors == [] and got is not None
    assert [w.code for w in got.warnings] == [
        "simple_registration",
        "start_before_oldest_qualification",
    ]


def test_recheck_at_submission_uses_the_submission_date() -> None:
    stored = lines.Line(
        line_id="AP-1-01",
        worker_id="99000000000003",
        worker_name="髙﨑 誠",
        worker_name_kana="タカサキ マコト",
        birth_date=date(1968, 11, 3),
        consent_id="c-1",
        trade="とび",
        requested_level=4,
        career_period={"start": "1987-04-01", "end": "2019-06-03"},
        foreman={"years": 10, "months": 0},
        leader={"years": 0, "months": 0},
        delivery_address=None,
        updated_at=datetime(2026, 11, 28, tzinfo=UTC),
    )
    assert lines.recheck(stored, context(), "lines.0.") == []
    later = lines.recheck(
        stored, context(application_date=date(2029, 4, 1), consent=LATER), "lines.0."
    )
    assert fields(later) == [("lines.0.career_period", "career_not_allowed")]
    gone = lines.recheck(stored, context(consent=None, trades=frozenset({"鉄筋"})), "lines.0.")
    assert fields(gone) == [
        ("lines.0.worker_id", "consent_required"),
        ("lines.0.trade", "trade_not_available"),
    ]
