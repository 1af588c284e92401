"""deploy/prometheus/ checked by the real promtool (Debian's prometheus 2.42, installed into
.deps/bin by deploy/local/install.sh). The compose stack runs Prometheus 3; the files keep to
what both accept.

Without promtool the tests are skipped locally and fail in CI (``CI=true``).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.deploy.tools import ROOT, tool

PROMETHEUS = ROOT / "deploy" / "prometheus"


def promtool() -> str:
    return tool(
        "promtool",
        "PROMTOOL",
        "run deploy/local/install.sh (make install), which extracts it from Debian's "
        "prometheus package",
    )


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["check", "config", str(PROMETHEUS / "prometheus.yml")], id="check-config"),
        pytest.param(["check", "rules", str(PROMETHEUS / "alerts.yml")], id="check-rules"),
        pytest.param(["test", "rules", str(PROMETHEUS / "alerts_test.yml")], id="test-rules"),
    ],
)
def test_promtool(args: list[str]) -> None:
    done = subprocess.run(
        [promtool(), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (
        f"promtool {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
