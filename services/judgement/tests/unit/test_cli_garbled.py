"""``python -m judgement evaluate`` on garbled input (hypothesis): exit status 2 and exactly
one line on standard error, never a traceback, whatever the file holds."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgement.adapters.inbound.cli import run

PREFIX = "python -m judgement evaluate: "
VALID = {
    "trade": "鉄筋",
    "requested_level": 2,
    "application_date": "2026-11-01",
    "ccus": {
        "worker_id": "12345678901234",
        "registration_type": "詳細型",
        "registered_on": "2020-06-01",
        "qualifications": [],
        "work_history": [],
    },
}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def evaluate_file(path: Path, content: bytes) -> tuple[int, str, str]:
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    status = run([str(path)], stdin=io.StringIO(""), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def refused(status: int, out: str, err: str) -> None:
    assert status == 2, (status, err)
    assert out == ""
    assert err.startswith(PREFIX) and err.endswith("\n")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err


def garble(text: bytes, data: st.DataObject) -> bytes:
    cut = data.draw(st.integers(0, len(text)))
    noise = data.draw(st.binary(max_size=8))
    return text[:cut] + noise + text[cut + len(noise) :]


SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_are_refused(tmp_path: Path, content: bytes) -> None:
    status, out, err = evaluate_file(tmp_path / "in.json", content)
    if status == 0:  # by chance a valid request or array of them (never seen, but legal)
        return
    refused(status, out, err)


@SETTINGS
@given(JSON)
def test_json_that_is_not_a_request_is_refused(tmp_path: Path, value: Any) -> None:
    content = json.dumps(value, ensure_ascii=False).encode()
    refused(*evaluate_file(tmp_path / "in.json", content))


@SETTINGS
@given(st.data())
def test_a_garbled_request_file_is_refused_or_judged(tmp_path: Path, data: st.DataObject) -> None:
    original = json.dumps(VALID, ensure_ascii=False).encode()
    status, out, err = evaluate_file(tmp_path / "in.json", garble(original, data))
    if status == 0:  # the garbling left a valid request (e.g. changed a digit of a date)
        assert err == "" and out.count("\n") == 1
        return
    refused(status, out, err)


def test_pathological_json_is_refused_not_an_internal_error(tmp_path: Path) -> None:
    for content in (
        b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the recursion limit
        b'{"trade": ' * 50_000,
        b"1" * 5_000,  # an integer longer than Python converts (4,300 digits)
        json.dumps({**VALID, "requested_level": int("9" * 4000)}).encode(),
        b"\xef\xbb\xbf" + json.dumps(VALID).encode(),  # a BOM
        b"NaN",
        b"",
    ):
        refused(*evaluate_file(tmp_path / "in.json", content))


def test_a_directory_or_missing_file_is_refused(tmp_path: Path) -> None:
    for name in (str(tmp_path), str(tmp_path / "missing.json")):
        out, err = io.StringIO(), io.StringIO()
        refused(
            run([name], stdin=io.StringIO(""), stdout=out, stderr=err),
            out.getvalue(),
            err.getvalue(),
        )


def test_the_process_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    """The real command (one process) on a deeply nested file."""
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000)
    done = subprocess.run(
        [sys.executable, "-m", "judgement", "evaluate", str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.count(b"\n") == 1 and b"Traceback" not in done.stderr
