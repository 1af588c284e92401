"""Migrations of identity's stored data (``python -m identity migrate``): every document
stored in an older format is read by the core's models afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from identity.core.accounts import User
from identity.core.binding import UNBOUND
from identity.core.throttle import AccountAttempts
from identity.inject import wire
from shared_kernel.infra.mongo import DocumentStore
from shared_kernel.infra.repository import Repository
from shared_kernel.infra.runtime import migrate
from shared_kernel.infra.settings import ServiceSettings
from shared_kernel.infra.testing import wired

from .conftest import identity_settings

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PROFILE = {
    "employer_name": "株式会社テスト建設",
    "address": "東京都千代田区霞が関1-1",
    "representative_name": "山田 太郎",
    "phone_number": "03-1234-5678",
    "permit_number": None,
}


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


def stored_with_temporary_password(login_id: str, status: str) -> dict[str, Any]:
    """An employer account as stored when 仮申請 mailed a temporary password."""
    active = status == "active"
    return {
        "_id": login_id,
        "version": 1,
        "login_id": login_id,
        "role": "employer",
        "status": status,
        "email": f"{login_id.lower()}@example.jp",
        "employer_id": "12345678901234",
        "registration": None if active else PROFILE,
        "temporary_password": None
        if active
        else {"hash": "sealed", "issued_at": NOW, "expires_at": NOW + timedelta(hours=24)},
        "registrations": 1,
        "password_hash": "$argon2id$..." if active else None,
        "password_changed_at": NOW if active else None,
        "created_at": NOW,
        "activated_at": NOW if active else None,
        "updated_at": NOW,
    }


async def test_documents_of_older_formats_are_rewritten_once(
    settings: ServiceSettings, db: Any
) -> None:
    async with wired(identity_settings(settings), wire) as (runtime, _):
        await db["users"].insert_many(
            [
                stored_before_bindings("Hyoka0002"),
                stored_with_temporary_password("Kensetsu01", "active"),
                stored_with_temporary_password("Kensetsu02", "provisional"),
            ]
        )
        lockout = {"failures": [NOW, NOW + timedelta(minutes=1)], "locked_until": None}
        await db["login_attempts"].insert_one({"_id": "Kensetsu01", "version": 3, **lockout})
        done = await migrate(runtime)
        assert done[-3:] == [
            "0002-user-binding-fields",
            "0003-user-activation-link",
            "0004-login-attempts-throttle",
        ]
        users = Repository(DocumentStore(db, "users"), User)
        staff = await users.get("Hyoka0002")
        assert staff is not None and staff.binding == UNBOUND
        assert (staff.body, staff.trades, staff.bound_at) == (None, None, None)
        assert staff.version == 2  # written by _id + version like every write
        employer = await users.get("Kensetsu01")
        assert employer is not None and employer.is_active and employer.activation is None
        pending = await users.get("Kensetsu02")
        assert pending is not None and pending.is_provisional and pending.activation is None
        assert pending.pending_until == NOW + timedelta(hours=24)  # purged then
        attempts = Repository(DocumentStore(db, "login_attempts"), AccountAttempts)
        account = await attempts.get("Kensetsu01")
        assert account is not None and account.login_id == "Kensetsu01"
        assert account.last_seen_at == account.last_failure_at == NOW + timedelta(minutes=1)
        assert await migrate(runtime) == []  # recorded: never run twice
