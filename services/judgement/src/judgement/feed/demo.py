"""The curated demo workers (``demo_workers.json``): who they are and how the file is built.

Each worker is designed to reach a known level in a known trade (docs/ccus-feed.md lists
them). Their identities, registrations and qualifications are written out below by hand;
only the long work histories are drawn (deterministically, from the worker's own seed)
with :func:`judgement.feed.synthetic.work_history`. The file is the feed's JSON format; the
``_demo`` key of each worker (dropped by the reader) records the design: the trade, the
level the worker reaches, and the 経歴証明 an application must carry where one matters.

Regenerate the file after changing a design (a unit test fails while they differ)::

    uv run python -c "from judgement.feed.demo import write; write()"
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from judgement.feed.synthetic import work_history

HISTORY_UNTIL = date(2026, 11, 20)
"""Last day of the demo work histories (applications are dated after it)."""


@dataclass(frozen=True)
class DemoWorker:
    worker_id: str
    name: str
    name_kana: str
    birth_date: date
    registration_type: str
    registered_on: date
    occupations: tuple[tuple[str, str], ...]
    qualifications: tuple[tuple[str, str, str], ...]  # (code, name, acquired_on)
    trade: str
    level: int
    note: str
    days_per_year: float
    leader_since: date | None = None
    foreman_since: date | None = None
    career_certification: dict[str, Any] | None = None
    level_without_certification: int | None = None
    warnings: tuple[str, ...] = field(default=())


WORKERS: tuple[DemoWorker, ...] = (
    DemoWorker(
        worker_id="99000000000001",
        name="髙橋 健太",
        name_kana="タカハシ ケンタ",
        birth_date=date(1994, 7, 15),
        registration_type="detailed",
        registered_on=date(2021, 5, 10),
        occupations=(),
        qualifications=(
            ("40040", "玉掛け技能講習", "2014-03-20"),
            ("", "2級鉄筋施工技能士", "2019-02-08"),
            ("", "フルハーネス型墜落制止用器具特別教育", "2019-06-01"),
        ),
        trade="鉄筋",
        level=2,
        note="玉掛け技能講習 and CCUS days alone; no 1級鉄筋施工技能士 for level 3",
        days_per_year=175,
        leader_since=date(2025, 4, 1),
    ),
    DemoWorker(
        worker_id="99000000000002",
        name="𠮷野 翔太",
        name_kana="ヨシノ ショウタ",
        birth_date=date(1988, 2, 29),
        registration_type="detailed",
        registered_on=date(2020, 2, 3),
        occupations=(("09-01", "電気工"), ("09-10", "ソーラーシステム取付工")),
        qualifications=(
            ("", "第二種電気工事士免状取得者", "2008-09-01"),
            ("40039", "高所作業車運転技能講習", "2011-07-12"),
            ("31073", "第一種電気工事士試験合格者", "2013-10-05"),
            ("31018", "第一種電気工事士免状取得者", "2017-04-01"),
            ("60001", "職長・安全衛生責任者教育", "2018-05-20"),
        ),
        trade="電気工事",
        level=3,
        note=(
            "第一種電気工事士免状取得者, over 1,075 CCUS days and 215 職長/班長 days;"
            " no level-4 item"
        ),
        days_per_year=200,
        leader_since=date(2020, 9, 1),
        foreman_since=date(2023, 4, 1),
    ),
    DemoWorker(
        worker_id="99000000000003",
        name="髙﨑 誠",
        name_kana="タカサキ マコト",
        birth_date=date(1968, 11, 3),
        registration_type="detailed",
        registered_on=date(2019, 6, 3),
        occupations=(("06-01", "とび工"),),
        qualifications=(
            ("40040", "玉掛け技能講習", "1988-05-16"),
            ("40011", "足場の組立て等作業主任者技能講習", "1990-09-10"),
            ("10902", "2級とび技能士", "1992-03-01"),
            ("40012", "建築物等の鉄骨の組立て等作業主任者技能講習", "1993-02-15"),
            ("40031", "小型移動式クレーン運転技能講習", "1994-06-20"),
            ("60001", "職長・安全衛生責任者教育", "1996-04-25"),
            ("10901", "1級とび技能士", "1997-03-01"),
            ("91002", "優秀施工者国土交通大臣顕彰", "2022-11-10"),
            ("00016", "登録鳶・土工基幹技能者", "2023-09-15"),
        ),
        trade="とび",
        level=4,
        note=(
            "level 4 needs 2,580 days and 1,505 職長 days, more than CCUS can hold since"
            " 2019: the employer certifies the years before CCUS"
        ),
        days_per_year=240,
        foreman_since=date(2019, 6, 3),
        career_certification={
            "start": "1987-04-01",
            "end": "2019-06-03",
            "foreman": {"years": 10, "months": 0},
            "leader": {"years": 0, "months": 0},
        },
        level_without_certification=3,
    ),
    DemoWorker(
        worker_id="99000000000004",
        name="佐藤 大輔",
        name_kana="サトウ ダイスケ",
        birth_date=date(1985, 12, 1),
        registration_type="simple",
        registered_on=date(2022, 1, 17),
        occupations=(),
        qualifications=(),
        trade="鉄筋",
        level=1,
        note="簡略型: cannot be judged (「詳細型での技能者登録が必要です」)",
        days_per_year=180,
    ),
    DemoWorker(
        worker_id="99000000000005",
        name="山﨑 隆",
        name_kana="ヤマサキ タカシ",
        birth_date=date(1975, 4, 8),
        registration_type="detailed",
        registered_on=date(2019, 10, 1),
        occupations=(("34-01", "大工"), ("34-03", "造作大工")),
        qualifications=(
            ("", "丸のこ等取扱作業者安全衛生教育", "1995-06-01"),
            ("", "足場の組立て等作業従事者特別教育", "1996-08-01"),
            ("", "2級建築大工技能士", "1999-03-10"),
            ("40011", "足場の組立て等作業主任者技能講習", "2001-05-15"),
            ("40019", "木造建築物の組立て等作業主任者技能講習", "2003-10-01"),
        ),
        trade="建築大工",
        level=3,
        note="3 of the level-3 items, over 1,505 CCUS days and 108 班長 days; no level-4 item",
        days_per_year=228,
        leader_since=date(2019, 10, 1),
    ),
    DemoWorker(
        worker_id="99000000000006",
        name="濵田 由美",
        name_kana="ハマダ ユミ",
        birth_date=date(1990, 8, 19),
        registration_type="detailed",
        registered_on=date(2021, 9, 6),
        occupations=(),
        qualifications=(
            ("49999", "玉掛け技能講習", "2012-11-01"),
            ("40039", "高所作業車運転技能講習", "2014-05-20"),
        ),
        trade="硝子工事",
        level=2,
        note=(
            "level 2 through 高所作業車運転技能講習; 玉掛け技能講習 is registered under その他"
            " (49999) and does not count: the result warns (goes to review under"
            " review_when_warnings)"
        ),
        days_per_year=190,
        warnings=("misregistered_code",),
    ),
    DemoWorker(
        worker_id="99000000000007",
        name="中村 蓮",
        name_kana="ナカムラ レン",
        birth_date=date(2001, 3, 30),
        registration_type="detailed",
        registered_on=date(2024, 6, 10),
        occupations=(),
        qualifications=(
            ("", "有機溶剤作業主任者技能講習", "2022-09-15"),
            ("", "2級防水施工技能士", "2023-07-01"),
        ),
        trade="防水施工",
        level=2,
        note=(
            "CCUS days alone are short of 645 (level 1); the 経歴証明 adds 2022-09…2024-03"
            " (from the oldest qualification to the 2024-03 cap)"
        ),
        days_per_year=185,
        career_certification={"start": "2020-04-01", "end": "2024-06-10"},
        level_without_certification=1,
    ),
    DemoWorker(
        worker_id="99000000000008",
        name="𠮷田 茂",
        name_kana="ヨシダ シゲル",
        birth_date=date(1963, 1, 25),
        registration_type="detailed",
        registered_on=date(2020, 7, 1),
        occupations=(),
        qualifications=(
            ("", "2級配管技能士", "1990-10-01"),
            ("", "給水装置工事配管技能者", "2001-04-01"),
            ("60011", "職長・安全衛生責任者教育", "2005-06-10"),
        ),
        trade="配管",
        level=2,
        note="2級配管技能士; none of the level-3 items (1級配管技能士 …)",
        days_per_year=160,
        foreman_since=date(2020, 7, 1),
    ),
)


def build(workers: tuple[DemoWorker, ...] = WORKERS) -> list[dict[str, Any]]:
    """The demo file's content: one annotated snapshot per worker (no ``taken_at``)."""
    out = []
    for worker in workers:
        rng = random.Random(f"demo/{worker.worker_id}")
        history = work_history(
            rng,
            worker.registered_on,
            HISTORY_UNTIL,
            codes=[code for code, _ in worker.occupations[:1]],
            secondary_share=0.1 if len(worker.occupations) > 1 else 0.0,
            uncoded_share=0.0,
            foreman_since=worker.foreman_since,
            leader_since=worker.leader_since,
            days_per_year=worker.days_per_year,
        )
        if len(worker.occupations) > 1:  # the secondary 職種 of the demo trades counts
            history = _secondary(history, worker.occupations[1][0], rng)
        design: dict[str, Any] = {"trade": worker.trade, "level": worker.level}
        if worker.career_certification is not None:
            design["career_certification"] = worker.career_certification
            design["level_without_certification"] = worker.level_without_certification
        if worker.warnings:
            design["warnings"] = list(worker.warnings)
        design["note"] = worker.note
        out.append(
            {
                "_demo": design,
                "worker_id": worker.worker_id,
                "registration_type": worker.registration_type,
                "registered_on": worker.registered_on.isoformat(),
                "name": worker.name,
                "name_kana": worker.name_kana,
                "birth_date": worker.birth_date.isoformat(),
                "occupations": [{"code": c, "name": n} for c, n in worker.occupations],
                "qualifications": [
                    {"code": c, "name": n, "acquired_on": d} for c, n, d in worker.qualifications
                ],
                "work_history": [{**r, "date": r["date"].isoformat()} for r in history],
            }
        )
    return out


def _secondary(
    history: list[dict[str, Any]], code: str, rng: random.Random
) -> list[dict[str, Any]]:
    """Put some engagements (whole sites) under the secondary 職種."""
    sites = sorted({r["site_id"] for r in history})
    chosen = {s for s in sites if rng.random() < 0.1}
    return [{**r, "occupation_code": code} if r["site_id"] in chosen else r for r in history]


def render(workers: list[dict[str, Any]]) -> str:
    """The file text: one worker field, qualification or work record per line."""

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    blocks = []
    for worker in workers:
        lines = []
        for key, value in worker.items():
            if key in ("qualifications", "work_history") and value:
                items = ",\n".join(f"    {dump(v)}" for v in value)
                lines.append(f'  "{key}": [\n{items}\n  ]')
            else:
                lines.append(f"  {dump(key)}: {dump(value)}")
        blocks.append("{\n" + ",\n".join(lines) + "\n}")
    return "[\n" + ",\n".join(blocks) + "\n]\n"


def path() -> Path:
    return Path(__file__).with_name("demo_workers.json")


def write() -> Path:
    """(Re)write ``demo_workers.json`` beside this module."""
    target = path()
    target.write_text(render(build()), encoding="utf-8")
    return target
