"""Unit tests of the account lifecycle: 仮申請, expiry, 本申請, throttling, limits, audit,
sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from identity.core import accounts, forms, limits, throttle
from identity.core.errors import (
    ActivationExpired,
    EmployerAlreadyRegistered,
    InvalidActivation,
    LoginIdTaken,
)
from identity.core.throttle import ThrottlePolicy
from identity.core.tokens import (
    activation_token,
    parse_activation_token,
    same_hash,
    secret_hash,
)
from shared_kernel.events.catalogue import UserActivated, UserProvisionallyRegisteredV2

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


def register(doc: accounts.User | None, *, hash_: str = "h1", at: datetime = NOW) -> Any:
    return accounts.provisional_registration(
        doc,
        forms.parse_registration(dict(RAW)),
        activation_hash=hash_,
        now=at,
        ttl=TTL,
        pending_retention=timedelta(hours=24),
    )


def test_provisional_registration_stores_the_links_hash_and_raises_a_secretless_event() -> None:
    doc, events = register(None)
    assert doc.id == "Kensetsu01"
    assert doc.status == "provisional" and doc.role == "employer"
    assert doc.activation == accounts.ActivationLink(hash="h1", issued_at=NOW, expires_at=NOW + TTL)
    assert doc.pending_until == NOW + TTL + timedelta(hours=24)
    assert doc.registration is not None and doc.registration.permit_number is not None
    assert doc.registration.permit_number.text == "国土交通大臣許可(特-25)第123号"
    assert doc.registrations == 1
    [envelope] = events
    assert isinstance(envelope.event, UserProvisionallyRegisteredV2)
    assert envelope.event.model_dump() == {
        "login_id": "Kensetsu01",
        "email": "taro@example.jp",
        "employer_id": "12345678901234",
        "employer_name": "株式会社テスト建設",
        "expires_at": NOW + TTL,
    }
    assert envelope.key == "Kensetsu01" and envelope.source == "identity"
    assert envelope.type.endswith(".v2")


def test_reapplying_before_activation_replaces_the_link() -> None:
    first, _ = register(None)
    later = NOW + timedelta(hours=30)
    second, _ = register(first, hash_="h2", at=later)
    assert second.activation.hash == "h2"
    assert second.activation.expires_at == later + TTL
    assert second.registrations == 2 and second.created_at == NOW


def test_an_active_login_id_is_taken() -> None:
    doc, _ = register(None)
    active, _ = accounts.activation(doc, activation_hash="h1", password_hash="p", now=NOW)
    with pytest.raises(LoginIdTaken) as raised:
        register(active)
    assert raised.value.message == (
        "このログインIDは既に使用されています。別のログインIDを指定してください。"
    )
    staff = accounts.staff_user("Hyoka0001", "evaluator", "h@example.jp", "p", NOW)
    with pytest.raises(LoginIdTaken):
        register(staff)


def test_link_expiry_boundary() -> None:
    doc, _ = register(None)
    assert not accounts.activation_expired(doc, NOW + TTL - timedelta(microseconds=1))
    assert accounts.activation_expired(doc, NOW + TTL)


def test_activation_after_expiry_is_refused() -> None:
    doc, _ = register(None)
    with pytest.raises(ActivationExpired) as raised:
        accounts.activation(doc, activation_hash="h1", password_hash="p", now=NOW + TTL)
    assert raised.value.message == (
        "本申請用のリンクの有効期限が切れています。再度仮申請を行ってください"
    )
    assert raised.value.code == "activation_expired"


def test_activation_makes_the_account_active_spends_the_link_and_raises_user_activated() -> None:
    doc, _ = register(None)
    at = NOW + timedelta(hours=1)
    active, events = accounts.activation(doc, activation_hash="h1", password_hash="argon", now=at)
    assert active.status == "active"
    assert active.password_hash == "argon"
    assert active.activation is None and active.registration is None
    assert active.pending_until is None  # never deleted by the pending-registration purge
    assert active.activated_at == at
    [envelope] = events
    assert isinstance(envelope.event, UserActivated)
    assert envelope.event.model_dump() == {
        "login_id": "Kensetsu01",
        "email": "taro@example.jp",
        "employer_id": "12345678901234",
        "employer_name": "株式会社テスト建設",
        "activated_at": at,
    }
    with pytest.raises(InvalidActivation):  # used once
        accounts.activation(active, activation_hash="h1", password_hash="p", now=at)


def test_activation_with_a_replaced_link_is_refused() -> None:
    first, _ = register(None)
    second, _ = register(first, hash_="h2")
    with pytest.raises(InvalidActivation):
        accounts.activation(second, activation_hash="h1", password_hash="p", now=NOW)
    with pytest.raises(InvalidActivation):
        accounts.activation(None, activation_hash="h1", password_hash="p", now=NOW)


def test_activation_tokens_name_the_account_and_only_their_hash_is_kept() -> None:
    token = activation_token("Kensetsu01", "s" * 43)
    assert parse_activation_token(token) == ("Kensetsu01", "s" * 43)
    for bad in (None, "", "Kensetsu01", "Kensetsu01.short", "短い.xxx", "Kensetsu01." + "!" * 43):
        assert parse_activation_token(bad) is None
    stored = secret_hash("s" * 43)
    assert len(stored) == 64 and "s" * 43 not in stored
    assert same_hash(stored, "s" * 43) and not same_hash(stored, "t" * 43)


# --- employer record -----------------------------------------------------------------------


def profile(**changes: str) -> forms.EmployerProfile:
    raw: dict[str, str | None] = {**RAW, **changes}
    return forms.parse_profile(raw)


def claim(doc: accounts.Employer | None, login_id: str, **kw: Any) -> Any:
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
    assert created.id == "12345678901234"
    assert created.owner_login_id == "Kensetsu01" and created.history == []
    assert claim(created, "Kensetsu01") is None  # retried activation: nothing to change
    with pytest.raises(EmployerAlreadyRegistered):
        claim(created, "Other0001")  # someone else, read as free before: raced
    with pytest.raises(EmployerAlreadyRegistered):
        claim(created, "Other0001", expected_owner="Kensetsu01", owner_active=True)
    taken, _ = claim(created, "Other0001", expected_owner="Kensetsu01")  # never activated
    assert taken.owner_login_id == "Other0001"


def test_profile_update_is_audited_with_who_when_before_after() -> None:
    record, _ = claim(None, "Kensetsu01")
    later = NOW + timedelta(days=3)
    new_profile = profile(employer_name="株式会社新テスト建設", permit_number="")
    updated, events = accounts.profile_updated(
        record, new_profile, by="Kensetsu01", role="employer", now=later, correlation_id="c-1"
    )
    assert events == []
    assert updated.profile.employer_name == "株式会社新テスト建設"
    [entry] = updated.history
    assert entry.model_dump() == {
        "at": later,
        "by": "Kensetsu01",
        "role": "employer",
        "correlation_id": "c-1",
        "changes": {
            "employer_name": {"before": "株式会社テスト建設", "after": "株式会社新テスト建設"},
            "permit_number": {
                "before": record.profile.permit_number.model_dump(),
                "after": None,
            },
        },
    }
    assert entry.changes["permit_number"]["before"]["text"] == "国土交通大臣許可(特-25)第123号"
    same = accounts.profile_updated(
        updated, new_profile, by="Kensetsu01", role="employer", now=later, correlation_id=None
    )
    assert same is None  # no change, no audit entry


# --- throttling by (login ID, source), registration limits ---------------------------------

POLICY = ThrottlePolicy(
    free_failures=3,
    base_delay=timedelta(seconds=2),
    max_delay=timedelta(minutes=15),
    forget_after=timedelta(hours=24),
    account_failures_per_hour=100,
)


def fail(doc: throttle.SourceAttempts | None, at: datetime) -> throttle.SourceAttempts:
    return throttle.source_failed(doc, login_id="Kensetsu01", source="s", now=at, policy=POLICY)


def test_growing_delays_after_the_free_failures_capped() -> None:
    assert [throttle.delay_after(n, POLICY).total_seconds() for n in range(1, 10)] == [
        0,
        0,
        0,
        2,
        4,
        8,
        16,
        32,
        64,
    ]
    assert throttle.delay_after(40, POLICY) == timedelta(minutes=15)
    doc = None
    for n in range(4):
        doc = fail(doc, NOW + timedelta(seconds=n))
    assert doc is not None and doc.blocked_until == NOW + timedelta(seconds=5)
    assert doc.id == "Kensetsu01|s"
    wait = throttle.wait_of(doc, None, "s", NOW + timedelta(seconds=4), POLICY)
    assert wait == timedelta(seconds=1)
    assert throttle.wait_of(doc, None, "s", NOW + timedelta(seconds=5), POLICY) is None
    assert throttle.wait_of(None, None, "other", NOW, POLICY) is None  # another source: free


def test_failures_are_forgotten_after_a_day_or_a_success_and_the_totals_stay() -> None:
    doc = None
    for n in range(5):
        doc = fail(doc, NOW + timedelta(minutes=n))
    later = fail(doc, NOW + timedelta(hours=25))
    assert later.failures == 1 and later.blocked_until is None
    assert later.total_failures == 6 and later.first_failure_at == NOW
    cleared = throttle.source_succeeded(later, now=NOW + timedelta(hours=26))
    assert cleared is not None and cleared.failures == 0 and cleared.total_failures == 6
    assert throttle.source_succeeded(None, now=NOW) is None


def test_the_hourly_cap_stops_new_sources_not_known_ones() -> None:
    policy = ThrottlePolicy(account_failures_per_hour=3)
    account = throttle.account_succeeded(None, login_id="Kensetsu01", source="home", now=NOW)
    for n in range(3):
        account = throttle.account_failed(account, login_id="Kensetsu01", now=NOW)
        assert account.hour_failures == n + 1
    at = NOW + timedelta(minutes=10)
    assert throttle.wait_of(None, account, "new", at, policy) == timedelta(minutes=50)
    assert throttle.wait_of(None, account, "home", at, policy) is None
    assert throttle.wait_of(None, account, "new", NOW + timedelta(hours=1), policy) is None
    for n in range(12):
        account = throttle.account_succeeded(account, login_id="K", source=f"p{n}", now=NOW)
    assert account.id == "Kensetsu01"
    assert len(account.known_sources) == 10 and account.known_sources[0].source == "p11"


def test_a_source_is_an_ipv4_address_or_an_ipv6_64() -> None:
    assert throttle.source_of("198.51.100.7") == "198.51.100.7"
    assert throttle.source_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert throttle.source_of("::ffff:198.51.100.7") == "198.51.100.7"
    assert throttle.source_of("garbage") == throttle.source_of(None) == "unknown"


def test_registration_windows_count_per_key_and_refuse_past_the_limit() -> None:
    limit = limits.Limit("email", 2, timedelta(hours=1))
    key = limits.email_key("Taro+news@Example.JP")
    assert key == "taro@example.jp"
    doc = limits.counted(None, limit=limit, key=key, now=NOW)
    doc = limits.counted(doc, limit=limit, key=key, now=NOW)
    with pytest.raises(limits.Exhausted) as raised:
        limits.counted(doc, limit=limit, key=key, now=NOW + timedelta(minutes=20))
    assert raised.value.remaining == timedelta(minutes=40)
    assert doc.window_end == NOW + timedelta(hours=1) and doc.count == 2
    assert doc.id == limits.limit_id(limit, key, NOW)
    assert limits.limit_id(limit, key, NOW) != limits.limit_id(limit, key, NOW + timedelta(hours=1))


# --- sessions ------------------------------------------------------------------------------


def test_session_validity_and_revocation() -> None:
    user = accounts.staff_user("Hyoka0001", "evaluator", "h@example.jp", "p", NOW)
    session = accounts.new_session("k", user, NOW, timedelta(hours=12))
    assert session.employer_id is None and session.role == "evaluator"
    assert accounts.session_active(session, NOW + timedelta(hours=11, minutes=59))
    assert not accounts.session_active(session, NOW + timedelta(hours=12))
    revoked, _ = accounts.session_revoked(session, now=NOW, reason="logout")
    assert not accounts.session_active(revoked, NOW)
    assert revoked.revoked_reason == "logout"
    assert accounts.session_revoked(revoked, now=NOW, reason="logout") is None


def test_staff_roles_only() -> None:
    with pytest.raises(ValueError, match="staff role"):
        accounts.staff_user("Jigyo0001", "employer", "e@example.jp", "p", NOW)
