"""Dependency audit: the locked dependencies checked with pip-audit (``make audit``).

Exports the lock (``uv export --frozen --no-hashes``, the workspace's own packages left out),
runs ``pip-audit -r … --disable-pip --no-deps -f json`` against the PyPI vulnerability data
and then OSV, and decides:

* a known vulnerability in any locked package → the list on standard output, exit 1;
* no vulnerability database answered (closed network, a mirror without the JSON API: every
  package "not found" or a connection error) → one clear line that the audit could not run,
  exit 0 (CI does not fail for that reason alone);
* otherwise → "脆弱性なし" with the number of packages audited (and any skipped), exit 0.

``--strict`` makes an unreachable database exit 3 (for a pipeline that must audit).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("pypi", "osv")


def export_requirements(target: Path) -> int:
    """The locked third-party dependencies as a requirements file; returns their count."""
    text = subprocess.run(
        ["uv", "export", "--frozen", "--no-hashes", "--no-emit-workspace", "--all-groups"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    target.write_text(text, encoding="utf-8")
    return sum(1 for line in text.splitlines() if line and not line.startswith(("#", " ")))


def run_pip_audit(requirements: Path, service: str) -> dict[str, Any] | None:
    """pip-audit's JSON report, or None when it could not produce one."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            str(requirements),
            "--disable-pip",
            "--no-deps",
            "--progress-spinner",
            "off",
            "--timeout",
            "20",
            "-s",
            service,
            "-f",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"[audit] {service}: pip-audit gave no report ({last[:200]})", file=sys.stderr)
        return None
    return report


def vulnerable(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in report.get("dependencies", []) if d.get("vulns")]


def audited(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in report.get("dependencies", []) if "skip_reason" not in d]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail when no database answers")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        count = export_requirements(requirements)
        print(f"[audit] {count} locked third-party packages (uv export --frozen)")
        for service in SERVICES:
            report = run_pip_audit(requirements, service)
            if report is None:
                continue
            found = vulnerable(report)
            if found:
                print(f"[audit] {service}: KNOWN VULNERABILITIES in {len(found)} package(s):")
                for dep in found:
                    for vuln in dep["vulns"]:
                        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
                        print(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
                return 1
            checked = audited(report)
            if not checked:
                print(
                    f"[audit] {service}: no package could be looked up "
                    "(vulnerability database unreachable or index without its JSON API)"
                )
                continue
            skipped = len(report.get("dependencies", [])) - len(checked)
            note = f", {skipped} skipped" if skipped else ""
            print(f"[audit] {service}: no known vulnerability in {len(checked)} packages{note}")
            return 0
    print(
        "[audit] NOT AUDITED: no vulnerability database (PyPI JSON API, OSV) could be reached "
        "from this machine. Run `make audit` where the network allows it."
    )
    return 3 if args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
