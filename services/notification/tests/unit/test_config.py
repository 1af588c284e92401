"""Settings: SMTP options, the defaults of the local stack; no key of identity's."""

from __future__ import annotations

import pytest

from notification.config import Settings


def test_defaults_match_the_local_stack() -> None:
    settings = Settings()
    assert not hasattr(settings, "mail_sealing_key")  # issue 22: no secret reaches this service
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 1025)
    assert (settings.smtp_tls, settings.smtp_starttls) == (False, False)
    assert settings.portal_base_url == "http://127.0.0.1:8000"
    assert settings.http_port == 8005


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICATION_SMTP_STARTTLS", "true")
    monkeypatch.setenv("NOTIFICATION_SMTP_PASSWORD", "short")
    monkeypatch.setenv("NOTIFICATION_MAIL_FROM", "事務局 <jimu@example.jp>")
    settings = Settings()
    assert settings.smtp_starttls is True
    assert settings.smtp_password == "short"
    assert "short" not in repr(settings)
    assert settings.mail_from == "事務局 <jimu@example.jp>"


def test_production_takes_a_short_smtp_password() -> None:
    ok = Settings(environment="production", smtp_password="short-smtp-password")
    assert ok.smtp_password == "short-smtp-password"
