"""JSON-schema snapshots of the published events.

``python -m shared_kernel.events.schemas --write`` writes one file per ``ce_type`` under
``schemas/``; a test compares them with the models, so a schema change without a new
version fails. Never rewrite an existing snapshot: add a new version instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared_kernel.events.catalogue import CATALOGUE

SCHEMA_DIR = Path(__file__).parent / "schemas"


def current_schemas() -> dict[str, str]:
    return {
        model.ce_type(): json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
        for model in CATALOGUE.models()
    }


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python -m shared_kernel.events.schemas --write", file=sys.stderr)
        return 2
    SCHEMA_DIR.mkdir(exist_ok=True)
    for ce_type, text in current_schemas().items():
        path = SCHEMA_DIR / f"{ce_type}.json"
        if path.exists() and path.read_text() != text:
            print(f"{path.name}: published schema changed; add a new version", file=sys.stderr)
            return 2
        path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
