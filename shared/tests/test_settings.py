"""Settings: per-service env prefix, shared infrastructure names, no placeholder secrets."""

import pytest
from pydantic import SecretStr, ValidationError

from shared_kernel.infra.settings import ServiceSettings, service_config


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


class SecretSettings(ServiceSettings):
    model_config = service_config("DEMO_")
    service_name: str = "demo"
    secret: SecretStr = SecretStr("changethis-demo-secret")


def test_placeholder_secrets_are_refused_outside_development_and_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    # read, but a development service refuses to serve with it (serve_cli, below)
    assert SecretSettings().insecure_secrets() == ["secret"]
    assert SecretSettings().env_name("secret") == "DEMO_SECRET"
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ValidationError, match="placeholder secret"):
        SecretSettings()
    monkeypatch.setenv("DEMO_SECRET", "changethis")
    with pytest.raises(ValidationError, match="placeholder secret"):
        SecretSettings()
    monkeypatch.setenv("DEMO_SECRET", "short-but-not-a-placeholder")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        SecretSettings()
    monkeypatch.setenv("DEMO_SECRET", "9f2c1e7a4b8d0f3e6a5c2b1d8e7f4a3c")
    assert SecretSettings().environment == "production"
    assert SecretSettings().insecure_secrets() == []


def test_a_development_service_refuses_to_serve_with_a_placeholder(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fastapi import FastAPI

    from shared_kernel.infra.service import serve_cli

    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setattr("sys.argv", ["demo", "serve"])
    started: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(a))
    assert serve_cli("demo", SecretSettings, lambda s: FastAPI()) == 2
    assert "DEMO_SECRET" in capsys.readouterr().err and not started
    monkeypatch.setenv("DEMO_SECRET", "9f2c1e7a4b8d0f3e6a5c2b1d8e7f4a3c")
    assert serve_cli("demo", SecretSettings, lambda s: FastAPI()) == 0
    assert started


def test_only_tests_may_turn_the_revocation_check_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_REVOCATION_CHECK", "false")
    for environment in ("development", "staging", "production"):
        monkeypatch.setenv("APP_ENV", environment)
        with pytest.raises(ValidationError, match="AUTH_REVOCATION_CHECK"):
            DemoSettings()
    monkeypatch.setenv("APP_ENV", "test")
    assert DemoSettings().auth_revocation_check is False
