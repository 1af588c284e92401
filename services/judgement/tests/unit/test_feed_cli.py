"""``python -m judgement feed …`` as operators run it (real subprocesses, no Kafka needed).

Kafka is pointed at a closed port: a command that wrongly tried to publish would exit 1,
not 2, and the tests would say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

GOOD = {
    "worker_id": "12345678901234",
    "registration_type": "detailed",
    "registered_on": "2020-06-01",
    "name": "髙﨑 一郎",
    "name_kana": "タカサキ イチロウ",
    "birth_date": "1985-05-05",
    "qualifications": [{"code": "40040", "name": "玉掛け技能講習", "acquired_on": "2012-05-10"}],
    "work_history": [{"date": "2021-04-05", "site_id": "S0001", "role": "worker"}],
}
ENV = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9", "PYTHONIOENCODING": "ascii"}


def feed(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "judgement", "feed", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        timeout=120,
        check=False,
    )


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def write(path: Path, content: Any) -> Path:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def with_(**changes: Any) -> dict[str, Any]:
    body = {**GOOD, **changes}
    return {k: v for k, v in body.items() if v is not None}


TWO_LINES = json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n{oops\n"
BAD_FILES: list[tuple[str, str | dict[str, Any] | list[Any], str]] = [
    (
        "bad.json",
        '{"worker_id": "12345678901234",\n "name": }',
        "bad.json: line 2 column 10: bad JSON",
    ),
    ("lines.jsonl", TWO_LINES, "lines.jsonl: line 3 column 2: bad JSON"),
    ("missing.json", with_(name_kana=None), "missing.json: name_kana: missing (required)"),
    (
        "date.json",
        [GOOD, with_(work_history=[{"date": "2021-02-30", "site_id": "S1"}])],
        "date.json: line 1 (item 1): work_history[0].date: Input should be a valid date",
    ),
    (
        "id.jsonl",
        json.dumps(with_(worker_id="1234567890123")) + "\n",
        'id.jsonl: line 1: worker_id: must be 14 digits (got "1234567890123")',
    ),
    ("letters.json", with_(worker_id="1234567890123A"), "letters.json: worker_id: must be 14"),
    (
        "future.json",
        with_(birth_date="2021-01-01"),
        "future.json: registered_on: 2020-06-01 is before birth_date 2021-01-01",
    ),
    ("empty.json", "", "empty.json: empty file"),
    ("workers.csv", "worker_id,name\n", "workers.csv: line 1: unrecognised CSV header"),
    (
        "history.csv",
        "worker_id,date,site_id,role,occupation_code\n12345678901234,2021-03-01,S1,worker,\n",
        "history.csv: line 2: worker 12345678901234 is not in any workers CSV file given",
    ),
    (
        "people.csv",
        "worker_id,name,name_kana,birth_date,registration_type,registered_on\n"
        "12345678901234,佐藤 大輔,サトウ ダイスケ,1985-02-29,detailed,2022-01-17\n",
        "people.csv: line 2: birth_date: Input should be a valid date",
    ),
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, name: str, content: Any, expected: str
) -> None:
    path = write(tmp_path / name, content)
    result = feed("file", path)
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert line.startswith(f"python -m judgement feed: {tmp_path}/")
    assert expected in line
    assert result.stdout == ""


def test_history_csv_row_with_impossible_date(tmp_path: Path) -> None:
    workers = write(
        tmp_path / "workers.csv",
        "worker_id,name,name_kana,birth_date,registration_type,registered_on\n"
        "12345678901234,𠮷野 翔太,ヨシノ ショウタ,1988-02-29,詳細型,2020-02-03\n",
    )
    history = write(
        tmp_path / "history.csv",
        "worker_id,date,site_id,role,occupation_code\n"
        "12345678901234,2021-04-05,S1,worker,09-01\n"
        "12345678901234,2021-13-01,S1,worker,09-01\n",
    )
    result = feed("file", workers, history)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert f"{history}: line 3: date: Input should be a valid date" in line


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    result = feed("file", tmp_path / "absent.json")
    assert result.returncode == 2
    assert "absent.json: cannot read: No such file or directory" in one_line(result.stderr)

    result = feed("file", tmp_path)
    assert result.returncode == 2
    assert "cannot read: Is a directory" in one_line(result.stderr)

    sjis = tmp_path / "sjis.json"
    sjis.write_bytes(json.dumps(with_(name="高橋 健太"), ensure_ascii=False).encode("cp932"))
    result = feed("file", sjis)
    assert result.returncode == 2
    assert "sjis.json: line 1: not UTF-8 text (byte 0x" in one_line(result.stderr)


def test_nothing_is_published_when_a_later_file_is_bad(tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", GOOD)
    bad = write(tmp_path / "bad.json", with_(worker_id="1"))
    result = feed("file", good, bad)
    assert result.returncode == 2  # not 1: Kafka (unreachable here) was never contacted
    assert "bad.json: worker_id: must be 14 digits" in one_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["synthetic", "--count", "-3", "--seed", "1"], "argument --count: must not be negative"),
        (["synthetic", "--count", "3"], "the following arguments are required: --seed"),
        (
            ["synthetic", "--count", "3", "--seed", "1", "--as-of", "2026-02-30"],
            "not a possible YYYY-MM-DD date: '2026-02-30'",
        ),
        (
            ["synthetic", "--count", "3", "--seed", "1", "--as-of", "2019-01-01"],
            "--as-of must be 2019-05-01 or later",
        ),
        (["file"], "the following arguments are required: PATH"),
        (["teleport"], "invalid choice: 'teleport'"),
    ],
)
def test_usage_errors_exit_2(args: list[str], expected: str) -> None:
    result = feed(*args)
    assert result.returncode == 2
    assert expected in one_line(result.stderr)


def test_synthetic_dry_run_prints_a_summary() -> None:
    result = feed("synthetic", "--count", "40", "--seed", "s", "--as-of", "2026-11-29", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    summary = json.loads(result.stdout)
    assert summary["snapshots"] == summary["workers"] == 40
    assert summary["dry_run"] is True and summary["as_of"] == "2026-11-29"
    assert sum(summary["trades"].values()) == 40
    assert "published" not in summary


def test_synthetic_out_writes_json_lines_that_feed_file_reads(tmp_path: Path) -> None:
    out = tmp_path / "workers.jsonl"
    args = ["--count", "25", "--seed", "7", "--as-of", "2026-11-29"]
    result = feed("synthetic", *args, "--out", out)
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 25
    first = json.loads(lines[0])
    assert set(first) >= {"_trade", "_career", "worker_id", "work_history"}
    again = tmp_path / "again.jsonl"
    feed("synthetic", *args, "--out", again)
    assert again.read_bytes() == out.read_bytes()  # deterministic

    checked = feed("file", out, "--dry-run")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["snapshots"] == 25


def test_out_to_an_unwritable_place_exits_2(tmp_path: Path) -> None:
    result = feed("synthetic", "--count", "1", "--seed", "1", "--out", tmp_path / "no" / "x.jsonl")
    assert result.returncode == 2
    assert "cannot write: No such file or directory" in one_line(result.stderr)


def test_demo_dry_run() -> None:
    result = feed("demo", "--dry-run")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["snapshots"] == 8 and summary["demo"] is True
    assert summary["registration_types"] == {"detailed": 7, "simple": 1}
