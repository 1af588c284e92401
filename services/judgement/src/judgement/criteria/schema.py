"""Write (or check) ``master.schema.json``, the JSON Schema of a criteria master document.

    uv run python -m judgement.criteria.schema           # rewrite the file
    uv run python -m judgement.criteria.schema --check   # exit 1 if it is out of date

The schema is generated from the pydantic models in ``judgement.core.master`` (which
validate every master file at load), so the two cannot disagree; a unit test runs --check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from judgement.core.master import master_json_schema

SCHEMA_FILE = Path(__file__).with_name("master.schema.json")


def render() -> str:
    return json.dumps(master_json_schema(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE} is out of date: run python -m judgement.criteria.schema")
            return 1
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"written {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
