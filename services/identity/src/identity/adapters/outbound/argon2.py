"""argon2id password hashing (argon2-cffi), off the event loop and with bounded concurrency.

Each hash takes ``memory_kib`` of memory and tens of milliseconds of CPU, so at most
``concurrency`` run at once (in threads); the rest wait. ``verify_dummy`` checks against a
hash of a random password made at start-up, so a login for an unknown ID costs the same as
one for a known ID.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Hasher:
    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_kib: int = 65536,
        parallelism: int = 4,
        concurrency: int = 4,
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._dummy = self._argon2.hash(secrets.token_urlsafe(24))
        self._slots = asyncio.Semaphore(concurrency)

    def hash_now(self, password: str) -> str:
        """Hash in the calling thread (for the command line)."""
        return self._argon2.hash(password)

    def verify_now(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self.verify_now, password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        await self.verify(self._dummy, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return False
