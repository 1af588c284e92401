"""The criteria master (基準マスタ) as versioned data files, and their loader.

The master shipped with the service lives in ``master/`` beside this file (package data):
``settings.yaml``, ``trades.yaml``, ``qualifications.yaml`` and one file per trade under
``tables/``. ``load_master`` reads those plus any extra files or directories (``.yaml``,
``.yml`` or ``.json``; directories are read recursively in name order) and hands them to
``judgement.core.master.build_master``, which validates them against the schema
(``master.schema.json``, generated from the pydantic models) and compiles the lookups.
Adding a trade is therefore a data change: drop a file in ``master/`` (or pass one).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from judgement.core.errors import MasterError
from judgement.core.master import Master, TableSpec, build_master

__all__ = [
    "SUFFIXES",
    "Documents",
    "default_master",
    "extra_documents",
    "load_master",
    "packaged_documents",
    "read_document",
    "without_tables",
]

Documents = list[tuple[str, Mapping[str, Any]]]

SUFFIXES = (".yaml", ".yml", ".json")
PACKAGE_DIR = "master"


def read_document(name: str, text: str) -> Mapping[str, Any]:
    """Parse one master file's text (YAML, or JSON by suffix)."""
    try:
        content = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise MasterError(
            f"{name}: not valid {'JSON' if name.endswith('.json') else 'YAML'}:"
            f" {' '.join(str(exc).split())}"
        ) from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise MasterError(f"{name}: a master document must be a mapping at the top level")
    return content


def _walk(node: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        name = f"{prefix}/{child.name}" if prefix else child.name
        if child.is_dir():
            yield from _walk(child, name)
        elif child.name.endswith(SUFFIXES):
            yield name, child


def _packaged() -> Iterator[tuple[str, Mapping[str, Any]]]:
    root = resources.files(__name__).joinpath(PACKAGE_DIR)
    for name, entry in _walk(root, PACKAGE_DIR):
        yield name, read_document(name, entry.read_text(encoding="utf-8"))


def _extra(paths: Iterable[str | Path]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            if not files:
                raise MasterError(f"{path}: no master files (.yaml, .yml, .json) in directory")
        elif path.is_file():
            files = [path]
        else:
            raise MasterError(f"{path}: no such master file or directory")
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise MasterError(f"{file}: cannot read: {exc}") from None
            yield str(file), read_document(str(file), text)


@lru_cache(maxsize=1)
def _packaged_once() -> tuple[tuple[str, Mapping[str, Any]], ...]:
    return tuple(_packaged())


def packaged_documents() -> Documents:
    """The packaged master's documents, parsed once per process."""
    return list(_packaged_once())


def extra_documents(paths: Iterable[str | Path]) -> Documents:
    """The documents of extra master files or directories (``JUDGEMENT_CRITERIA_EXTRA``)."""
    return list(_extra(paths))


def without_tables(documents: Documents) -> tuple[Documents, list[TableSpec]]:
    """The documents without their ``tables`` sections, and those tables (validated).

    The judgement service keeps the packaged tables in its database (``criteria_versions``,
    seeded from them) and composes the master in force from the rest plus the published
    versions.
    """
    rest: Documents = []
    tables: list[TableSpec] = []
    for source, document in documents:
        raw = document.get("tables") or []
        if not isinstance(raw, list):
            raise MasterError(f"{source}: tables must be a list")
        for entry in raw:
            try:
                tables.append(TableSpec.model_validate(entry))
            except ValidationError as exc:
                raise MasterError(f"{source}: {' '.join(str(exc).split())}") from None
        others = {k: v for k, v in document.items() if k != "tables"}
        if others:
            rest.append((source, others))
    return rest, tables


def load_master(extra: Iterable[str | Path] = (), *, packaged: bool = True) -> Master:
    """The packaged master plus ``extra`` files/directories, validated and compiled."""
    documents: list[tuple[str, Mapping[str, Any]]] = []
    if packaged:
        documents.extend(_packaged_once())
    documents.extend(_extra(extra))
    return build_master(documents)


@lru_cache(maxsize=1)
def default_master() -> Master:
    """The packaged master, loaded once per process."""
    return load_master()
