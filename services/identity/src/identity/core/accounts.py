"""The identity aggregates and what each command does to them (pure: no I/O).

Four collections, each one aggregate per document with a natural ``_id``:

* ``users`` (``_id`` = login ID): role, status (``provisional`` → ``active``), e-mail,
  事業者ID, the activation link's SHA-256 with its expiry (then the password's argon2id
  hash), the 事業者 details as submitted until activation, ``pending_until`` (a
  registration never activated is deleted after it); for staff, the binding to a body and
  its 分野 (``body``, ``trades``: ``None`` = not bound, see ``core/binding.py``);
* ``employers`` (``_id`` = 事業者ID): the 事業者 record owned by one employer account, with
  every profile change audited in ``history`` (same document, so same write);
* ``sessions`` (``_id`` = SHA-256 of the session token; the token itself is never stored);
* ``login_attempts``: failed logins per (login ID, source) and per login ID, whether or
  not such a user exists (``core/throttle.py``).

Each command returns ``(new document, events)`` for ``DocumentStore.update``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from identity.core.binding import UNBOUND, Binding
from identity.core.errors import (
    AccountNotFound,
    ActivationExpired,
    CurrentPasswordWrong,
    EmployerAlreadyRegistered,
    EmployerNotFound,
    InvalidActivation,
    LoginIdTaken,
)
from identity.core.forms import EmployerProfile, Registration
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import UserActivated, UserProvisionallyRegisteredV2

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
    activation_hash: str,
    now: datetime,
    ttl: timedelta,
    pending_retention: timedelta = timedelta(0),
) -> Outcome:
    """利用者仮申請: reserve the login ID (again) with a new activation link.

    Re-applying before activation replaces the earlier link (it stops working), e-mail and
    details and raises the event again; an active account keeps its login ID. The event
    carries no secret (the link is mailed by identity itself).
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
        "activation": {"hash": activation_hash, "issued_at": now, "expires_at": expires_at},
        "pending_until": expires_at + pending_retention,
        "registrations": int(previous.get("registrations", 0)) + 1,
        "password_hash": None,
        "password_changed_at": None,
        "created_at": previous.get("created_at", now),
        "activated_at": None,
        "updated_at": now,
    }
    event = UserProvisionallyRegisteredV2(
        login_id=registration.login_id,
        email=registration.email,
        employer_id=registration.employer_id,
        employer_name=registration.profile.employer_name,
        expires_at=expires_at,
    )
    return new, [Envelope(event, source=SOURCE)]


def is_provisional(doc: Doc | None) -> bool:
    return doc is not None and doc.get("status") == PROVISIONAL


def is_active(doc: Doc | None) -> bool:
    return doc is not None and doc.get("status") == ACTIVE


def activation_expired(doc: Doc, now: datetime) -> bool:
    """The activation link may be used up to (not including) its ``expires_at``."""
    expires_at: datetime = doc["activation"]["expires_at"]
    return now >= expires_at


def registered_profile(doc: Doc) -> EmployerProfile:
    return EmployerProfile.from_document(doc["registration"])


def activation(
    doc: Doc | None,
    *,
    activation_hash: str,
    password_hash: str,
    now: datetime,
) -> Outcome:
    """利用者本申請: the account becomes active with its own password; the link is spent.

    ``activation_hash`` is the hash the caller verified: if the login ID was re-applied for
    meanwhile (a newer link), or the link was used by a concurrent request, it is refused.
    """
    if (
        doc is None
        or not is_provisional(doc)
        or (doc.get("activation") or {}).get("hash") != activation_hash
    ):
        raise InvalidActivation()
    if activation_expired(doc, now):
        raise ActivationExpired()
    profile = registered_profile(doc)
    new = {
        **doc,
        "status": ACTIVE,
        "activation": None,
        "pending_until": None,
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
        "activation": None,
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


def new_session(
    session_key: str, user: Doc, now: datetime, ttl: timedelta, source: str | None = None
) -> Doc:
    return {
        "_id": session_key,
        "login_id": user["login_id"],
        "role": user["role"],
        "employer_id": user.get("employer_id"),
        "source": source,  # where the login came from (audit)
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


def revocation(session_id: str, *, at: datetime, reason: str, keep_until: datetime) -> Doc:
    """The entry of ``revocations`` that tells every service a session ended (``_id``: the
    session id; deleted by the retention job once no token of the session can be valid)."""
    return {"_id": session_id, "at": at, "reason": reason, "keep_until": keep_until}
