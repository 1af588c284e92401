"""Sealed secrets in events: readable only by the services that hold the sealing key.

The temporary password of 利用者仮申請 must reach the notification service (which mails
it) without ever being readable in Kafka, a database or a log. The identity service seals
it with ``MAIL_SEALING_KEY`` (Fernet: AES-128-CBC + HMAC-SHA256, with a timestamp) and only
the notification service, which holds the same key, unseals it to write the mail. The
event log keeps only the sealed token, which also expires (``max_age``).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SealError(ValueError):
    """The token is not sealed with this key, was altered, or has expired."""


def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(key: str, plaintext: str) -> str:
    return _fernet(key).encrypt(plaintext.encode()).decode()


def unseal(key: str, token: str, *, max_age_seconds: int | None = None) -> str:
    try:
        return _fernet(key).decrypt(token.encode(), ttl=max_age_seconds).decode()
    except InvalidToken as exc:
        raise SealError("sealed value cannot be opened with this key or has expired") from exc
