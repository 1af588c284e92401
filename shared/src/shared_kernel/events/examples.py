"""One example of every event, for the partners' contract (``docs/asyncapi.json``).

Built from each model's fields: a realistic value for the names the catalogue uses
(事業者ID, 技能者ID, application and line numbers, a 分野, 髙﨑/𠮷野 for the names that
must survive every system), a plain value of the field's type otherwise, then validated by
the model itself, so an example can never drift from its schema.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from shared_kernel.events.envelope import Event

AT = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
SAMPLES: dict[str, Any] = {
    "employer_id": "12345678901234",
    "employer_name": "株式会社髙﨑建設",
    "worker_id": "98765432109876",
    "worker_name": "𠮷野 太郎",
    "worker_name_kana": "ヨシノ タロウ",
    "name": "𠮷野 太郎",
    "name_kana": "ヨシノ タロウ",
    "login_id": "takasaki01",
    "email": "jimu@takasaki-kensetsu.example.jp",
    "application_id": "AP-20261128-7K3QWZ",
    "line_id": "AP-20261128-7K3QWZ-01",
    "line_ids": ["AP-20261128-7K3QWZ-01"],
    "judgement_id": "AP-20261128-7K3QWZ-01",
    "previous_judgement_id": "AP-20261128-7K3QWZ-01",
    "consent_id": "CN-20261120-4M8P2D",
    "notice_id": "RN-AP-20261128-7K3QWZ-01",
    "trade": "鉄筋",
    "evaluation_body": "公益社団法人全国鉄筋工事業協会",
    "criteria_version": "鉄筋@2026-01-01",
    "version": "鉄筋@2026-01-01",
    "scopes": ["view_ccus_data", "proxy_application", "card_issuance", "fee"],
    "code": "QK7D-2M9X-H4TP",
    "occupation_code": "0510",
    "snapshot_id": "98765432109876@2026-11-27T21:00:00Z",
    "run_id": "RJ-20261201-0001",
    "chunk_id": "RJ-20261201-0001-0001",
    "site_id": "S-0001",
    "document_id": "RN-AP-20261128-7K3QWZ-01",
    "reason": "判定基準の訂正（鉄筋 レベル3 の就業日数）",
    "reason_ja": "判定基準の訂正（鉄筋 レベル3 の就業日数）",
    "requested_level": 3,
    "eligible_level": 3,
    "level": 3,
    "decision": "approved",
    "fee_yen": 4000,
    "fee_total_yen": 4000,
}


SOURCES = {"partner": "judgement"}
"""The emitting service of a topic whose first part does not name it."""


def _value(name: str, annotation: Any) -> Any:
    if name in SAMPLES:
        return SAMPLES[name]
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is typing.Annotated:
        return _value(name, args[0])
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return _value(name, real[0]) if real else None
    if origin is Literal:
        return args[0]
    if origin in (list, tuple, set, frozenset):
        return [_value(name, args[0])] if args else []
    if origin is dict:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return example_of(annotation)
        if issubclass(annotation, bool):
            return True
        if issubclass(annotation, int):
            return 1
        if issubclass(annotation, datetime):
            return AT.isoformat()
        if issubclass(annotation, date):
            return AT.date().isoformat()
    return "例"


def example_of(model: type[BaseModel]) -> dict[str, Any]:
    """A valid instance of ``model`` as JSON-ready data (every field given)."""
    hints = typing.get_type_hints(model, include_extras=True)
    data = {name: _value(name, hints.get(name, str)) for name in model.model_fields}
    return model.model_validate(data).model_dump(mode="json")


def headers_of(model: type[Event]) -> dict[str, str]:
    """The CloudEvents headers of the example (``shared_kernel.events.Envelope``)."""
    payload = example_of(model)
    subject = str(payload.get(model.KEY_FIELD, ""))
    return {
        "ce_specversion": "1.0",
        "ce_id": "0f8e4b5c-6a1d-4f0e-9b7a-3c2d1e0f9a8b",
        "ce_type": model.ce_type(),
        "ce_source": SOURCES.get(model.TOPIC.split(".")[0], model.TOPIC.split(".")[0]),
        "ce_time": AT.isoformat().replace("+00:00", "Z"),
        "ce_subject": subject,
        "ce_correlationid": "5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
        "correlation_id": "5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
        "content-type": "application/json",
    }
