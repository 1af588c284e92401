"""The import rules of docs/architecture.md (``scripts/check_imports.py``; also ``make lint``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_imports", ROOT / "scripts/check_imports.py")
assert _spec is not None and _spec.loader is not None
check_imports = importlib.util.module_from_spec(_spec)
sys.modules["check_imports"] = check_imports
_spec.loader.exec_module(check_imports)

PROJECT = check_imports.Project.scan()
SERVICES = sorted(PROJECT.service_of)


@pytest.mark.parametrize("package", [*SERVICES, "shared_kernel"])
def test_no_import_cycle(package: str) -> None:
    cycles = check_imports.cycles(PROJECT.graph())
    assert [c for c in cycles if c[0].split(".")[0] == package] == []


@pytest.mark.parametrize("service", [*SERVICES, "shared_kernel"])
def test_pure_layers_import_only_pure_code(service: str) -> None:
    """A core (and its ports) and the pure shared kernel import only the standard library,
    pydantic and pure code; no service imports another."""
    findings = [
        f for f in check_imports.layer_findings(PROJECT) if f"/{service}/" in f.split(":")[0]
    ]
    assert findings == []


def test_the_checker_finds_a_cycle_and_an_impure_core() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert check_imports.cycles(edges) == [["a", "b", "c"]]
    assert check_imports.cycles({"a": {"b"}, "b": set()}) == []
