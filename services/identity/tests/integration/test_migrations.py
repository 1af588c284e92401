"""Migrations of identity's stored data (``python -m identity migrate``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from identity.core.accounts import User
from identity.core.binding import UNBOUND
from identity.inject import wire
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.runtime import build_runtime, migrate
from shared_kernel.infra.settings import ServiceSettings

from .conftest import identity_settings

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def stored_before_bindings(login_id: str) -> dict[str, Any]:
    """A staff account as stored before accounts had a binding (no body, trades, bound_at)."""
    return {
        "_id": login_id,
        "version": 1,
        "login_id": login_id,
        "role": "evaluator",
        "status": "active",
        "email": f"{login_id.lower()}@example.jp",
        "employer_id": None,
        "registration": None,
        "activation": None,
        "registrations": 0,
        "password_hash": "$argon2id$...",
        "password_changed_at": NOW,
        "created_at": NOW,
        "activated_at": NOW,
        "updated_at": NOW,
        "created_by": "admin-cli",
    }


async def test_accounts_stored_before_bindings_are_migrated_unbound(
    settings: ServiceSettings, db: Any
) -> None:
    runtime = build_runtime(identity_settings(settings))
    try:
        wire(runtime)
        await db["users"].insert_one(stored_before_bindings("Hyoka0002"))
        assert "0002-user-binding-fields" in await migrate(runtime)
        users = Repository(DocumentStore(db, "users"), User)
        migrated = await users.get("Hyoka0002")
        assert migrated is not None and migrated.binding == UNBOUND
        assert (migrated.body, migrated.trades, migrated.bound_at) == (None, None, None)
        assert migrated.version == 2  # written by _id + version like every write
        assert await migrate(runtime) == []  # recorded: never run twice
    finally:
        await runtime.mongo.close()
