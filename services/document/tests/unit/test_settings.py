"""The signing key: a placeholder is refused outside development (pure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from document.config import Settings

REAL_KEY = "k3y-0f-th3-d0cument-s3rvice-0123456789"
REAL_JWT = "jwt-secret-of-the-stack-0123456789abcdef"


def test_placeholder_signing_key_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="signing_key holds a placeholder secret"):
        Settings(environment="production", jwt_secret=REAL_JWT)


def test_short_signing_key_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="signing_key must be at least 32 bytes"):
        Settings(environment="production", jwt_secret=REAL_JWT, DOCUMENT_SIGNING_KEY="short")


def test_real_signing_key_is_accepted_and_development_keeps_the_placeholder() -> None:
    settings = Settings(
        environment="production", jwt_secret=REAL_JWT, DOCUMENT_SIGNING_KEY=REAL_KEY
    )
    assert settings.signing_key.get_secret_value() == REAL_KEY
    assert "changethis" not in repr(settings)  # a SecretStr never shows its value
    assert (
        Settings(environment="development").signing_key.get_secret_value().startswith("changethis")
    )
