"""``python -m judgement evaluate FILE [FILE…]`` as operators run it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TAMAKAKE = ("40040", "玉掛け技能講習", "2012-05-10")


def run(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "judgement", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        input=stdin,
        timeout=60,
        check=False,
    )


def write(path: Path, content: Any) -> Path:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def good(tmp_path: Path, h: Any) -> Path:
    body = h.request(quals=[TAMAKAKE], history=h.workdays("2021-01-04", 645))
    return write(tmp_path / "good.json", body)


def test_prints_one_result_per_file_one_per_line(tmp_path: Path, h: Any, good: Path) -> None:
    second = write(
        tmp_path / "second.json",
        h.request("とび", 3, quals=[TAMAKAKE], history=h.workdays("2021-01-04", 10)),
    )
    done = run("evaluate", good, second)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    first, other = (json.loads(line) for line in lines)
    assert (first["decision"], first["eligible_level"], first["days"]["total"]) == (
        "approved",
        2,
        645,
    )
    assert first["criteria_version"] == "鉄筋@2019-10-08"
    assert (other["decision"], other["criteria_version"]) == ("rejected", "とび@2020-03-04")
    assert "玉掛け技能講習" in done.stdout  # ensure_ascii=False


def test_an_array_file_gives_one_line_per_request(tmp_path: Path, h: Any) -> None:
    bodies = [h.request(quals=[TAMAKAKE], history=h.workdays("2021-01-04", n)) for n in (1, 2, 3)]
    done = run("evaluate", write(tmp_path / "many.json", bodies))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["days"]["ccus"] for line in done.stdout.splitlines()] == [1, 2, 3]


def test_reads_standard_input(good: Path) -> None:
    done = run("evaluate", "-", stdin=good.read_text(encoding="utf-8"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["decision"] == "approved"


def _bad(tmp_path: Path, h: Any, name: str, change: dict[str, Any]) -> Path:
    return write(tmp_path / name, h.request(quals=[TAMAKAKE]) | change)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("broken.json", '{"trade": "鉄筋",', "bad JSON"),
        ("unknown.json", {"trade": "宇宙工事"}, "unknown trade '宇宙工事'"),
        ("level.json", {"requested_level": 5}, "requested_level"),
        ("date.json", {"application_date": "2026-02-30"}, "impossible date '2026-02-30'"),
        (
            "none.json",
            {"trade": "左官"},
            "この分野の判定基準はまだ登録されていません（能力評価実施団体：日本左官業組合連合会（未確認））",
        ),
    ],
)
def test_invalid_input_exits_2_with_one_line_naming_the_file(
    tmp_path: Path, h: Any, good: Path, name: str, content: Any, problem: str
) -> None:
    path = (
        write(tmp_path / name, content)
        if isinstance(content, str)
        else _bad(tmp_path, h, name, content)
    )
    done = run("evaluate", good, path)
    assert done.returncode == 2
    assert done.stdout == ""  # nothing is printed unless every request was judged
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0]
    assert problem in lines[0]
    assert "Traceback" not in done.stderr


def test_impossible_date_inside_the_work_history(tmp_path: Path, h: Any) -> None:
    body = h.request(quals=[TAMAKAKE], history=[{"date": "2023-02-29", "site_id": "S1"}])
    path = write(tmp_path / "history.json", body)
    done = run("evaluate", path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert f"{path}: invalid request: ccus.work_history[0].date:" in done.stderr


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    done = run("evaluate", missing)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"python -m judgement evaluate: {missing}: cannot read: No such file or directory"
    ]
    directory = run("evaluate", tmp_path)
    assert directory.returncode == 2
    assert len(directory.stderr.splitlines()) == 1


def test_no_file_is_a_usage_error_on_one_line() -> None:
    done = run("evaluate")
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1


def test_extra_master_adds_a_trade(tmp_path: Path, h: Any) -> None:
    body = h.request(
        "試験施工",
        2,
        application_date="2027-01-05",
        quals=[("19902", "2級試験施工技能士", "2010-01-01")],
        history=h.workdays("2021-01-04", 430, occupation="99-01"),
    )
    path = write(tmp_path / "extra.json", body)
    assert run("evaluate", path).returncode == 2  # unknown to the packaged master
    done = run("evaluate", "--master", h.fixtures / "extra", path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["criteria_version"] == "試験施工@2026-12-01"


def test_serve_still_dispatches() -> None:
    done = run("serve", "--help")
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout
