"""Loading a service's pydantic settings class from a rendered environment (compose, k8s)."""

from __future__ import annotations

import importlib
import os
import re
from typing import Any

from pydantic import BaseModel, SecretStr

# compose service → its settings class (every container of our image has one)
SETTINGS = {
    "portal": "portal.config:Settings",
    "identity": "identity.config:Settings",
    "consent": "consent.config:Settings",
    "application": "application.config:Settings",
    "judgement": "judgement.config:Settings",
    "notification": "notification.config:Settings",
    "document": "document.config:Settings",
    "demo-data": "judgement.feed.settings:FeedSettings",
}
# unprefixed variables the settings read (shared_kernel.infra.settings and the services' aliases)
SHARED = (
    "APP_ENV",
    "ENVIRONMENT",
    "AUTH_ISSUER_URL",
    "AUTH_JWKS",
    "AUTH_REVOCATION_CHECK",
    "LOG_LEVEL",
    "TOPIC_PREFIX",
    "KAFKA_BOOTSTRAP_SERVERS",
    "MONGODB_URL",
    "FERRETDB_POSTGRESQL_URL",
)
LOOPBACK = re.compile(
    r"(?:^|[/@,\s=]|^\w+://)(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?|0\.0\.0\.0)(?=$|[:/,\s?])",
    re.IGNORECASE,
)


def load_settings(service: str, environment: dict[str, str], monkeypatch: Any) -> BaseModel:
    module, _, name = SETTINGS[service].partition(":")
    cls = getattr(importlib.import_module(module), name)
    prefix = cls.model_config.get("env_prefix", "")
    for key in list(os.environ):
        if key in SHARED or (prefix and key.upper().startswith(prefix)):
            monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    instance: BaseModel = cls(_env_file=None)  # a developer's own .env must not count
    return instance


def loopbacks(settings: BaseModel) -> list[str]:
    found = []
    for name, value in settings:
        if name == "http_host" or isinstance(value, SecretStr):
            continue
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and LOOPBACK.search(text):
                found.append(f"{name}={text}")
    return found
