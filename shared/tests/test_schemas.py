"""A published event schema never changes without a new version."""

import re

from shared_kernel.events import CATALOGUE
from shared_kernel.events.schemas import SCHEMA_DIR, breaking_changes, current_schemas

REQUIRED = {
    "UserProvisionallyRegistered",
    "UserActivated",
    "ConsentGranted",
    "ConsentRejected",
    "ApplicationSubmitted",
    "ApplicationDraftReminder",
    "CcusWorkerSnapshot",
    "JudgementCompleted",
    "ResultNoticeGenerated",
}


def test_catalogue_holds_every_required_event() -> None:
    assert {m.__name__ for m in CATALOGUE.models()} >= REQUIRED


def test_every_type_carries_a_version_suffix() -> None:
    for model in CATALOGUE.models():
        assert re.fullmatch(r"jp\.ccus\.level\.[a-z.-]+\.v\d+", model.ce_type()), model


def test_published_schemas_match_their_snapshots() -> None:
    for ce_type, text in current_schemas().items():
        path = SCHEMA_DIR / f"{ce_type}.json"
        assert path.exists(), f"no snapshot for {ce_type}: run the schemas --write command"
        assert path.read_text() == text, (
            f"{ce_type} changed without a new version: add a v{ce_type[-1]}+1 model instead"
        )


def test_additive_optional_change_is_not_breaking() -> None:
    old = {
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "$defs": {"P": {"properties": {"x": {"type": "integer"}}, "required": ["x"]}},
    }
    added = {
        "properties": {"a": {"type": "string", "description": "new words"}, "b": {"default": 1}},
        "required": ["a"],
        "$defs": old["$defs"],
    }
    assert breaking_changes(old, added) == []
    assert breaking_changes(old, {**added, "required": ["a", "b"]})
    assert breaking_changes(old, {**added, "properties": {"a": {"type": "integer"}}})
    assert breaking_changes(old, {**added, "properties": {"b": {}}})
    assert breaking_changes(old, {**added, "$defs": {}})


def test_no_snapshot_without_a_model() -> None:
    names = {p.stem for p in SCHEMA_DIR.glob("*.json")}
    assert names == set(current_schemas())
