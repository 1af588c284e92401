"""Synthetic CCUS workers: a pure, deterministic generator of ``CcusWorkerSnapshot`` events.

``generate(count, seed=…, as_of=…)`` yields one :class:`Generated` per worker, lazily (a
100,000-worker benchmark never holds more than one worker in memory). Worker ``i`` of a
seed depends only on ``(seed, i, as_of)``: it is drawn from its own
``random.Random(f"{seed}/{i}")``, so ``generate(10, start=5)`` yields workers 5…14 exactly
as a full run does, and worker ids are a permutation of the index (unique within a seed).

What a worker looks like (shared/domain/research.md §5, judgement-rules.md §4):

* 技能者ID of 14 digits; a Japanese name in kanji and katakana (about 4% of family names
  in rare kanji such as 髙橋, 山﨑, 𠮷野); born 1960–2002 (older workers more common);
* 詳細型 (``detailed``) registration, about 5% 簡略型 (``simple``, which holds no
  qualifications); registered between 2019-04 and 2025 (not before the age of 18);
* a trade among 鉄筋, 電気工事, 建築大工, 配管, 硝子工事, 防水施工 and とび (weighted), its CCUS
  職種 where the rules know the code, and qualifications drawn from the trade's ladder
  (:mod:`judgement.feed.profiles`) with acquisition dates counted from the worker's career
  start (the oldest is often years before the CCUS registration); about 3% have one
  技能講習 registered under その他技能講習 (49999) with its proper name;
* a work history from the registration date to the day before ``as_of``: 50–250 distinct
  work days a year (Monday–Saturday, the odd Sunday), in site engagements of 5–60 days on
  site ids ``S`` + 8 digits, a second site on about 2% of days, the role per engagement
  ``worker`` mostly, ``leader`` / ``foreman`` once the worker has the experience;
* the pre-CCUS career an employer would certify (:class:`Career`), for building
  applications: career start, registration date and 職長 / 班長 months before it.

The snapshot is taken at 00:00 Asia/Tokyo on ``as_of``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from judgement.feed.profiles import (
    FAMILY_NAMES,
    FEMALE,
    FEMALE_SHARE,
    FULL_HARNESS,
    FULL_HARNESS_FROM,
    MALE_OLDER,
    MALE_YOUNGER,
    OTHER_SKILL_COURSE_CODE,
    RARE_FAMILY_NAMES,
    RARE_NAME_SHARE,
    TRADES,
    Step,
    TradeProfile,
)
from shared_kernel.events.catalogue import CcusWorkerSnapshot

TOKYO = ZoneInfo("Asia/Tokyo")
YEAR = 365.2425

EARLIEST_AS_OF = date(2019, 5, 1)
"""CCUS opened in April 2019: an earlier reference date leaves nothing to generate."""

SIMPLE_SHARE = 0.05
MISCODED_SHARE = 0.03
UNCODED_WORKER_SHARE = 0.03
SECOND_SITE_SHARE = 0.02
SUNDAY_SHARE = 0.05
SITE_POOL = 50_000

BIRTH_FROM = date(1960, 1, 1)
BIRTH_TO = date(2002, 12, 31)
# (first year, last year, weight): the workforce is older than the population.
BIRTH_DECADES = ((1960, 1969, 27), (1970, 1979, 30), (1980, 1989, 21), (1990, 2002, 22))
# CCUS registrations by year (research.md §7: 116k by 2019-09, 632k by 2021-07, 1.24M by
# 2023-07, 1.66M by 2025-05).
REGISTRATION_YEARS = {2019: 8, 2020: 17, 2021: 20, 2022: 18, 2023: 15, 2024: 12, 2025: 10}
REGISTRATION_FROM = date(2019, 4, 1)
REGISTRATION_TO = date(2025, 12, 31)

_ID_SPACE = 9 * 10**13  # ids 10000000000000 … 99999999999999 (no leading zero)

_TRADE_WEIGHTS = [p.weight for p in TRADES]
_PROFILES = {p.trade: p for p in TRADES}


@dataclass(frozen=True)
class Career:
    """What the worker's employer could certify for the time before CCUS (経歴証明)."""

    start: date
    end: date
    foreman_months: int
    leader_months: int


@dataclass(frozen=True)
class Generated:
    """One synthetic worker: the snapshot, the trade it was drawn for and its career."""

    index: int
    trade: str
    snapshot: CcusWorkerSnapshot
    career: Career


def default_as_of() -> date:
    """Today in Tokyo."""
    return datetime.now(TOKYO).date()


def taken_at(as_of: date) -> datetime:
    return datetime.combine(as_of, time(0, 0), TOKYO)


def check_as_of(as_of: date) -> None:
    if as_of < EARLIEST_AS_OF:
        raise ValueError(f"--as-of must be {EARLIEST_AS_OF} or later (CCUS opened in 2019-04)")


def generate(
    count: int, *, seed: int | str, as_of: date, start: int = 0, trade: str | None = None
) -> Iterator[Generated]:
    """Workers ``start`` … ``start + count - 1`` of ``seed``, one at a time (``trade``: all
    of that trade, see :func:`make_worker`)."""
    if count < 0 or start < 0:
        raise ValueError("count and start must not be negative")
    check_as_of(as_of)
    ids = _IdPermutation(seed)
    for index in range(start, start + count):
        yield make_worker(seed, index, as_of, worker_id=ids(index), trade=trade)


def worker_id(seed: int | str, index: int) -> str:
    """The 14-digit 技能者ID of worker ``index`` of ``seed``."""
    return _IdPermutation(seed)(index)


class _IdPermutation:
    """index → 14-digit id, a bijection on the id space: ids never repeat within a seed."""

    def __init__(self, seed: int | str) -> None:
        rng = random.Random(f"{seed}/ids")
        a = rng.randrange(10**12, _ID_SPACE)
        while a % 2 == 0 or a % 3 == 0 or a % 5 == 0:  # coprime with 2^13·3^2·5^13
            a += 1
        self.a = a
        self.b = rng.randrange(_ID_SPACE)

    def __call__(self, index: int) -> str:
        return str(10**13 + (self.a * index + self.b) % _ID_SPACE)


def make_worker(
    seed: int | str,
    index: int,
    as_of: date,
    *,
    worker_id: str | None = None,
    trade: str | None = None,
) -> Generated:
    """Worker ``index`` of ``seed`` as seen on ``as_of`` (pure: same inputs, same worker).

    ``trade`` makes every worker one of that trade (e.g. a benchmark of one 分野); the rest
    is drawn as for any other worker (the trade draw is still made, so the same seed and
    index give the same worker whenever the weighted draw picked that trade anyway).
    """
    check_as_of(as_of)
    rng = random.Random(f"{seed}/{index}")
    profile: TradeProfile = rng.choices(TRADES, _TRADE_WEIGHTS)[0]
    if trade is not None:
        profile = _PROFILES[trade]
    last_day = as_of - timedelta(days=1)

    birth = _birth_date(rng)
    female = rng.random() < FEMALE_SHARE
    family = rng.choice(RARE_FAMILY_NAMES if rng.random() < RARE_NAME_SHARE else FAMILY_NAMES)
    given = rng.choice(
        FEMALE
        if female
        else (MALE_YOUNGER if birth.year >= 1982 or rng.random() < 0.1 else MALE_OLDER)
    )
    simple = rng.random() < SIMPLE_SHARE
    registered = _registration_date(rng, birth, last_day)
    career_start = min(_add_years(birth, rng.triangular(16, 26, 18.5)), registered)

    qualifications = [] if simple else _qualifications(rng, profile, career_start, last_day)

    occupations = list(profile.occupations[:1])
    secondary_share = 0.0
    if len(profile.occupations) > 1 and rng.random() < 0.5:
        occupations.append(profile.occupations[1])
        secondary_share = min(0.9, profile.secondary_share * 2)
    uncoded_share = 0.1 if occupations and rng.random() < UNCODED_WORKER_SHARE else 0.0

    experience = (as_of - career_start).days / YEAR
    pick = rng.random()
    foreman_track = pick < (0.03 if experience < 8 else 0.15 if experience < 15 else 0.25)
    leader_track = foreman_track or pick < (0.25 if experience < 8 else 0.5)
    foreman_since = _add_years(career_start, rng.uniform(8, 16)) if foreman_track else None
    leader_since = _add_years(career_start, rng.uniform(3, 8)) if leader_track else None

    history = work_history(
        rng,
        registered,
        last_day,
        codes=[o.code for o in occupations],
        secondary_share=secondary_share,
        uncoded_share=uncoded_share,
        foreman_since=foreman_since,
        leader_since=leader_since,
    )
    # One validation of plain data (pydantic-core) is faster than constructing the
    # ~1,000 record models one by one, and proves the generator's output is a valid event.
    snapshot = CcusWorkerSnapshot.model_validate(
        {
            "worker_id": worker_id or _IdPermutation(seed)(index),
            "taken_at": taken_at(as_of),
            "registration_type": "simple" if simple else "detailed",
            "registered_on": registered,
            "name": f"{family[0]} {given[0]}",
            "name_kana": f"{family[1]} {given[1]}",
            "birth_date": birth,
            "occupations": [{"code": o.code, "name": o.name} for o in occupations],
            "qualifications": qualifications,
            "work_history": history,
        }
    )
    career = _career(rng, career_start, registered, foreman_since, leader_since)
    return Generated(index, profile.trade, snapshot, career)


# --------------------------------------------------------------------------- pieces


def _add_years(day: date, years: float) -> date:
    return date.fromordinal(day.toordinal() + int(years * YEAR))


def _uniform_date(rng: random.Random, low: date, high: date) -> date:
    return date.fromordinal(rng.randint(low.toordinal(), max(low, high).toordinal()))


def _birth_date(rng: random.Random) -> date:
    first, last, _ = rng.choices(BIRTH_DECADES, [w for _, _, w in BIRTH_DECADES])[0]
    return _uniform_date(rng, max(date(first, 1, 1), BIRTH_FROM), min(date(last, 12, 31), BIRTH_TO))


def _registration_date(rng: random.Random, birth: date, last_day: date) -> date:
    adult = _add_years(birth, 18)
    low = max(REGISTRATION_FROM, adult)
    high = min(REGISTRATION_TO, last_day)
    if low > high:  # a very early --as-of: registered on the last possible day
        return high
    years = [y for y in REGISTRATION_YEARS if low.year <= y <= high.year]
    year = rng.choices(years, [REGISTRATION_YEARS[y] for y in years])[0]
    return _uniform_date(rng, max(low, date(year, 1, 1)), min(high, date(year, 12, 31)))


def _qualifications(
    rng: random.Random, profile: TradeProfile, career_start: date, last_day: date
) -> list[dict[str, Any]]:
    held: dict[str, date] = {}
    drawn: list[tuple[date, str, str]] = []

    def draw(step: Step) -> None:
        if step.after is not None and step.after not in held:
            return
        if rng.random() >= step.probability:
            return
        base = held[step.after] if step.after is not None else career_start
        acquired = _add_years(base, rng.uniform(*step.years))
        if step is FULL_HARNESS:
            acquired = max(acquired, date(*FULL_HARNESS_FROM))
        if acquired > last_day or step.name in held:
            return
        held[step.name] = acquired
        code = rng.choice(step.codes) if step.codes else step.code
        drawn.append((acquired, code, step.name))

    for step in profile.steps:
        draw(step)
    for step in profile.skill_course_pool:
        draw(step)
    for step in profile.noise:
        draw(step)

    if drawn and rng.random() < MISCODED_SHARE:
        courses = [i for i, (_, code, _) in enumerate(drawn) if code.startswith("4")]
        if courses:
            i = rng.choice(courses)
            acquired, _, name = drawn[i]
            drawn[i] = (acquired, OTHER_SKILL_COURSE_CODE, name)

    drawn.sort()
    return [{"code": code, "name": name, "acquired_on": day} for day, code, name in drawn]


def work_history(
    rng: random.Random,
    registered: date,
    last_day: date,
    *,
    codes: list[str],
    secondary_share: float,
    uncoded_share: float,
    foreman_since: date | None,
    leader_since: date | None,
    days_per_year: float | None = None,
) -> list[dict[str, Any]]:
    """Work records from ``registered`` to ``last_day`` (dicts in the event's field names).

    Each year (from the registration date) gets ``days_per_year`` ± 20 distinct days
    (drawn when not given), clamped to 50–250 and pro-rated for the last, partial year;
    records come in site engagements of 5–60 days with one role and 職種 each.
    """
    first = registered.toordinal()
    last = last_day.toordinal()
    if last < first:
        return []
    base = rng.triangular(50, 250, 200) if days_per_year is None else days_per_year
    uniform = rng.random
    days: list[int] = []
    window = first
    while window <= last:
        end = min(window + 364, last)
        candidates = [
            d
            for d in range(window, end + 1)
            if d % 7 != 0 or uniform() < SUNDAY_SHARE  # ordinal % 7 == 0: Sunday
        ]
        wanted = min(250, max(50, round(base + rng.gauss(0, 20))))
        need = min(round(wanted * (end - window + 1) / 365), len(candidates))
        # selection sampling (Knuth's algorithm S): exactly ``need`` days, already in order
        remaining = len(candidates)
        for d in candidates:
            if uniform() * remaining < need:
                days.append(d)
                need -= 1
            remaining -= 1
        window = end + 1

    foreman_from = foreman_since.toordinal() if foreman_since else None
    leader_from = leader_since.toordinal() if leader_since else None
    primary = codes[0] if codes else None
    secondary = codes[1] if len(codes) > 1 else None
    records: list[dict[str, Any]] = []
    left = 0
    site = role = ""
    code: str | None = None
    for ordinal in days:
        if left == 0:
            left = rng.randint(5, 60)
            site = f"S{rng.randrange(SITE_POOL):08d}"
            role = _role(rng, ordinal, foreman_from, leader_from)
            code = primary
            if secondary is not None and rng.random() < secondary_share:
                code = secondary
            elif uncoded_share and rng.random() < uncoded_share:
                code = None
        left -= 1
        day = date.fromordinal(ordinal)
        records.append({"date": day, "site_id": site, "role": role, "occupation_code": code})
        if rng.random() < SECOND_SITE_SHARE:
            other = f"S{rng.randrange(SITE_POOL):08d}"
            records.append(
                {"date": day, "site_id": other, "role": "worker", "occupation_code": code}
            )
    return records


def _role(rng: random.Random, ordinal: int, foreman: int | None, leader: int | None) -> str:
    pick = rng.random()
    if foreman is not None and ordinal >= foreman:
        return "foreman" if pick < 0.6 else "leader" if pick < 0.75 else "worker"
    if leader is not None and ordinal >= leader:
        return "leader" if pick < 0.35 else "worker"
    return "worker"


def _months(start: date, end: date) -> int:
    """Calendar months from ``start``'s month to ``end``'s month, both included."""
    return max(0, (end.year - start.year) * 12 + end.month - start.month + 1)


def _career(
    rng: random.Random,
    start: date,
    registered: date,
    foreman_since: date | None,
    leader_since: date | None,
) -> Career:
    period = _months(start, registered)
    foreman = 0
    if foreman_since is not None and foreman_since < registered:
        foreman = int(_months(foreman_since, registered) * rng.uniform(0.6, 0.9))
    leader = 0
    if leader_since is not None and leader_since < registered:
        until = min(foreman_since or registered, registered)
        leader = int(_months(leader_since, until) * rng.uniform(0.3, 0.6))
    leader = max(0, min(leader, period - foreman))
    return Career(start, registered, min(foreman, period), leader)


# --------------------------------------------------------------------------- output


def annotated(generated: Generated) -> dict[str, Any]:
    """The snapshot in the feed's file format, with the generator's notes as ``_`` keys."""
    return {
        "_trade": generated.trade,
        "_career": {
            "start": generated.career.start.isoformat(),
            "end": generated.career.end.isoformat(),
            "foreman_months": generated.career.foreman_months,
            "leader_months": generated.career.leader_months,
        },
        **generated.snapshot.model_dump(mode="json"),
    }
