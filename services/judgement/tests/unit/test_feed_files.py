"""Reading snapshots from the feed's JSON, JSON-lines and CSV formats (in process)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from judgement.feed.files import FeedInputError, read_snapshots
from judgement.feed.synthetic import annotated, generate

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def snapshot(worker_id: str = "12345678901234", **fields: Any) -> dict[str, Any]:
    return {
        "worker_id": worker_id,
        "registration_type": "detailed",
        "registered_on": "2020-06-01",
        "name": "髙﨑 一郎",
        "name_kana": "タカサキ イチロウ",
        "birth_date": "1985-05-05",
        "occupations": [{"code": "06-01", "name": "とび工"}],
        "qualifications": [
            {"code": "40040", "name": "玉掛け技能講習", "acquired_on": "2012-05-10"}
        ],
        "work_history": [
            {
                "date": "2021-04-05",
                "site_id": "S0001",
                "role": "foreman",
                "occupation_code": "06-01",
            }
        ],
        **fields,
    }


def write(path: Path, content: Any) -> str:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return str(path)


def read(*paths: str) -> list[Any]:
    return list(read_snapshots(paths, now=NOW))


def test_one_object_without_taken_at_gets_the_run_time(tmp_path: Path) -> None:
    (s,) = read(write(tmp_path / "one.json", snapshot()))
    assert s.worker_id == "12345678901234"
    assert s.taken_at == NOW
    assert s.name == "髙﨑 一郎"
    assert s.work_history[0].role == "foreman"


def test_array_keeps_order_and_given_taken_at(tmp_path: Path) -> None:
    items = [
        snapshot("10000000000001", taken_at="2026-11-01T09:00:00+09:00"),
        snapshot("10000000000002"),
    ]
    first, second = read(write(tmp_path / "many.json", items))
    assert first.worker_id == "10000000000001"
    assert first.taken_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert second.taken_at == NOW


def test_json_lines_in_jsonl_or_json_files(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps(snapshot(f"1000000000000{n}")) for n in range(3)) + "\n\n"
    for name in ("feed.jsonl", "feed.ndjson", "feed.json"):
        got = read(write(tmp_path / name, lines))
        assert [s.worker_id for s in got] == [f"1000000000000{n}" for n in range(3)]


def test_notes_starting_with_underscore_are_dropped(tmp_path: Path) -> None:
    (s,) = read(write(tmp_path / "n.json", {"_trade": "とび", "_why": [1, 2], **snapshot()}))
    assert s.worker_id == "12345678901234"


def test_synthetic_out_lines_read_back(tmp_path: Path) -> None:
    generated = list(generate(3, seed=9, as_of=date(2026, 11, 29)))
    text = "".join(json.dumps(annotated(g), ensure_ascii=False) + "\n" for g in generated)
    got = read(write(tmp_path / "synthetic.jsonl", text))
    assert got == [g.snapshot for g in generated]


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(snapshot()).encode())
    assert len(read(str(path))) == 1


WORKERS_CSV = (
    "worker_id,name,name_kana,birth_date,registration_type,registered_on,occupations\n"
    "12345678901234,𠮷野 翔太,ヨシノ ショウタ,1988-02-29,詳細型,2020-02-03,"
    "09-01:電気工;09-10:ソーラーシステム取付工\n"
    "12345678901235,佐藤 大輔,サトウ ダイスケ,1985-12-01,simple,2022-01-17,\n"
)
QUALS_CSV = """worker_id,code,name,acquired_on
12345678901234,31018,第一種電気工事士免状取得者,2017-04-01
12345678901234,,第二種電気工事士免状取得者,2008-09-01
"""
WORK_CSV = """worker_id,date,site_id,role,occupation_code
12345678901234,2021-04-05,S0001,職長,09-01
12345678901234,2021-04-06,S0001,,
12345678901235,2022-02-01,S0002,leader,
"""


def test_csv_set_assembles_workers(tmp_path: Path) -> None:
    paths = [
        write(tmp_path / "work_history.csv", WORK_CSV),  # any order
        write(tmp_path / "workers.csv", WORKERS_CSV),
        write(tmp_path / "qualifications.csv", QUALS_CSV),
    ]
    yoshino, sato = read(*paths)
    assert yoshino.name == "𠮷野 翔太" and yoshino.birth_date == date(1988, 2, 29)
    assert yoshino.registration_type == "detailed"
    assert [o.code for o in yoshino.occupations] == ["09-01", "09-10"]
    assert [(q.code, q.acquired_on) for q in yoshino.qualifications] == [
        ("31018", date(2017, 4, 1)),
        ("", date(2008, 9, 1)),
    ]
    assert [(r.role, r.occupation_code) for r in yoshino.work_history] == [
        ("foreman", "09-01"),
        ("worker", None),
    ]
    assert sato.registration_type == "simple" and sato.occupations == []
    assert sato.work_history[0].role == "leader"
    assert sato.taken_at == NOW


def test_json_and_csv_together(tmp_path: Path) -> None:
    got = read(
        write(tmp_path / "workers.csv", WORKERS_CSV),
        write(tmp_path / "one.json", snapshot("99999999999999")),
    )
    assert [s.worker_id for s in got] == ["99999999999999", "12345678901234", "12345678901235"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.json", '{"worker_id": ', "bad.json: line 1 column 15: bad JSON"),
        ("empty.json", "  \n", "empty.json: empty file"),
        ("arr.json", "[1]", "arr.json: line 1 (item 0): expected a snapshot object"),
        ("arr2.json", "[{}\n{}]", "arr2.json: line 2 column 1: bad JSON: Expecting ',' delimiter"),
        (
            "pretty.json",
            json.dumps(snapshot(), indent=1) + json.dumps(snapshot()),
            "bad JSON: Extra data",
        ),
    ],
)
def test_json_problems_name_file_and_line(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    with pytest.raises(FeedInputError) as caught:
        read(write(tmp_path / name, content))
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_array_item_problem_names_its_line(tmp_path: Path) -> None:
    items = [snapshot(), snapshot(birth_date="1985-02-30")]
    text = "[\n" + ",\n".join(json.dumps(i) for i in items) + "\n]"
    with pytest.raises(FeedInputError) as caught:
        read(write(tmp_path / "a.json", text))
    assert str(caught.value).startswith(f"{tmp_path / 'a.json'}: line 3 (item 1): birth_date:")
    assert "day value is outside expected range" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"worker_id": "1234567890123"}, 'worker_id: must be 14 digits (got "1234567890123")'),
        ({"worker_id": "１２３４５６７８９０１２３４"}, "worker_id: must be 14 digits"),
        ({"worker_id": 12345678901234}, "worker_id: Input should be a valid string"),
        ({"registered_on": "2020-6-1"}, "registered_on: Input should be a valid date"),
        (
            {"registered_on": "2019-01-01", "birth_date": "2019-05-05"},
            "registered_on: 2019-01-01 is before birth_date 2019-05-05",
        ),
        ({"taken_at": "2026-11-01T09:00:00"}, "taken_at: needs a UTC offset"),
        ({"registration_type": "詳細型"}, "registration_type: Input should be 'detailed'"),
        ({"colour": "blue"}, "colour: unknown field"),
        (
            {"qualifications": [{"code": 40040, "name": "玉掛け技能講習"}]},
            "qualifications[0].code: Input should be a valid string",
        ),
        (
            {"work_history": [{"date": "2021-04-05", "site_id": "S1", "role": "boss"}]},
            "work_history[0].role: Input should be 'foreman', 'leader' or 'worker'",
        ),
    ],
)
def test_snapshot_problems(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    with pytest.raises(FeedInputError) as caught:
        read(write(tmp_path / "x.jsonl", json.dumps({**snapshot(), **change}) + "\n"))
    assert f"x.jsonl: line 1: {expected}" in str(caught.value)


def test_missing_field(tmp_path: Path) -> None:
    body = snapshot()
    del body["name_kana"]
    with pytest.raises(FeedInputError, match=r"m\.json: name_kana: missing \(required\)$"):
        read(write(tmp_path / "m.json", body))


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"w.csv": "worker_id,foo\n"}, "w.csv: line 1: unrecognised CSV header"),
        (
            {"w.csv": "worker_id,name,name_kana,birth_date,registered_on\n"},
            "w.csv: line 1: workers file without column(s) registration_type",
        ),
        (
            {"q.csv": "worker_id,code,name,acquired_on,extra\n"},
            "q.csv: line 1: unknown column 'extra' in a qualifications file",
        ),
        (
            {"w.csv": WORKERS_CSV + "1,2\n"},
            "w.csv: line 4: 2 fields, the header has 7",
        ),
        (
            {"w.csv": WORKERS_CSV.replace("詳細型", "detail")},
            'w.csv: line 2: registration_type: must be detailed or simple (got "detail")',
        ),
        (
            {"w.csv": WORKERS_CSV.replace("12345678901235", "1234567890123X")},
            'w.csv: line 3: worker_id: must be 14 digits (got "1234567890123X")',
        ),
        (
            {"w.csv": WORKERS_CSV.replace("09-01:電気工;", "09-01;")},
            "w.csv: line 2: occupations: '09-01' is not code:name",
        ),
        (
            {"w.csv": WORKERS_CSV + WORKERS_CSV.splitlines()[1] + "\n"},
            "w.csv: line 4: worker 12345678901234 is already listed (",
        ),
        (
            {"w.csv": WORKERS_CSV, "q.csv": QUALS_CSV.replace("2017-04-01", "2017-04-31")},
            "q.csv: line 2: acquired_on: Input should be a valid date",
        ),
        (
            {"w.csv": WORKERS_CSV, "h.csv": WORK_CSV.replace("職長", "親方")},
            'h.csv: line 2: role: must be foreman, leader or worker (got "親方")',
        ),
        (
            {"h.csv": WORK_CSV},
            "h.csv: line 2: worker 12345678901234 is not in any workers CSV file given",
        ),
        ({"e.csv": ""}, "e.csv: empty file (no header row)"),
        ({"b.csv": 'worker_id,code,name,acquired_on\n1,"a\n'}, "b.csv: line 2: bad CSV"),
    ],
)
def test_csv_problems_name_file_and_line(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    paths = [write(tmp_path / name, text) for name, text in files.items()]
    with pytest.raises(FeedInputError) as caught:
        read(*paths)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(FeedInputError, match=r"nope\.json: cannot read: No such file"):
        read(str(tmp_path / "nope.json"))
    with pytest.raises(FeedInputError, match="cannot read: Is a directory"):
        read(str(tmp_path))
    sjis = tmp_path / "sjis.csv"
    sjis.write_bytes(WORKERS_CSV.replace("𠮷", "吉").encode("cp932"))
    with pytest.raises(FeedInputError, match=r"sjis\.csv: line 2: not UTF-8 text"):
        read(str(sjis))


def test_non_utf8_json_lines_name_the_exact_line(tmp_path: Path) -> None:
    good = json.dumps(snapshot()).encode()
    bad = json.dumps(snapshot(name="高橋 健太"), ensure_ascii=False).encode("cp932")
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([good, good, bad, good]) + b"\n")
    with pytest.raises(FeedInputError, match=r"mixed\.jsonl: line 3: not UTF-8 text \(byte 0x"):
        read(str(path))
