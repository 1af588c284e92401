"""``python -m shared_kernel.infra.trace``: one application's log lines across services, in order.

Checked by hand on the live local stack (``make services-up``, ``make demo-data``, one
application of two demo workers submitted through the APIs as in tests/faults/journey.py):
``uv run python -m shared_kernel.infra.trace <X-Correlation-ID of the submit>`` printed 33 lines
from application (6), judgement (1), notification (8), consent (2) and document (16, of
which 12 are weasyprint's progress lines), and ``… trace AP-YYYYMMDD-XXXXXX`` the same 33
plus the notification sender's 3 ``mail.sent`` lines, which carry no correlation id.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from shared_kernel.infra.trace import main, naming, parse, render, trace

CID = "e40d6cde-289a-4908-b33e-f64a070b16a7"
OTHER = "0b9a2b4e-0000-4000-8000-000000000000"
APP = "AP-20261204-6ZNDS0"


def line(timestamp: str, message: str, cid: str | None = CID, **fields: Any) -> str:
    record = {**fields, "correlation_id": cid, "level": "info", "timestamp": timestamp}
    if cid is None:
        del record["correlation_id"]
    return json.dumps({**record, "message": message}, ensure_ascii=False)


def write(directory: Path, service: str, *lines: str) -> Path:
    path = directory / f"{service}.log"
    with_service = [
        json.dumps({**json.loads(x), "service": service}, ensure_ascii=False)
        if x.startswith("{")
        else x
        for x in lines
    ]
    path.write_text("".join(x + "\n" for x in with_service), encoding="utf-8")
    return path


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """Three services' logs of one application, another request's lines and Kafka noise."""
    write(
        tmp_path,
        "application",
        line("2026-12-04T11:24:05.664066Z", "application.submitted", application_id=APP),
        line("2026-12-04T11:24:05.667782Z", "http.request", method="POST", status=200),
        line("2026-12-04T11:24:05.700000Z", "http.request", OTHER, method="GET", status=200),
        "not json at all",
        line("2026-12-04T11:24:06Z", "consumer.event", subject=f"J-{APP}-01", outcome="handled"),
    )
    write(
        tmp_path,
        "judgement",
        line("2026-12-04T11:24:05.726159Z", "consumer.event", subject=APP, outcome="handled"),
        "[2026-12-04 11:24:05,800] INFO [Partition x] Log loaded (kafka.log.UnifiedLog)",
        "[1, 2, 3]",
    )
    write(
        tmp_path,
        "notification",
        line("2026-12-04T11:24:05.738556Z", "mail.recorded", mail_id=f"received:{APP}:a@b.jp"),
        line("2026-12-04T11:24:05.892628Z", "mail.sent", None, mail_id=f"received:{APP}:a@b.jp"),
        line("2026-12-04T11:24:05.900000Z", "mail.sent", None, mail_id="received:AP-X:a@b.jp"),
    )
    (tmp_path / "kafka.log").write_text("[2026-12-04 11:24:05] INFO started\n", encoding="utf-8")
    return tmp_path


def paths(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.log"))


def test_only_json_objects_are_lines() -> None:
    assert parse("[2026-12-04 11:24:05,800] INFO kafka", "kafka") is None
    assert parse("[1, 2]", "x") is None
    assert parse("{not json", "x") is None
    assert parse("", "x") is None
    parsed = parse('{"message": "m", "timestamp": "2026-12-04T11:24:05Z"}\n', "document")
    assert parsed is not None
    assert parsed.source == "document"
    assert parsed.raw == '{"message": "m", "timestamp": "2026-12-04T11:24:05Z"}'


def test_a_correlation_id_merges_its_lines_from_every_service_in_time_order(logs: Path) -> None:
    found = trace(paths(logs), CID)
    assert [(x.record["service"], x.record["message"]) for x in found] == [
        ("application", "application.submitted"),
        ("application", "http.request"),
        ("judgement", "consumer.event"),
        ("notification", "mail.recorded"),
        # a timestamp without microseconds sorts as the whole second it is, not as text
        ("application", "consumer.event"),
    ]
    assert {x.correlation_id for x in found} == {CID}


def test_an_application_number_follows_the_correlation_ids_of_the_lines_naming_it(
    logs: Path,
) -> None:
    write(
        logs,
        "document",
        # names the application under another correlation id: that id is followed too
        line("2026-12-04T11:30:00Z", "notice.generated", OTHER, notice_id=f"RN-{APP}-01"),
    )
    found = trace(paths(logs), APP.lower())
    messages = [(x.record["service"], x.record["message"], x.correlation_id) for x in found]
    assert ("notification", "mail.sent", None) in messages  # names it, has no correlation id
    assert ("application", "http.request", OTHER) in messages  # a line of the other id
    assert ("document", "notice.generated", OTHER) in messages
    assert len(found) == 8  # every line of both ids, and the one naming it without an id
    assert all(a.at <= b.at for a, b in itertools.pairwise(found)), "sorted by timestamp"


def test_the_application_number_is_matched_as_a_whole_token() -> None:
    pattern = naming(APP)
    for named in (APP, f"J-{APP}-01", f"RN-{APP}-02", f"x:{APP}:y@example.jp", f"/a/{APP}"):
        assert pattern.search(named), named
    for other in (f"{APP}X", f"X{APP}", "AP-20261204-6ZNDS"):
        assert not pattern.search(other), other


def test_a_readable_line_shows_time_service_event_and_the_useful_fields_first() -> None:
    raw = json.dumps(
        {
            "ms": 31.7,
            "outcome": "handled",
            "subject": APP,
            "event_id": "e-1",
            "type": "jp.ccus.level.application.submitted.v1",
            "correlation_id": CID,
            "level": "warning",
            "timestamp": "2026-12-04T11:24:05.726159Z",
            "message": "consumer.event",
            "error": "two words",
        }
    )
    parsed = parse(raw, "judgement")  # no "service" field: the file's name says it
    assert parsed is not None
    assert render(parsed) == (
        "2026-12-04T11:24:05.726159Z  judgement     [warning] consumer.event  "
        "type=jp.ccus.level.application.submitted.v1  event_id=e-1  "
        f'subject={APP}  outcome=handled  ms=31.7  error="two words"'
    )
    assert f"judgement     {CID[:8]}  [warning] consumer.event" in render(parsed, with_cid=True)


def test_the_service_is_the_log_file_s_or_else_the_line_s() -> None:
    failure = '{"service": "application", "message": "ops.failure", "timestamp": "t"}'
    in_portal_log = parse(failure, "portal")  # its "service" is the service that failed
    assert in_portal_log is not None and in_portal_log.service == "portal"
    exported = parse(failure, "all-services")
    assert exported is not None and exported.service == "application"
    assert render(in_portal_log).split()[1:] == ["portal", "ops.failure", "service=application"]


def test_exit_status_and_output(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([CID, "--log-dir", str(logs)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 5 and err == ""
    assert main([CID, "--log-dir", str(logs), "--json"]) == 0
    out, _ = capsys.readouterr()
    assert [json.loads(x)["correlation_id"] for x in out.splitlines()] == [CID] * 5

    assert main(["no-such-id", "--log-dir", str(logs)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "no-such-id" in err

    for bad in ([], ["x", "--log-dir", str(logs / "missing")], ["  ", "--log-dir", str(logs)]):
        assert main(bad) == 2, bad
        out, err = capsys.readouterr()
        assert out == "" and len(err.splitlines()) == 1, (bad, err)
        assert "Traceback" not in err


def test_the_lines_services_really_write(tmp_path: Path) -> None:
    """Two processes log through configure_logging; the command finds and orders their lines."""
    service = textwrap.dedent(
        """
        import sys
        from shared_kernel.infra.logging import configure_logging, correlation_scope, get_logger
        configure_logging(sys.argv[1])
        with correlation_scope(sys.argv[2]):
            get_logger().info("consumer.event", type="t.v1", outcome="handled")
        get_logger().info("outside.scope")
        """
    )
    for name in ("application", "judgement"):
        with (tmp_path / f"{name}.log").open("w", encoding="utf-8") as out:
            subprocess.run([sys.executable, "-c", service, name, CID], stdout=out, check=True)
    command = [sys.executable, "-m", "shared_kernel.infra.trace", CID, "--log-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    assert [r.split()[1:3] for r in rows] == [
        ["application", "consumer.event"],
        ["judgement", "consumer.event"],
    ]
    assert "type=t.v1  outcome=handled" in rows[0]
