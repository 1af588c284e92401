"""The CloudEvents envelope: headers, round trip and every way a message can be malformed."""

from datetime import UTC, date, datetime

import pytest

from shared_kernel.events import CATALOGUE, Envelope, MalformedEvent
from shared_kernel.events.catalogue import ApplicationLine, ApplicationSubmitted, UserActivated
from shared_kernel.events.envelope import MAX_EVENT_BYTES
from shared_kernel.infra.logging import correlation_scope


def submitted() -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id="A-20261128-0001",
        employer_id="12345678901234",
        application_date=date(2026, 11, 28),
        submitted_at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        fee_total_yen=4000,
        lines=[
            ApplicationLine(
                line_id="A-20261128-0001-1",
                worker_id="98765432109876",
                worker_name="髙﨑 𠮷野",
                worker_name_kana="タカサキ ヨシノ",
                birth_date=date(1980, 4, 1),
                trade="鉄筋",
                requested_level=3,
                foreman_months=30,
                fee_yen=4000,
            )
        ],
    )


def test_headers_follow_cloudevents_binary_mode() -> None:
    with correlation_scope("corr-1"):
        envelope = Envelope(submitted(), source="application")
    headers = envelope.headers()
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "jp.ccus.level.application.submitted.v1"
    assert headers["ce_source"] == "application"
    assert headers["ce_correlationid"] == "corr-1"
    assert headers["ce_subject"] == "A-20261128-0001"
    assert datetime.fromisoformat(headers["ce_time"]).tzinfo is not None
    assert envelope.key == "A-20261128-0001"
    assert envelope.topic == "application.applications"


def test_round_trip_keeps_id_payload_and_correlation() -> None:
    envelope = Envelope(submitted(), source="application", correlation_id="c")
    decoded = CATALOGUE.decode(envelope.headers(), envelope.value())
    assert decoded == envelope
    assert decoded.event.lines[0].worker_name == "髙﨑 𠮷野"  # type: ignore[attr-defined]


def test_outbox_document_round_trip() -> None:
    envelope = Envelope(submitted(), source="application")
    assert CATALOGUE.from_document(envelope.to_document()) == envelope


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"drop": "ce_id"}, "missing CloudEvents headers: ce_id"),
        ({"drop": "ce_type"}, "missing CloudEvents headers: ce_type"),
        ({"set": ("ce_type", "jp.ccus.level.application.submitted.v9")}, "unknown event type"),
        ({"set": ("ce_specversion", "0.3")}, "unsupported specversion"),
        ({"set": ("ce_time", "yesterday")}, "bad ce_time"),
        ({"value": b"{not json"}, "payload does not match"),
        ({"value": b'{"application_id": "x"}'}, "payload does not match"),
        ({"value": b" " * (MAX_EVENT_BYTES + 1)}, "exceeds"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(
    change: dict[str, object], reason: str
) -> None:
    envelope = Envelope(submitted(), source="application")
    headers, value = envelope.headers(), envelope.value()
    if "drop" in change:
        del headers[str(change["drop"])]
    if "set" in change:
        key, new = change["set"]  # type: ignore[misc]
        headers[key] = new
    if "value" in change:
        value = change["value"]  # type: ignore[assignment]
    with pytest.raises(MalformedEvent, match=reason):
        CATALOGUE.decode(headers, value)


def test_events_are_frozen_and_refuse_unknown_fields() -> None:
    event = UserActivated(
        login_id="kensetsu01",
        email="a@example.jp",
        employer_id="12345678901234",
        employer_name="株式会社テスト",
        activated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(ValueError):
        event.login_id = "other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        UserActivated.model_validate({**event.model_dump(), "password": "x"})
