"""Random secrets: temporary passwords and session tokens (``secrets`` module, no I/O)."""

from __future__ import annotations

import hashlib
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
