"""Random secrets: generated passwords, activation links and session tokens (no I/O).

An **activation token** (the secret of the link a 利用者仮申請 mails) is
``<login ID>.<256 random bits>``: the login ID names the account, the random part is the
secret; only its SHA-256 is stored (like a session token: high entropy, so a fast hash is
enough and a database leak reveals no usable link).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O
LOWER = "abcdefghijkmnpqrstuvwxyz"  # no l, o
DIGITS = "23456789"  # no 0, 1
ALPHABET = UPPER + LOWER + DIGITS


def generate_password(length: int = 12) -> str:
    """A random password that is easy to copy from a mail (no look-alike characters).

    It always holds an upper-case letter, a lower-case letter and a digit, so it also
    satisfies the password policy (the admin CLI uses it for staff accounts).
    """
    if length < 3:
        raise ValueError("a generated password needs at least 3 characters")
    chars = [secrets.choice(UPPER), secrets.choice(LOWER), secrets.choice(DIGITS)]
    chars += [secrets.choice(ALPHABET) for _ in range(length - 3)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def new_session_token() -> str:
    """The value of the session cookie (256 random bits)."""
    return secrets.token_urlsafe(32)


def session_key(token: str) -> str:
    """What the ``sessions`` collection stores as ``_id``: a database leak reveals no token."""
    return hashlib.sha256(token.encode()).hexdigest()


_ACTIVATION = re.compile(r"([A-Za-z0-9]{8,16})\.([A-Za-z0-9_-]{43})")


def new_activation_secret() -> str:
    """The random part of an activation token (256 bits)."""
    return secrets.token_urlsafe(32)


def activation_token(login_id: str, secret: str) -> str:
    return f"{login_id}.{secret}"


def parse_activation_token(token: str | None) -> tuple[str, str] | None:
    """``(login ID, secret)`` of a well-formed activation token, else ``None``."""
    match = _ACTIVATION.fullmatch(token or "")
    return (match[1], match[2]) if match else None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_hash(stored: str, secret: str) -> bool:
    return hmac.compare_digest(stored, secret_hash(secret))
