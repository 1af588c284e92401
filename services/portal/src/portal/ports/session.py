"""Sealing the portal's session into its cookie (encrypted and signed) and opening it again."""

from __future__ import annotations

from typing import Protocol

from portal.core.session import Session


class SessionSealer(Protocol):
    def seal(self, session: Session, now: float) -> str:
        """The cookie value carrying ``session``, sealed at ``now``."""
        ...

    def open(self, value: str | None, now: float) -> Session | None:
        """The session in ``value``, or ``None`` if it is missing, forged, altered or too old."""
        ...
