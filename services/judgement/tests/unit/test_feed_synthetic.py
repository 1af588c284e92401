"""The synthetic CCUS worker generator: pure, deterministic, and roughly realistic."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from datetime import date, timedelta

import pytest

from judgement.core.master import Master
from judgement.feed.profiles import FULL_HARNESS, TRADE_NAMES, TRADES
from judgement.feed.synthetic import (
    REGISTRATION_FROM,
    REGISTRATION_TO,
    Generated,
    generate,
    make_worker,
    worker_id,
)
from shared_kernel.events.catalogue import CcusWorkerSnapshot

AS_OF = date(2026, 11, 29)
KATAKANA = re.compile(r"[\u30A0-\u30FF]+ [\u30A0-\u30FF]+")


@pytest.fixture(scope="module")
def sample() -> list[Generated]:
    return list(generate(800, seed="unit", as_of=AS_OF))


def test_same_seed_same_workers_other_seed_other_workers() -> None:
    first = [g.snapshot.model_dump_json() for g in generate(30, seed=42, as_of=AS_OF)]
    again = [g.snapshot.model_dump_json() for g in generate(30, seed=42, as_of=AS_OF)]
    other = [g.snapshot.model_dump_json() for g in generate(30, seed=43, as_of=AS_OF)]
    assert first == again
    assert not set(first) & set(other)


def test_seed_as_int_or_text_is_the_same_seed() -> None:
    as_int = next(iter(generate(1, seed=7, as_of=AS_OF))).snapshot
    as_text = next(iter(generate(1, seed="7", as_of=AS_OF))).snapshot
    assert as_int == as_text


def test_a_worker_depends_only_on_seed_index_and_as_of() -> None:
    whole = list(generate(12, seed=5, as_of=AS_OF))
    tail = list(generate(4, seed=5, as_of=AS_OF, start=8))
    assert [g.snapshot for g in whole[8:]] == [g.snapshot for g in tail]
    assert make_worker(5, 3, AS_OF).snapshot == whole[3].snapshot
    assert worker_id(5, 3) == whole[3].snapshot.worker_id


def test_generation_is_lazy() -> None:
    workers = generate(10**9, seed=1, as_of=AS_OF)  # a billion: only ever drawn one by one
    assert next(iter(workers)).index == 0


def test_as_of_before_ccus_is_refused() -> None:
    with pytest.raises(ValueError, match="2019-05-01"):
        list(generate(1, seed=1, as_of=date(2019, 4, 30)))


def test_snapshots_are_valid_events(sample: list[Generated]) -> None:
    for generated in sample[:100]:
        text = generated.snapshot.model_dump_json()
        assert CcusWorkerSnapshot.model_validate_json(text, strict=True) == generated.snapshot
        assert len(text) < 1_000_000
    assert all(g.snapshot.taken_at.isoformat() == "2026-11-29T00:00:00+09:00" for g in sample)


def test_worker_ids_are_14_digits_and_unique(sample: list[Generated]) -> None:
    ids = [g.snapshot.worker_id for g in sample]
    assert all(re.fullmatch(r"[1-9][0-9]{13}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert len({worker_id("x", i) for i in range(20_000)}) == 20_000


def test_names_are_japanese_with_some_rare_kanji(sample: list[Generated]) -> None:
    names = [g.snapshot.name for g in sample]
    assert all(" " in n for n in names)
    assert all(KATAKANA.fullmatch(g.snapshot.name_kana) for g in sample)
    rare = [n for n in names if any(c in n for c in "髙﨑𠮷濵邊邉齋德")]
    assert 0.01 < len(rare) / len(names) < 0.1
    assert any("\U00020bb7" in n for n in names)  # 𠮷, outside the BMP
    assert any("\ufa11" in n for n in names)  # 﨑, a compatibility-block ideograph
    assert all(unicodedata.normalize("NFKC", n) == n for n in names)  # stored as written


def test_birth_and_registration_dates(sample: list[Generated]) -> None:
    for g in sample:
        s = g.snapshot
        assert date(1960, 1, 1) <= s.birth_date <= date(2002, 12, 31)
        assert REGISTRATION_FROM <= s.registered_on <= REGISTRATION_TO
        assert s.registered_on >= s.birth_date + timedelta(days=round(17.9 * 365.25))
    years = Counter(g.snapshot.registered_on.year for g in sample)
    assert set(years) == set(range(2019, 2026))


def test_registration_type_mostly_detailed(sample: list[Generated]) -> None:
    types = Counter(g.snapshot.registration_type for g in sample)
    assert 0.02 < types["simple"] / len(sample) < 0.09
    assert all(
        not g.snapshot.qualifications for g in sample if g.snapshot.registration_type == "simple"
    )


def test_trades_are_spread_by_weight(sample: list[Generated]) -> None:
    trades = Counter(g.trade for g in sample)
    assert set(trades) == set(TRADE_NAMES) == {
        "鉄筋", "電気工事", "建築大工", "配管", "硝子工事", "防水施工", "とび",
    }  # fmt: skip
    total = sum(p.weight for p in TRADES)
    for profile in TRADES:
        expected = profile.weight / total
        assert abs(trades[profile.trade] / len(sample) - expected) < 0.04, profile.trade


def test_occupations_use_the_known_ccus_codes(sample: list[Generated], master: Master) -> None:
    known = {"とび": "06-01", "電気工事": "09-01", "建築大工": "34-01"}
    for g in sample:
        codes = [o.code for o in g.snapshot.occupations]
        if g.trade in known:
            assert codes[0] == known[g.trade]
            allowed = master.trade(g.trade).occupation_codes(AS_OF)
            assert allowed is not None and codes[0] in allowed
        else:
            assert codes == []
            assert all(r.occupation_code is None for r in g.snapshot.work_history)
    tobi = [g for g in sample if g.trade == "とび"]
    off_trade = [r for g in tobi for r in g.snapshot.work_history if r.occupation_code == "06-02"]
    assert off_trade, "some とび work is under 06-02 足場とび工, which the filter drops"


def test_qualification_names_and_codes_follow_the_criteria_master(master: Master) -> None:
    for profile in TRADES:
        for step in (*profile.steps, *profile.skill_course_pool):
            item = master.items.get(step.name)
            assert item is not None, f"{profile.trade}: {step.name} is not a master item name"
            codes = set(step.codes or (step.code,))
            if item.codes:
                assert codes <= set(item.codes), step.name
            else:
                assert codes == {""}, f"{step.name}: no CCUS code is known, none is invented"
        for step in profile.noise:
            item = master.items.get(step.name)
            if item is not None and item.codes:
                assert step.code in item.codes, step.name


def test_qualifications_per_trade_with_realistic_dates(sample: list[Generated]) -> None:
    detailed = [g for g in sample if g.snapshot.registration_type == "detailed"]
    by_trade = {
        p.trade: {s.name for s in (*p.steps, *p.skill_course_pool, *p.noise)} for p in TRADES
    }
    before_registration = 0
    for g in detailed:
        quals = g.snapshot.qualifications
        assert {q.name for q in quals} <= by_trade[g.trade]
        dates = [q.acquired_on for q in quals if q.acquired_on is not None]
        assert len(dates) == len(quals)
        assert all(d < AS_OF for d in dates)
        assert all(d >= g.career.start for d in dates)
        harness = [q.acquired_on for q in quals if q.name == FULL_HARNESS.name]
        assert all(d is not None and d >= date(2019, 2, 1) for d in harness)
        if dates and min(dates) <= g.snapshot.registered_on - timedelta(days=365):
            before_registration += 1
    with_quals = [g for g in detailed if g.snapshot.qualifications]
    assert len(with_quals) / len(detailed) > 0.9
    assert before_registration / len(with_quals) > 0.5, "oldest often years before CCUS"
    tamakake = [
        q for g in sample if g.trade == "とび" for q in g.snapshot.qualifications
        if q.name == "玉掛け技能講習"
    ]  # fmt: skip
    assert tamakake and Counter(q.code for q in tamakake).most_common(1)[0][0] == "40040"


def test_a_few_skill_courses_are_miscoded_as_49999(sample: list[Generated]) -> None:
    miscoded = [g for g in sample if any(q.code == "49999" for q in g.snapshot.qualifications)]
    assert 0.005 < len(miscoded) / len(sample) < 0.06
    for g in miscoded:
        (q,) = [q for q in g.snapshot.qualifications if q.code == "49999"]
        assert q.name.endswith("技能講習")  # a proper item's name under その他技能講習


def test_work_history_50_to_250_distinct_days_a_year(sample: list[Generated]) -> None:
    last_day = AS_OF - timedelta(days=1)
    per_year: list[int] = []
    for g in sample[:300]:
        s = g.snapshot
        days = sorted({r.date for r in s.work_history})
        assert days, "every worker has worked since registering"
        assert days[0] >= s.registered_on and days[-1] <= last_day
        assert [r.date for r in s.work_history] == sorted(r.date for r in s.work_history)
        start = s.registered_on
        while start + timedelta(days=364) <= last_day:
            end = start + timedelta(days=364)
            count = sum(1 for d in days if start <= d <= end)
            assert 50 <= count <= 250, (s.worker_id, start, count)
            per_year.append(count)
            start = end + timedelta(days=1)
    assert 130 < statistics.mean(per_year) < 210
    same_day = sum(
        len(g.snapshot.work_history) - len({r.date for r in g.snapshot.work_history})
        for g in sample[:300]
    )
    assert same_day > 0, "some days have records at two sites"


def test_roles_mostly_worker_some_foreman_years(sample: list[Generated]) -> None:
    roles = Counter(r.role for g in sample for r in g.snapshot.work_history)
    total = sum(roles.values())
    assert roles["worker"] / total > 0.6
    assert 0.04 < roles["foreman"] / total < 0.3
    assert 0.04 < roles["leader"] / total < 0.25
    foremen = [g for g in sample if any(r.role == "foreman" for r in g.snapshot.work_history)]
    assert 0.05 < len(foremen) / len(sample) < 0.4
    sites = [r.site_id for g in sample[:50] for r in g.snapshot.work_history]
    assert all(re.fullmatch(r"S[0-9]{8}", s) for s in sites)


def test_career_is_what_an_employer_could_certify(sample: list[Generated]) -> None:
    for g in sample:
        c = g.career
        assert c.start <= c.end == g.snapshot.registered_on
        assert c.start > g.snapshot.birth_date + timedelta(days=round(15.9 * 365.25))
        period = (c.end.year - c.start.year) * 12 + c.end.month - c.start.month + 1
        assert 0 <= c.foreman_months + c.leader_months <= period
    assert any(g.career.foreman_months for g in sample)


def test_a_trade_can_be_imposed_without_changing_the_workers_of_that_trade() -> None:
    as_of = date(2026, 11, 1)
    imposed = list(generate(40, seed="one-trade", as_of=as_of, trade="とび"))
    assert {w.trade for w in imposed} == {"とび"}
    assert all({o.code for o in w.snapshot.occupations} <= {"06-01", "06-02"} for w in imposed)
    free = list(generate(40, seed="one-trade", as_of=as_of))
    same = [(a, b) for a, b in zip(free, imposed, strict=True) if a.trade == "とび"]
    assert same and all(a.snapshot == b.snapshot for a, b in same)
