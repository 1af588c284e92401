"""Settings: per-service env prefix, shared infrastructure names, no placeholder secrets."""

import pytest
from pydantic import ValidationError

from shared_kernel.settings import ServiceSettings, service_config


class DemoSettings(ServiceSettings):
    model_config = service_config("DEMO_")
    service_name: str = "demo"


def test_service_prefix_and_shared_infrastructure_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_HTTP_PORT", "9123")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:1")
    monkeypatch.setenv("MONGODB_URL", "mongodb://m:2/")
    s = DemoSettings()
    assert (s.http_port, s.kafka_bootstrap_servers, s.mongodb_url) == (
        9123,
        "k:1",
        "mongodb://m:2/",
    )


def test_topic_prefix() -> None:
    assert (
        DemoSettings(topic_prefix="t1.").topic("judgement.judgements") == "t1.judgement.judgements"
    )


def test_placeholder_secret_is_accepted_in_development_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    assert DemoSettings().jwt_secret.get_secret_value().startswith("changethis")
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ValidationError, match="placeholder secret"):
        DemoSettings()
    monkeypatch.setenv("JWT_SECRET", "changethis")
    with pytest.raises(ValidationError, match="placeholder secret"):
        DemoSettings()
    monkeypatch.setenv("JWT_SECRET", "short-but-not-a-placeholder")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        DemoSettings()
    monkeypatch.setenv("JWT_SECRET", "9f2c1e7a4b8d0f3e6a5c2b1d8e7f4a3c")
    assert DemoSettings().environment == "production"
