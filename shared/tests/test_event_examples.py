"""Every event of the catalogue has an example in the partners' contract, valid for its model."""

from __future__ import annotations

import pytest

from shared_kernel.events import CATALOGUE
from shared_kernel.events.examples import example_of, headers_of
from shared_kernel.infra.asyncapi import enrich

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("model", CATALOGUE.models(), ids=lambda m: m.ce_type())
def test_each_event_has_a_valid_example_with_its_headers(model: type) -> None:
    payload = example_of(model)
    assert model.model_validate(payload).model_dump(mode="json") == payload
    headers = headers_of(model)
    assert headers["ce_type"] == model.ce_type()
    assert headers["ce_subject"] == str(payload[model.KEY_FIELD])


def test_the_contract_gets_headers_examples_and_the_security_scheme() -> None:
    key = "judgement.judgements:jp.ccus.level.judgement.completed.v2:Message"
    document = enrich({"components": {"messages": {key: {"payload": {}}}}, "servers": {}})
    message = document["components"]["messages"][key]
    assert message["headers"] == {"$ref": "#/components/schemas/CloudEventHeaders"}
    assert message["examples"][0]["payload"]["worker_name"] == "𠮷野 太郎"
    assert document["servers"]["production"]["security"] == [
        {"$ref": "#/components/securitySchemes/scramSha512"}
    ]
