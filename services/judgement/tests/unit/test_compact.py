"""The compact stored form of a CCUS snapshot (``judgement.core.compact``): it round-trips,
every way of building it gives the same form, and judging it gives exactly the result
``evaluate()`` gives for the §5 request it came from — for synthetic workers, every demo
worker and generated requests (hypothesis), across every judgeable trade, many application
dates, with and without 経歴証明. ``assess()`` (levels only) agrees with both."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgement.core import compact, judging
from judgement.core.engine import assess, evaluate, evaluate_ccus
from judgement.core.errors import CriteriaNotAvailable, UnknownTrade
from judgement.core.master import Master
from judgement.core.models import CareerCertification, CcusRecord, EvaluationRequest, YearsMonths
from judgement.criteria import default_master
from judgement.feed.cli import demo_path
from judgement.feed.files import read_snapshots
from judgement.feed.synthetic import generate
from shared_kernel.events.catalogue import CcusWorkerSnapshot

MASTER: Master = default_master()
JUDGEABLE = sorted(name for name, trade in MASTER.trades.items() if trade.tables)
# around every cut-off of the engine: before the 上位資格 revision, the 経歴証明 end cap, its
# end, and years of accumulated work
DATES = [
    date(2020, 4, 1),
    date(2023, 6, 13),
    date(2023, 6, 14),
    date(2024, 3, 31),
    date(2024, 4, 1),
    date(2026, 11, 21),
    date(2029, 3, 31),
    date(2029, 4, 1),
    date(2031, 12, 31),
]
CERTIFICATIONS = [
    None,
    CareerCertification(
        start=date(1998, 4, 1),
        end=date(2021, 3, 31),
        foreman=YearsMonths(years=6, months=3),
        leader=YearsMonths(years=4),
    ),
]


def same_everywhere(
    record: CcusRecord, ccus: compact.CompactCcus, *, dates: list[date] = DATES
) -> int:
    """``evaluate()`` of the §5 request = ``evaluate_ccus`` of the compact form, and
    ``assess()`` gives its eligible level and every criterion's met flag; returns how many
    judgements were compared."""
    compared = 0
    for trade in JUDGEABLE:
        for day in dates:
            for certification in CERTIFICATIONS:
                try:
                    expected = evaluate(
                        EvaluationRequest(
                            trade=trade,
                            requested_level=4,
                            application_date=day,
                            ccus=record,
                            career_certification=certification,
                        ),
                        MASTER,
                    )
                except CriteriaNotAvailable:
                    with pytest.raises(CriteriaNotAvailable):
                        evaluate_ccus(
                            ccus, MASTER, trade=trade, requested_level=4, application_date=day
                        )
                    continue
                got = evaluate_ccus(
                    ccus,
                    MASTER,
                    trade=trade,
                    requested_level=4,
                    application_date=day,
                    career_certification=certification,
                )
                assert got == expected, (trade, day, certification)
                assert got.model_dump_json() == expected.model_dump_json()
                levels = assess(
                    ccus,
                    MASTER,
                    trade=trade,
                    application_date=day,
                    career_certification=certification,
                )
                assert levels.eligible_level == expected.eligible_level
                for number, flags in levels.met.items():
                    assert flags == tuple(c.met for c in expected.criteria if c.level == number)
                compared += 1
    return compared


def stored(snapshot: CcusWorkerSnapshot) -> dict[str, Any]:
    return judging.snapshot_version_doc(snapshot)


# --------------------------------------------------------------------------- the form


def test_every_way_of_building_it_gives_the_same_form_and_it_round_trips() -> None:
    for worker in generate(40, seed="compact", as_of=date(2026, 11, 21)):
        doc = stored(worker.snapshot)
        record = judging.stored_record(doc)
        from_record = compact.from_record(record)
        assert compact.decode(doc[judging.CCUS_COMPACT]) == from_record
        assert compact.from_ccus_json(doc["ccus_json"]) == from_record
        assert judging.snapshot_compact(worker.snapshot) == from_record
        assert compact.decode(compact.encode(from_record)) == from_record
        assert compact.encode(compact.decode(doc[judging.CCUS_COMPACT])) == doc["ccus_compact"]


def test_the_text_is_small_and_says_what_it_holds() -> None:
    worker = next(generate(1, seed="compact-size", as_of=date(2026, 11, 21), start=3))
    doc = stored(worker.snapshot)
    body = json.loads(doc["ccus_compact"])
    assert body["v"] == 1
    assert body["type"] in ("詳細型", "簡略型")
    assert date.fromordinal(body["registered_on"]) == worker.snapshot.registered_on
    assert len(body["q"]) == len(worker.snapshot.qualifications)
    # every date worked is in exactly one entry
    entries = compact.decode(doc["ccus_compact"]).history_index.ordinals()
    dates = [d for days in entries.values() for d in days]
    assert sorted(dates) == sorted({r.date.toordinal() for r in worker.snapshot.work_history})
    assert len(dates) == len(set(dates))
    assert len(doc["ccus_compact"]) < len(doc["ccus_json"]) / 4


def test_a_date_under_two_codes_or_roles_is_in_one_entry_naming_both() -> None:
    ccus = compact.from_parts(
        "detailed",
        date(2020, 1, 1),
        [("４００４０", "玉掛け技能講習", date(2010, 1, 1)), ("", "名前だけ", None)],
        [
            (date(2020, 1, 2), "foreman", "0601"),
            (date(2020, 1, 2), "worker", "06-02"),
            (date(2020, 1, 3), "leader", "06-01"),
            (date(2020, 1, 3), "worker", "06-01"),
            (date(2020, 1, 4), "班長", None),
            (date(2020, 1, 4), "職長", None),
            (date(2020, 1, 5), "worker", "06-01"),
        ],
    )
    entries = ccus.history_index.ordinals()
    ordinal = date(2020, 1, 1).toordinal()
    assert entries == {
        ((None, "F"),): [ordinal + 3],
        (("06-01", "F"), ("06-02", "N")): [ordinal + 1],
        (("06-01", "L"),): [ordinal + 2],
        (("06-01", "N"),): [ordinal + 4],
    }
    assert ccus.qualifications[0].code == "40040"
    assert ccus.qualifications[1].code is None
    assert ccus.occupation_codes == frozenset({None, "06-01", "06-02"})
    counts = ccus.history_index.count(date(2020, 1, 1), date(2020, 1, 31), frozenset({"06-02"}))
    assert (counts.days, counts.foreman, counts.leader, counts.unchecked) == (2, 1, 0, 1)
    assert counts.unfiltered == 4
    empty = compact.from_parts("simple", date(2020, 1, 1), [], [])
    assert empty.history_index.count(date(2020, 1, 1), date(2021, 1, 1), None).days == 0
    assert compact.decode(compact.encode(empty)) == empty
    # dates 179 years apart (a garbled record) are kept in 32-bit offsets
    far = compact.from_parts(
        "detailed",
        date(2020, 1, 1),
        [],
        [(date(1850, 1, 1), None, None), (date(2030, 1, 1), None, None)],
    )
    assert '"wide":true' in compact.encode(far)
    assert compact.decode(compact.encode(far)) == far
    assert far.history_index.count(date(1800, 1, 1), date(2031, 1, 1), None).days == 2


@pytest.mark.parametrize(
    "text",
    ['{"v":2,"type":"詳細型","registered_on":1,"q":[],"w":[]}', "{}", "[]", "not json", '{"v":1}'],
)
def test_anything_else_is_refused_with_one_error(text: str) -> None:
    with pytest.raises(compact.CompactFormatError):
        compact.decode(text)


def test_snapshots_stored_before_the_form_are_converted_on_read() -> None:
    worker = next(generate(1, seed="legacy", as_of=date(2026, 11, 21)))
    doc = stored(worker.snapshot)
    expected = compact.decode(doc["ccus_compact"])
    without = {k: v for k, v in doc.items() if k != "ccus_compact"}
    nested = {
        **{k: v for k, v in without.items() if k != "ccus_json"},
        "ccus": json.loads(doc["ccus_json"]),
    }
    later = {**doc, "ccus_compact": '{"v":9}'}  # a format this code does not read
    migrated = judging.snapshot_as_text(nested)  # the nested §5 part: rewritten by migration
    assert migrated is not None and "ccus" not in migrated
    for old in (without, migrated, later):
        assert judging.stored_compact(old) == expected
        assert judging.stored_compact_text(old) == doc["ccus_compact"]
    assert judging.stored_compact_text(doc) is doc["ccus_compact"]


# --------------------------------------------------------------------------- judging


def test_synthetic_workers_are_judged_alike_from_either_form() -> None:
    compared = 0
    for worker in generate(12, seed="compact-judging", as_of=date(2026, 11, 21)):
        doc = stored(worker.snapshot)
        compared += same_everywhere(judging.stored_record(doc), judging.stored_compact(doc))
    assert compared > 12 * len(JUDGEABLE) * 10


def test_every_demo_worker_is_judged_alike_from_either_form() -> None:
    snapshots = list(read_snapshots([str(demo_path())], now=datetime.now(UTC)))
    assert len(snapshots) == 8
    for snapshot in snapshots:
        doc = stored(snapshot)
        same_everywhere(judging.stored_record(doc), judging.stored_compact(doc))


ROLES = [None, "職長", "班長", "foreman", "leader", "worker"]
OCCUPATIONS = [None, "06-01", "0601", "09-01", "09-10", "34-01", "10", "99-99", ""]
ITEMS = sorted(MASTER.items.values(), key=lambda item: item.name)


def _days(start: date, end: date) -> st.SearchStrategy[date]:
    return st.integers(0, max(0, (end - start).days)).map(lambda n: start + timedelta(days=n))


@st.composite
def ccus_bodies(draw: st.DrawFn) -> dict[str, Any]:
    registered = draw(_days(date(2015, 1, 1), date(2030, 1, 1)))
    records: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 5))):
        first = draw(_days(registered - timedelta(days=60), registered + timedelta(days=2000)))
        role = draw(st.sampled_from(ROLES))
        occupation = draw(st.sampled_from(OCCUPATIONS))
        step = draw(st.integers(1, 3))
        for i in range(draw(st.integers(1, 700))):
            day = first + timedelta(days=i * step)
            records.append({"date": day.isoformat(), "role": role, "occupation": occupation})
    quals = []
    for _ in range(draw(st.integers(0, 8))):
        item = draw(st.sampled_from(ITEMS))
        acquired = draw(st.one_of(st.none(), _days(date(1985, 1, 1), date(2031, 1, 1))))
        quals.append(
            {
                "code": draw(st.sampled_from([None, "", *item.codes, "49999"])),
                "name": item.name,
                "acquired_on": acquired.isoformat() if acquired else None,
            }
        )
    return {
        "worker_id": "12345678901234",
        "registration_type": draw(st.sampled_from(["詳細型", "detailed", "簡略型", "simple"])),
        "registered_on": registered.isoformat(),
        "qualifications": quals,
        "work_history": records,
    }


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ccus_bodies(),
    st.sampled_from(JUDGEABLE),
    st.lists(_days(date(2020, 4, 1), date(2031, 12, 31)), min_size=1, max_size=3),
    st.integers(2, 4),
)
def test_generated_requests_are_judged_alike_from_either_form(
    body: dict[str, Any], trade: str, dates: list[date], level: int
) -> None:
    text = json.dumps(body, ensure_ascii=False)
    record = CcusRecord.model_validate_json(text)
    ccus = compact.decode(compact.encode(compact.from_ccus_json(text)))
    assert ccus == compact.from_record(record)
    for day in dates:
        for certification in CERTIFICATIONS:
            try:
                expected = evaluate(
                    EvaluationRequest(
                        trade=trade,
                        requested_level=level,
                        application_date=day,
                        ccus=record,
                        career_certification=certification,
                    ),
                    MASTER,
                )
            except (UnknownTrade, CriteriaNotAvailable):
                continue
            assert (
                evaluate_ccus(
                    ccus,
                    MASTER,
                    trade=trade,
                    requested_level=level,
                    application_date=day,
                    career_certification=certification,
                )
                == expected
            )
            levels = assess(
                ccus, MASTER, trade=trade, application_date=day, career_certification=certification
            )
            assert levels.eligible_level == expected.eligible_level
