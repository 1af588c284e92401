"""Settings: the sealing key shared with identity, SMTP options, production guards."""

from __future__ import annotations

import pytest

from notification.config import DEVELOPMENT_SEALING_KEY, Settings

STRONG = "x" * 40


def test_defaults_match_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAIL_SEALING_KEY", raising=False)
    settings = Settings()
    assert settings.mail_sealing_key.get_secret_value() == DEVELOPMENT_SEALING_KEY
    assert DEVELOPMENT_SEALING_KEY == "changethis-development-mail-sealing-key"
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 1025)
    assert (settings.smtp_tls, settings.smtp_starttls) == (False, False)
    assert settings.portal_base_url == "http://127.0.0.1:8000"
    assert settings.http_port == 8005


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIL_SEALING_KEY", "k" * 40)
    monkeypatch.setenv("NOTIFICATION_SMTP_STARTTLS", "true")
    monkeypatch.setenv("NOTIFICATION_SMTP_PASSWORD", "short")
    monkeypatch.setenv("NOTIFICATION_MAIL_FROM", "事務局 <jimu@example.jp>")
    settings = Settings()
    assert settings.mail_sealing_key.get_secret_value() == "k" * 40
    assert settings.smtp_starttls is True
    assert settings.smtp_password == "short"
    assert "short" not in repr(settings)
    assert settings.mail_from == "事務局 <jimu@example.jp>"


def test_production_refuses_the_development_sealing_key() -> None:
    with pytest.raises(ValueError, match="mail_sealing_key holds a placeholder secret"):
        Settings(environment="production", jwt_secret=STRONG)  # type: ignore[arg-type]
    ok = Settings(
        environment="production",
        jwt_secret=STRONG,  # type: ignore[arg-type]
        mail_sealing_key=STRONG,  # type: ignore[arg-type]
        smtp_password="short-smtp-password",
    )
    assert ok.smtp_password == "short-smtp-password"
