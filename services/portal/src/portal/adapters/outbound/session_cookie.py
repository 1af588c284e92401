"""The session cookie sealed with Fernet (AES-128-CBC + HMAC-SHA256 over the timestamped
payload), keyed from ``PORTAL_COOKIE_SECRET``: implements ``ports.session.SessionSealer``."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken

from portal.core.session import Session

KEY_CONTEXT = b"noryoku-portal-session-cookie-v1|"


def derive_key(secret: str) -> bytes:
    """The Fernet key of the cookie: 32 bytes derived from the configured secret."""
    digest = hashlib.sha256(KEY_CONTEXT + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


class SessionCodec:
    """Seals a :class:`Session` into a cookie value and opens it again."""

    def __init__(self, secret: str, max_age_seconds: float) -> None:
        self._fernet = Fernet(derive_key(secret))
        self.max_age_seconds = int(max_age_seconds)

    def seal(self, session: Session, now: float) -> str:
        data = json.dumps(session.to_payload(), separators=(",", ":"), ensure_ascii=False)
        token = self._fernet.encrypt_at_time(data.encode(), int(now))
        return token.decode("ascii")

    def open(self, value: str | None, now: float) -> Session | None:
        """The session in ``value``, or ``None`` if it is missing, forged, altered or too old."""
        if not value:
            return None
        try:
            data = self._fernet.decrypt_at_time(
                value.encode("ascii"), self.max_age_seconds, int(now)
            )
            payload = json.loads(data)
        except (InvalidToken, UnicodeError, ValueError):
            return None
        if not isinstance(payload, dict):
            return None
        return Session.from_payload(payload)
