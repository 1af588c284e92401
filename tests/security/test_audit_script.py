"""``make audit`` decides from pip-audit's JSON report (no network here: reports are fed in)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit.py"


@pytest.fixture
def audit(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "export_requirements", lambda target: 3)
    return module


def feed(monkeypatch: pytest.MonkeyPatch, audit: ModuleType, **reports: Any) -> None:
    monkeypatch.setattr(audit, "run_pip_audit", lambda _req, service: reports.get(service))


SKIPPED = {"dependencies": [{"name": "x", "skip_reason": "Dependency not found on PyPI"}]}
CLEAN = {"dependencies": [{"name": "x", "version": "1.0", "vulns": []}]}
VULNERABLE = {
    "dependencies": [
        {"name": "x", "version": "1.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["1.1"]}]}
    ]
}


def test_a_known_vulnerability_fails(
    monkeypatch: pytest.MonkeyPatch, audit: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    feed(monkeypatch, audit, pypi=VULNERABLE)
    assert audit.main([]) == 1
    assert "x 1.0: PYSEC-1 (fixed in 1.1)" in capsys.readouterr().out


def test_no_reachable_database_is_reported_plainly_and_passes_unless_strict(
    monkeypatch: pytest.MonkeyPatch, audit: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    feed(monkeypatch, audit, pypi=SKIPPED, osv=None)
    assert audit.main([]) == 0
    assert "NOT AUDITED" in capsys.readouterr().out
    assert audit.main(["--strict"]) == 3


def test_a_clean_audit_passes_and_osv_is_the_fallback(
    monkeypatch: pytest.MonkeyPatch, audit: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    feed(monkeypatch, audit, pypi=SKIPPED, osv=CLEAN)
    assert audit.main([]) == 0
    assert "osv: no known vulnerability in 1 packages" in capsys.readouterr().out
    feed(monkeypatch, audit, pypi=SKIPPED, osv=VULNERABLE)
    assert audit.main([]) == 1
