"""Unit tests of the account lifecycle: 仮申請, expiry, 本申請, lockout window, audit, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from identity.core import accounts, forms
from identity.core.accounts import LockoutPolicy
from identity.core.errors import (
    EmployerAlreadyRegistered,
    InvalidTemporaryCredentials,
    LoginIdTaken,
    TemporaryPasswordExpired,
)
from shared_kernel.events.catalogue import UserActivated, UserProvisionallyRegistered

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=24)
RAW = {
    "login_id": "Kensetsu01",
    "email": "taro@example.jp",
    "employer_id": "12345678901234",
    "employer_name": "株式会社テスト建設",
    "address": "東京都千代田区霞が関1-1",
    "representative_name": "山田 太郎",
    "phone_number": "03-1234-5678",
    "permit_number": "国土交通大臣許可(特-25)第123号",
}


def register(doc: dict[str, Any] | None, *, hash_: str = "h1", at: datetime = NOW) -> Any:
    return accounts.provisional_registration(
        doc,
        forms.parse_registration(dict(RAW)),
        temporary_password_hash=hash_,
        sealed_temporary_password=f"sealed-{hash_}",
        now=at,
        ttl=TTL,
    )


def test_provisional_registration_stores_hash_and_raises_the_event() -> None:
    doc, events = register(None)
    assert doc["status"] == "provisional" and doc["role"] == "employer"
    assert doc["temporary_password"] == {"hash": "h1", "issued_at": NOW, "expires_at": NOW + TTL}
    assert doc["registration"]["permit_number"]["text"] == "国土交通大臣許可(特-25)第123号"
    assert doc["registrations"] == 1
    [envelope] = events
    assert isinstance(envelope.event, UserProvisionallyRegistered)
    assert envelope.event.model_dump() == {
        "login_id": "Kensetsu01",
        "email": "taro@example.jp",
        "employer_id": "12345678901234",
        "employer_name": "株式会社テスト建設",
        "expires_at": NOW + TTL,
        "sealed_temporary_password": "sealed-h1",
    }
    assert envelope.key == "Kensetsu01" and envelope.source == "identity"


def test_reapplying_before_activation_replaces_the_temporary_password() -> None:
    first, _ = register(None)
    later = NOW + timedelta(hours=30)
    second, events = register(first, hash_="h2", at=later)
    assert second["temporary_password"]["hash"] == "h2"
    assert second["temporary_password"]["expires_at"] == later + TTL
    assert second["registrations"] == 2 and second["created_at"] == NOW
    assert events[0].event.sealed_temporary_password == "sealed-h2"  # type: ignore[attr-defined]


def test_an_active_login_id_is_taken() -> None:
    doc, _ = register(None)
    active, _ = accounts.activation(doc, temporary_password_hash="h1", password_hash="p", now=NOW)
    with pytest.raises(LoginIdTaken) as raised:
        register(active)
    assert raised.value.message == (
        "このログインIDは既に使用されています。別のログインIDを指定してください。"
    )
    staff = accounts.staff_user("Hyoka0001", "evaluator", "h@example.jp", "p", NOW)
    with pytest.raises(LoginIdTaken):
        register(staff)


def test_temporary_password_expiry_boundary() -> None:
    doc, _ = register(None)
    assert not accounts.temporary_password_expired(doc, NOW + TTL - timedelta(microseconds=1))
    assert accounts.temporary_password_expired(doc, NOW + TTL)


def test_activation_after_expiry_is_refused_with_the_seed_message() -> None:
    doc, _ = register(None)
    with pytest.raises(TemporaryPasswordExpired) as raised:
        accounts.activation(doc, temporary_password_hash="h1", password_hash="p", now=NOW + TTL)
    assert (
        raised.value.message == "仮パスワードの有効期限が切れています。再度仮申請を行ってください"
    )
    assert raised.value.code == "temporary_password_expired"


def test_activation_makes_the_account_active_and_raises_user_activated() -> None:
    doc, _ = register(None)
    at = NOW + timedelta(hours=1)
    active, events = accounts.activation(
        doc, temporary_password_hash="h1", password_hash="argon", now=at
    )
    assert active["status"] == "active"
    assert active["password_hash"] == "argon"
    assert active["temporary_password"] is None and active["registration"] is None
    assert active["activated_at"] == at
    [envelope] = events
    assert isinstance(envelope.event, UserActivated)
    assert envelope.event.model_dump() == {
        "login_id": "Kensetsu01",
        "email": "taro@example.jp",
        "employer_id": "12345678901234",
        "employer_name": "株式会社テスト建設",
        "activated_at": at,
    }


def test_activation_with_a_replaced_temporary_password_is_refused() -> None:
    first, _ = register(None)
    second, _ = register(first, hash_="h2")
    with pytest.raises(InvalidTemporaryCredentials):
        accounts.activation(second, temporary_password_hash="h1", password_hash="p", now=NOW)
    with pytest.raises(InvalidTemporaryCredentials):
        accounts.activation(None, temporary_password_hash="h1", password_hash="p", now=NOW)


# --- employer record -----------------------------------------------------------------------


def profile(**changes: str) -> forms.EmployerProfile:
    raw: dict[str, str | None] = {**RAW, **changes}
    return forms.parse_profile(raw)


def claim(doc: dict[str, Any] | None, login_id: str, **kw: Any) -> Any:
    return accounts.employer_claim(
        doc,
        employer_id="12345678901234",
        login_id=login_id,
        profile=kw.pop("profile", profile()),
        expected_owner=kw.pop("expected_owner", None),
        owner_active=kw.pop("owner_active", False),
        now=NOW,
    )


def test_employer_claim_creates_once_and_refuses_another_active_owner() -> None:
    created, _ = claim(None, "Kensetsu01")
    assert created["owner_login_id"] == "Kensetsu01" and created["history"] == []
    assert claim(created, "Kensetsu01") is None  # retried activation: nothing to change
    with pytest.raises(EmployerAlreadyRegistered):
        claim(created, "Other0001")  # someone else, read as free before: raced
    with pytest.raises(EmployerAlreadyRegistered):
        claim(created, "Other0001", expected_owner="Kensetsu01", owner_active=True)
    taken, _ = claim(created, "Other0001", expected_owner="Kensetsu01")  # never activated
    assert taken["owner_login_id"] == "Other0001"


def test_profile_update_is_audited_with_who_when_before_after() -> None:
    record, _ = claim(None, "Kensetsu01")
    record = {**record, "_id": "12345678901234"}
    later = NOW + timedelta(days=3)
    new_profile = profile(employer_name="株式会社新テスト建設", permit_number="")
    updated, events = accounts.profile_updated(
        record, new_profile, by="Kensetsu01", role="employer", now=later, correlation_id="c-1"
    )
    assert events == []
    assert updated["profile"]["employer_name"] == "株式会社新テスト建設"
    [entry] = updated["history"]
    assert entry == {
        "at": later,
        "by": "Kensetsu01",
        "role": "employer",
        "correlation_id": "c-1",
        "changes": {
            "employer_name": {"before": "株式会社テスト建設", "after": "株式会社新テスト建設"},
            "permit_number": {
                "before": record["profile"]["permit_number"],
                "after": None,
            },
        },
    }
    same = accounts.profile_updated(
        updated, new_profile, by="Kensetsu01", role="employer", now=later, correlation_id=None
    )
    assert same is None  # no change, no audit entry


# --- lockout -------------------------------------------------------------------------------

POLICY = LockoutPolicy(max_failures=5, window=timedelta(minutes=15), lock=timedelta(minutes=15))


def fail_at(doc: dict[str, Any] | None, minutes: float) -> dict[str, Any]:
    return accounts.failed_attempt(doc, NOW + timedelta(minutes=minutes), POLICY)


def test_five_failures_within_the_window_lock_for_fifteen_minutes() -> None:
    doc = None
    for minute in range(4):
        doc = fail_at(doc, minute)
        assert accounts.lock_remaining(doc, NOW + timedelta(minutes=minute)) is None
    doc = fail_at(doc, 14)
    assert doc["locked_until"] == NOW + timedelta(minutes=29)
    assert accounts.lock_remaining(doc, NOW + timedelta(minutes=14)) == timedelta(minutes=15)
    assert accounts.lock_remaining(doc, NOW + timedelta(minutes=28, seconds=59)) == timedelta(
        seconds=1
    )
    assert accounts.lock_remaining(doc, NOW + timedelta(minutes=29)) is None


def test_failures_older_than_the_window_do_not_count() -> None:
    doc = None
    for minute in (0, 1, 2, 3):
        doc = fail_at(doc, minute)
    doc = fail_at(doc, 15)  # the failure at 0 is exactly 15 minutes old: out of the window
    assert doc["locked_until"] is None and len(doc["failures"]) == 4
    doc = fail_at(doc, 15.5)
    assert doc["locked_until"] == NOW + timedelta(minutes=30.5)


def test_after_a_lock_the_count_starts_again_and_success_clears() -> None:
    doc = None
    for minute in range(5):
        doc = fail_at(doc, minute)
    assert doc is not None and doc["failures"] == []
    doc = fail_at(doc, 20)  # lock over (ended at 19): one new failure
    assert doc["locked_until"] is None and doc["failures"] == [NOW + timedelta(minutes=20)]
    cleared = accounts.attempts_cleared(doc)
    # the last failure's time stays: the record's retention is counted from it
    last = NOW + timedelta(minutes=20)
    assert cleared == (
        {"failures": [], "locked_until": None, "locked_at": None, "last_failure_at": last},
        [],
    )
    assert accounts.attempts_cleared(cleared[0]) is None


def test_every_failure_dates_the_record_for_its_retention() -> None:
    doc = fail_at(None, 0)
    assert doc["last_failure_at"] == NOW
    for minute in range(1, 5):
        doc = fail_at(doc, minute)
    assert doc["locked_until"] is not None and doc["last_failure_at"] == NOW + timedelta(minutes=4)


# --- sessions ------------------------------------------------------------------------------


def test_session_validity_and_revocation() -> None:
    user = accounts.staff_user("Hyoka0001", "evaluator", "h@example.jp", "p", NOW)
    session = accounts.new_session("k", user, NOW, timedelta(hours=12))
    assert session["employer_id"] is None and session["role"] == "evaluator"
    assert accounts.session_active(session, NOW + timedelta(hours=11, minutes=59))
    assert not accounts.session_active(session, NOW + timedelta(hours=12))
    revoked, _ = accounts.session_revoked(session, now=NOW, reason="logout")
    assert not accounts.session_active(revoked, NOW)
    assert revoked["revoked_reason"] == "logout"
    assert accounts.session_revoked(revoked, now=NOW, reason="logout") is None


def test_staff_roles_only() -> None:
    with pytest.raises(ValueError, match="staff role"):
        accounts.staff_user("Jigyo0001", "employer", "e@example.jp", "p", NOW)
