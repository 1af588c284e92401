"""Point kubeconform at the Kubernetes JSON schemas bundled in PyPI's kubernetes-validate.

kubeconform's default schema location is a download, which cannot work offline. The wheel of
``kubernetes-validate`` carries the schemas of every Kubernetes minor version
(``kubernetes_validate/kubernetes-json-schema/v<version>-local-strict/``), each kind's file
referring to a shared ``_definitions.json`` by an absolute URL (``/api/_definitions.json`` under
``https://kubernetes.io``), which kubeconform would try to fetch. This script extracts one
version and rewrites those references to the file beside them, in the layout kubeconform
expects of a local schema location::

    <out>/v<version>-standalone-strict/<kind>-<group>-<version>.json   (kubeconform -strict)
    <out>/v<version>-standalone/<kind>-<group>-<version>.json

Usage (deploy/local/install.sh runs it into .deps/k8s-schemas):

    python3 scripts/k8s_schemas.py --wheel kubernetes_validate-1.37.0-py3-none-any.whl \\
        --out .deps/k8s-schemas --kubernetes-version 1.32.0

then ``kubeconform -strict -kubernetes-version 1.32.0 -schema-location .deps/k8s-schemas …``
(tests/deploy/test_k8s.py adds our own schemas of the custom resources, deploy/k8s/schemas/).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import zipfile
from pathlib import Path

KUBERNETES_VERSION = "1.32.0"
BUNDLED = "kubernetes_validate/kubernetes-json-schema/"
DEFINITIONS = "_definitions.json"
ABSOLUTE_REF = '"/api/_definitions.json#'


def rewrite(name: str, text: str) -> str:
    """One schema file made loadable from disk: no $id, references to the file beside it."""
    schema = json.loads(text)
    schema.pop("$id", None)
    out = json.dumps(schema, separators=(",", ":"))
    if name != DEFINITIONS:
        out = out.replace(ABSOLUTE_REF, f'"{DEFINITIONS}#')
    return out


def extract(wheel: Path, out: Path, version: str) -> int:
    written = 0
    with zipfile.ZipFile(wheel) as archive:
        for strict in (True, False):
            source = f"{BUNDLED}v{version}-local{'-strict' if strict else ''}/"
            target = out / f"v{version}-standalone{'-strict' if strict else ''}"
            members = [
                n for n in archive.namelist() if n.startswith(source) and n.endswith(".json")
            ]
            if not members:
                raise SystemExit(f"{wheel.name} has no schemas for Kubernetes {version}")
            staging = target.with_name(target.name + ".tmp")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            for member in members:
                name = member.rsplit("/", 1)[1]
                text = archive.read(member).decode("utf-8")
                (staging / name).write_text(rewrite(name, text), encoding="utf-8")
                written += 1
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, required=True, help="kubernetes-validate's wheel")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kubernetes-version", default=KUBERNETES_VERSION)
    args = parser.parse_args(argv)
    count = extract(args.wheel, args.out, args.kubernetes_version)
    print(f"{count} schemas of Kubernetes {args.kubernetes_version} in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
