"""The portal's session: what its cookie holds, sealed (encrypted and signed) with its secret.

The portal keeps no server-side state. A visitor's cookie carries:

* ``csrf`` — the per-session token every form echoes back (synchronizer token; the cookie is
  sealed and HttpOnly, so a page of another origin can neither read nor forge it);
* after login: identity's session id (``identity_session``, the value of identity's own
  session cookie), the short-lived access token and its expiry, the session's public id
  (``session_id``: the token's ``sid``, which the portal checks against the sessions that
  ended — its own logout at once, others within the services' revocation window), and the
  login's subject, role and 事業者ID (for display; every service checks the token itself);
* during 利用者本申請: the activation link's token (taken off the address bar at once);
* ``flash`` — messages to show on the next page (after a redirect).

The cookie is sealed by a ``ports.session.SessionSealer`` (the Fernet adapter in
``adapters/outbound/session_cookie.py``): a changed byte, another key or an age beyond the
limit makes it invalid and the visitor simply starts a new anonymous session.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_VERSION = 1


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Session:
    """One browser's session (anonymous until ``login_id`` is set)."""

    csrf: str = field(default_factory=new_csrf_token)
    login_id: str | None = None
    role: str | None = None
    employer_id: str | None = None
    identity_session: str | None = None
    access_token: str | None = None
    access_expires_at: float | None = None
    session_expires_at: float | None = None
    session_id: str | None = None
    activation_token: str | None = None
    flash: list[list[str]] = field(default_factory=list)
    dirty: bool = field(default=False, compare=False)

    @property
    def authenticated(self) -> bool:
        return bool(self.login_id and self.identity_session and self.access_token)

    def add_flash(self, kind: str, message: str) -> None:
        self.flash.append([kind, message])
        self.dirty = True

    def pop_flash(self) -> list[list[str]]:
        messages, self.flash = self.flash, []
        if messages:
            self.dirty = True
        return messages

    def log_in(
        self,
        *,
        login_id: str,
        role: str,
        employer_id: str | None,
        identity_session: str,
        access_token: str,
        access_expires_at: float,
        session_expires_at: float | None,
        session_id: str | None = None,
    ) -> None:
        """Become the user's session; the CSRF token is renewed (no session fixation)."""
        self.csrf = new_csrf_token()
        self.session_id = session_id
        self.activation_token = None
        self.login_id = login_id
        self.role = role
        self.employer_id = employer_id
        self.identity_session = identity_session
        self.access_token = access_token
        self.access_expires_at = access_expires_at
        self.session_expires_at = session_expires_at
        self.dirty = True

    def renew_token(self, access_token: str, access_expires_at: float) -> None:
        self.access_token = access_token
        self.access_expires_at = access_expires_at
        self.dirty = True

    def log_out(self) -> None:
        """Forget the user (a new CSRF token, flash messages kept for the next page)."""
        self.csrf = new_csrf_token()
        self.login_id = self.role = self.employer_id = None
        self.identity_session = self.access_token = self.session_id = None
        self.access_expires_at = self.session_expires_at = None
        self.dirty = True

    def token_due(self, now: float, margin_seconds: float) -> bool:
        """Whether the access token must be renewed before it is used."""
        return self.access_expires_at is None or self.access_expires_at - margin_seconds <= now

    def expired(self, now: float) -> bool:
        return self.session_expires_at is not None and self.session_expires_at <= now

    def to_payload(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("dirty")
        return {"v": FORMAT_VERSION, **{k: v for k, v in data.items() if v not in (None, [])}}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Session | None:
        if payload.get("v") != FORMAT_VERSION or not isinstance(payload.get("csrf"), str):
            return None
        known = {k: v for k, v in payload.items() if k in cls.__dataclass_fields__}
        known.pop("dirty", None)
        try:
            return cls(**known)
        except TypeError:
            return None
