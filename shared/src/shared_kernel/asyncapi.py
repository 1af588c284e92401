"""The events' public contract as an AsyncAPI document, generated with FastStream.

    uv run python -m shared_kernel.asyncapi --write   # regenerate docs/asyncapi.json
    uv run python -m shared_kernel.asyncapi --check   # exit 1 if the committed one differs

Every event of the catalogue is declared as a publication on its topic, with its payload
schema (the pydantic model) and the CloudEvents headers; a test regenerates the document
and compares it with the committed one, so the contract never drifts silently.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from shared_kernel.events.catalogue import CATALOGUE

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"
HEADERS = (
    "CloudEvents 1.0, Kafka binary mode. Headers: ce_specversion=1.0, ce_id (unique event id; "
    "the same on redelivery and replay), ce_type (the type below, version suffix included), "
    "ce_source (the emitting service), ce_time (RFC 3339), ce_subject (the aggregate id, also "
    "the message key), ce_correlationid (follows one application across services), "
    "content-type=application/json."
)


def contract_broker() -> KafkaBroker:
    broker = KafkaBroker("kafka:9092")
    for model in CATALOGUE.models():
        doc = " ".join((model.__doc__ or "").split())
        broker.publisher(
            model.TOPIC,
            title=f"{model.TOPIC}:{model.ce_type()}",
            description=f"{model.ce_type()} — {doc} Key: {model.KEY_FIELD}. {HEADERS}",
            schema=model,
        )
    return broker


def render() -> str:
    spec = AsyncAPI(
        contract_broker(),
        title="能力評価システム events",
        version="1",
        description=(
            "Events of the CCUS skill-level judgement system (能力評価システム). "
            "Compatibility: within a version only additive, optional changes; any other "
            "change is a new version (ce_type suffix .vN) published beside the old one until "
            "consumers have moved. Topic names get the deployment's TOPIC_PREFIX. See "
            "docs/events.md."
        ),
    ).to_specification()
    return (
        json.dumps(json.loads(spec.to_json()), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    )


def main(argv: list[str]) -> int:
    if argv not in (["--write"], ["--check"]):
        print("usage: python -m shared_kernel.asyncapi --write|--check", file=sys.stderr)
        return 2
    text = render()
    if argv == ["--write"]:
        DOCUMENT.write_text(text, encoding="utf-8")
        return 0
    if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != text:
        print(
            f"{DOCUMENT}: out of date; run: python -m shared_kernel.asyncapi --write",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
