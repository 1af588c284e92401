"""JSON-schema snapshots of the published events.

``python -m shared_kernel.events.schemas --write`` writes one file per ``ce_type`` under
``schemas/``; a test compares them with the models, so a schema change without a new
version fails. Within a version only additive, optional changes are written (a new property
with a default, docs/events.md "Compatibility rules"); anything else needs a new version.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared_kernel.events.catalogue import CATALOGUE

SCHEMA_DIR = Path(__file__).parent / "schemas"


def current_schemas() -> dict[str, str]:
    return {
        model.ce_type(): json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
        for model in CATALOGUE.models()
    }


def breaking_changes(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """What in ``new`` breaks a consumer of ``old`` (empty: an additive, optional change).

    Every property, definition and requirement of ``old`` must stand unchanged in ``new``;
    ``new`` may add properties only if they are not required. Descriptions may change.
    """
    found: list[str] = []
    for key in ("type", "enum", "const", "format", "pattern", "$ref", "items", "anyOf"):
        if _plain(old.get(key)) != _plain(new.get(key)):
            found.append(f"{where or '/'}: {key} changed")
    if set(new.get("required", [])) != set(old.get("required", [])):
        found.append(f"{where or '/'}: required properties changed")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, schema in old_props.items():
        if name not in new_props:
            found.append(f"{where}/{name}: removed")
        else:
            found.extend(breaking_changes(schema, new_props[name], f"{where}/{name}"))
    for name, schema in old.get("$defs", {}).items():
        if name not in new.get("$defs", {}):
            found.append(f"$defs/{name}: removed")
        else:
            found.extend(breaking_changes(schema, new["$defs"][name], f"$defs/{name}"))
    return found


def _plain(value: Any) -> Any:
    """A schema part without its descriptions and titles (wording may change)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ("description", "title")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python -m shared_kernel.events.schemas --write", file=sys.stderr)
        return 2
    SCHEMA_DIR.mkdir(exist_ok=True)
    for ce_type, text in current_schemas().items():
        path = SCHEMA_DIR / f"{ce_type}.json"
        if path.exists() and path.read_text() != text:
            broken = breaking_changes(json.loads(path.read_text()), json.loads(text))
            if broken:
                print(
                    f"{path.name}: published schema changed ({broken[0]}); add a new version",
                    file=sys.stderr,
                )
                return 2
        path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
