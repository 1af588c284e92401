"""CSRF protection of every form: a per-session token plus an origin check.

Every form carries the session's token in the hidden field ``csrf_token``; a POST whose
field does not equal the token in the (sealed, HttpOnly, SameSite=Lax) cookie is refused.
When the browser sends ``Origin`` (every current browser does on a POST), it must also be
the portal's own origin.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

FIELD = "csrf_token"


def token_matches(expected: str | None, submitted: str | None) -> bool:
    """Constant-time comparison; a missing token on either side never matches."""
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether an ``Origin`` header names this host.

    No header: rely on the token alone (older browsers, some same-origin form posts).
    ``null`` (a sandboxed frame, a redirect across origins) is refused. The scheme is not
    compared: behind a TLS-terminating proxy the portal itself sees plain HTTP.
    """
    if origin is None:
        return True
    parts = urlsplit(origin)
    if not parts.scheme or not parts.netloc or not host:
        return False
    return parts.netloc.lower() == host.lower()


def request_allowed(
    *, expected: str | None, submitted: str | None, origin: str | None, host: str | None
) -> bool:
    """The two checks every POST passes."""
    return token_matches(expected, submitted) and same_origin(origin, host)
