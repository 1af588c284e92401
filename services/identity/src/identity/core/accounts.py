"""The identity aggregates and what each command does to them (pure: no I/O).

Four collections, each one aggregate per document with a natural ``_id``:

* ``users`` (``_id`` = login ID): role, status (``provisional`` → ``active``), e-mail,
  事業者ID, the argon2id hashes (temporary password with its expiry, then the password),
  the 事業者 details as submitted until activation; for staff, the binding to a body and
  its 分野 (``body``, ``trades``: ``None`` = not bound, see ``core/binding.py``);
* ``employers`` (``_id`` = 事業者ID): the 事業者 record owned by one employer account, with
  every profile change audited in ``history`` (same document, so same write);
* ``sessions`` (``_id`` = SHA-256 of the session token; the token itself is never stored);
* ``login_attempts`` (``_id`` = login ID, whether or not such a user exists): recent
  failures and the lock, so that a lock looks the same for unknown IDs.

Each command returns ``(new document, events)`` for ``DocumentStore.update``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from identity.core.binding import UNBOUND, Binding
from identity.core.errors import (
    AccountNotFound,
    CurrentPasswordWrong,
    EmployerAlreadyRegistered,
    EmployerNotFound,
    InvalidTemporaryCredentials,
    LoginIdTaken,
    TemporaryPasswordExpired,
)
from identity.core.forms import EmployerProfile, Registration
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import UserActivated, UserProvisionallyRegistered

Doc = dict[str, Any]
Outcome = tuple[Doc, list[Envelope]]
Role = Literal["employer", "evaluator", "operator", "criteria_editor", "criteria_approver"]

SOURCE = "identity"
PROVISIONAL = "provisional"
ACTIVE = "active"
STAFF_ROLES: tuple[Role, ...] = ("evaluator", "operator", "criteria_editor", "criteria_approver")
HISTORY_FIELDS = ("employer_name", "address", "representative_name", "phone_number")


# --- users ---------------------------------------------------------------------------------


def provisional_registration(
    doc: Doc | None,
    registration: Registration,
    *,
    temporary_password_hash: str,
    sealed_temporary_password: str,
    now: datetime,
    ttl: timedelta,
) -> Outcome:
    """利用者仮申請: reserve the login ID (again) with a new temporary password.

    Re-applying before activation replaces the earlier temporary password, e-mail and
    details and raises the event again; an active account keeps its login ID.
    """
    if doc is not None and doc.get("status") != PROVISIONAL:
        raise LoginIdTaken()
    expires_at = now + ttl
    previous = doc or {}
    new = {
        "login_id": registration.login_id,
        "role": "employer",
        "status": PROVISIONAL,
        "email": registration.email,
        "employer_id": registration.employer_id,
        "registration": registration.profile.to_document(),
        "temporary_password": {
            "hash": temporary_password_hash,
            "issued_at": now,
            "expires_at": expires_at,
        },
        "registrations": int(previous.get("registrations", 0)) + 1,
        "password_hash": None,
        "password_changed_at": None,
        "created_at": previous.get("created_at", now),
        "activated_at": None,
        "updated_at": now,
    }
    event = UserProvisionallyRegistered(
        login_id=registration.login_id,
        email=registration.email,
        employer_id=registration.employer_id,
        employer_name=registration.profile.employer_name,
        expires_at=expires_at,
        sealed_temporary_password=sealed_temporary_password,
    )
    return new, [Envelope(event, source=SOURCE)]


def is_provisional(doc: Doc | None) -> bool:
    return doc is not None and doc.get("status") == PROVISIONAL


def is_active(doc: Doc | None) -> bool:
    return doc is not None and doc.get("status") == ACTIVE


def temporary_password_expired(doc: Doc, now: datetime) -> bool:
    """The temporary password may be used up to (not including) its ``expires_at``."""
    expires_at: datetime = doc["temporary_password"]["expires_at"]
    return now >= expires_at


def registered_profile(doc: Doc) -> EmployerProfile:
    return EmployerProfile.from_document(doc["registration"])


def activation(
    doc: Doc | None,
    *,
    temporary_password_hash: str,
    password_hash: str,
    now: datetime,
) -> Outcome:
    """利用者本申請: the account becomes active with its own password.

    ``temporary_password_hash`` is the hash the caller verified: if the login ID was
    re-applied for meanwhile, the verified temporary password is no longer the valid one.
    """
    if (
        doc is None
        or not is_provisional(doc)
        or doc["temporary_password"]["hash"] != temporary_password_hash
    ):
        raise InvalidTemporaryCredentials()
    if temporary_password_expired(doc, now):
        raise TemporaryPasswordExpired()
    profile = registered_profile(doc)
    new = {
        **doc,
        "status": ACTIVE,
        "temporary_password": None,
        "registration": None,  # the 事業者 record lives in ``employers`` from now on
        "password_hash": password_hash,
        "password_changed_at": now,
        "activated_at": now,
        "updated_at": now,
    }
    event = UserActivated(
        login_id=doc["login_id"],
        email=doc["email"],
        employer_id=doc["employer_id"],
        employer_name=profile.employer_name,
        activated_at=now,
    )
    return new, [Envelope(event, source=SOURCE)]


def password_changed(
    doc: Doc | None, *, expected_hash: str, password_hash: str, now: datetime
) -> Outcome:
    """A new password for an active account (the caller verified ``expected_hash``)."""
    if doc is None or not is_active(doc) or doc["password_hash"] != expected_hash:
        raise CurrentPasswordWrong()  # changed meanwhile: the caller asks again
    changed = {"password_hash": password_hash, "password_changed_at": now, "updated_at": now}
    return {**doc, **changed}, []


def rehashed(doc: Doc | None, *, old_hash: str, new_hash: str) -> Outcome | None:
    """Store a hash with the current argon2 parameters (after a successful login)."""
    if doc is None or doc.get("password_hash") != old_hash:
        return None
    return {**doc, "password_hash": new_hash}, []


def staff_user(
    login_id: str,
    role: Role,
    email: str,
    password_hash: str,
    now: datetime,
    binding: Binding = UNBOUND,
) -> Doc:
    """A staff account (evaluator, operator, criteria editor or approver), active at once,
    with its binding (created by the admin CLI)."""
    if role not in STAFF_ROLES:
        raise ValueError(f"staff role must be one of {STAFF_ROLES}, got {role!r}")
    return {
        "_id": login_id,
        "login_id": login_id,
        "role": role,
        "status": ACTIVE,
        "email": email,
        "employer_id": None,
        "registration": None,
        "temporary_password": None,
        "registrations": 0,
        "password_hash": password_hash,
        "password_changed_at": now,
        "created_at": now,
        "activated_at": now,
        "updated_at": now,
        "created_by": "admin-cli",
        **binding.to_document(),
        "bound_at": now if binding.bound else None,
    }


def binding_of(doc: Doc) -> Binding:
    """The account's binding; staff accounts created before bindings existed are unbound."""
    if doc.get("role") == "employer":
        return UNBOUND
    return Binding.of(doc)


def rebound(doc: Doc | None, binding: Binding, *, now: datetime) -> Outcome:
    """A new binding for an existing staff account (admin CLI ``bind-user``)."""
    if doc is None or not is_active(doc) or doc.get("role") not in STAFF_ROLES:
        raise AccountNotFound()
    changed = {**binding.to_document(), "bound_at": now if binding.bound else None}
    return {**doc, **changed, "updated_at": now}, []


def account_view(doc: Doc) -> dict[str, Any]:
    """What ``GET /me`` shows (never a hash)."""
    binding = binding_of(doc)
    return {
        "login_id": doc["login_id"],
        "role": doc["role"],
        "status": doc["status"],
        "email": doc["email"],
        "employer_id": doc.get("employer_id"),
        "body": binding.body,
        "trades": None if binding.trades is None else list(binding.trades),
        "activated_at": doc.get("activated_at"),
        "password_changed_at": doc.get("password_changed_at"),
    }


# --- employers -----------------------------------------------------------------------------


def employer_claim(
    doc: Doc | None,
    *,
    employer_id: str,
    login_id: str,
    profile: EmployerProfile,
    expected_owner: str | None,
    owner_active: bool,
    now: datetime,
) -> Outcome | None:
    """At activation: the 事業者 record is created for (or handed to) this account.

    One employer account per 事業者ID: a record owned by another *active* account refuses
    the activation; one left by an account that never activated is taken over.
    ``expected_owner``/``owner_active`` are what the caller read before this write.
    """
    if doc is not None:
        owner = doc["owner_login_id"]
        if owner == login_id:
            if EmployerProfile.from_document(doc["profile"]) == profile:
                return None
            return {**doc, "profile": profile.to_document(), "updated_at": now}, []
        if owner != expected_owner or owner_active:
            raise EmployerAlreadyRegistered()
    created = {
        "employer_id": employer_id,
        "owner_login_id": login_id,
        "profile": profile.to_document(),
        "created_at": now,
        "updated_at": now,
        "history": [],
    }
    return created, []


def profile_changes(before: Doc, after: Doc) -> dict[str, dict[str, Any]]:
    """Per changed field: ``{"before": …, "after": …}`` (the permit number as its object)."""
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in (*HISTORY_FIELDS, "permit_number")
        if before.get(key) != after.get(key)
    }


def profile_updated(
    doc: Doc | None,
    profile: EmployerProfile,
    *,
    by: str,
    role: str,
    now: datetime,
    correlation_id: str | None,
) -> Outcome | None:
    """A profile change with its audit entry (who, when, before/after) in the same write."""
    if doc is None:
        raise EmployerNotFound()
    after = profile.to_document()
    changes = profile_changes(doc["profile"], after)
    if not changes:
        return None
    entry = {"at": now, "by": by, "role": role, "changes": changes}
    if correlation_id:
        entry["correlation_id"] = correlation_id
    history = [*doc.get("history", []), entry]
    return {**doc, "profile": after, "updated_at": now, "history": history}, []


def employer_view(doc: Doc) -> dict[str, Any]:
    profile = doc["profile"]
    permit = profile.get("permit_number")
    return {
        "employer_id": doc["employer_id"],
        "login_id": doc["owner_login_id"],
        "employer_name": profile["employer_name"],
        "address": profile["address"],
        "representative_name": profile["representative_name"],
        "phone_number": profile["phone_number"],
        "permit_number": permit["text"] if permit else None,
        "permit": permit,
        "updated_at": doc["updated_at"],
    }


# --- sessions ------------------------------------------------------------------------------


def new_session(session_key: str, user: Doc, now: datetime, ttl: timedelta) -> Doc:
    return {
        "_id": session_key,
        "login_id": user["login_id"],
        "role": user["role"],
        "employer_id": user.get("employer_id"),
        "created_at": now,
        "expires_at": now + ttl,
        "revoked_at": None,
        "revoked_reason": None,
    }


def session_active(doc: Doc | None, now: datetime) -> bool:
    return doc is not None and doc.get("revoked_at") is None and now < doc["expires_at"]


def session_revoked(doc: Doc | None, *, now: datetime, reason: str) -> Outcome | None:
    if doc is None or doc.get("revoked_at") is not None:
        return None
    return {**doc, "revoked_at": now, "revoked_reason": reason}, []


# --- lockout -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockoutPolicy:
    """``max_failures`` failed attempts within ``window`` lock the login ID for ``lock``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)


def lock_remaining(doc: Doc | None, now: datetime) -> timedelta | None:
    """How long the login ID stays locked, or ``None`` if it is not locked."""
    if doc is None or doc.get("locked_until") is None:
        return None
    locked_until: datetime = doc["locked_until"]
    return locked_until - now if now < locked_until else None


def failed_attempt(doc: Doc | None, now: datetime, policy: LockoutPolicy) -> Doc:
    """Record a failure; the ``max_failures``-th within the window locks the login ID."""
    recent = [t for t in (doc or {}).get("failures", []) if now - t < policy.window]
    recent.append(now)
    if len(recent) >= policy.max_failures:
        locked = {"failures": [], "locked_until": now + policy.lock, "locked_at": now}
        return {**locked, "last_failure_at": now}
    return {"failures": recent, "locked_until": None, "locked_at": None, "last_failure_at": now}


def attempts_cleared(doc: Doc | None) -> Outcome | None:
    """A successful login forgets the earlier failures (the last one's time stays: the
    record is deleted after the login history's retention, counted from it)."""
    if doc is None or (not doc.get("failures") and doc.get("locked_until") is None):
        return None
    cleared: Doc = {"failures": [], "locked_until": None, "locked_at": None}
    return {**cleared, "last_failure_at": doc.get("last_failure_at")}, []
