"""Generated documentation stays in step with the code (``scripts/generated.py``)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "script",
    [
        "config_doc.py",  # docs/configuration.md from the settings classes
        "asyncapi.py",  # docs/asyncapi.json from the services' FastStream brokers
    ],
)
def test_generated_document_is_current(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + f"run: uv run python scripts/{script} --write"
