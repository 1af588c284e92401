"""Password hashing (implemented with argon2id by ``adapters.outbound.argon2``)."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str:
        """A salted one-way hash of ``password``."""
        ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; ``False`` for a mismatch or an unreadable hash."""
        ...

    async def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification (when there is no user to check against)."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones."""
        ...
