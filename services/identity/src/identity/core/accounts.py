"""The identity aggregates and what each command does to them (pure: no I/O).

Four collections, each one aggregate per document with a natural ``_id``:

* ``users`` (:class:`User`, ``_id`` = login ID): role, status (``provisional`` →
  ``active``), e-mail, 事業者ID, the activation link's SHA-256 with its expiry (then the
  password's argon2id hash), the 事業者 details as submitted until activation,
  ``pending_until`` (a registration never activated is deleted after it); for staff, the
  binding to a body and its 分野 (``body``, ``trades``: ``None`` = not bound, see
  ``core/binding.py``);
* ``employers`` (:class:`Employer`, ``_id`` = 事業者ID): the 事業者 record owned by one
  employer account, with every profile change audited in ``history`` (same document, so
  same write);
* ``sessions`` (:class:`Session`, ``_id`` = SHA-256 of the session token; the token itself
  is never stored), and ``revocations`` (:class:`Revocation`: the sessions ended recently);
* ``login_attempts``: failed logins per (login ID, source) and per login ID, whether or
  not such a user exists (``core/throttle.py``).

Each command returns ``(new aggregate, events)`` for the repository's ``update``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

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
from shared_kernel.aggregate import Aggregate
from shared_kernel.events import Envelope
from shared_kernel.events.catalogue import UserActivated, UserProvisionallyRegisteredV2

Role = Literal["employer", "evaluator", "operator", "criteria_editor", "criteria_approver"]
Status = Literal["provisional", "active"]

SOURCE = "identity"
PROVISIONAL: Status = "provisional"
ACTIVE: Status = "active"
STAFF_ROLES: tuple[Role, ...] = ("evaluator", "operator", "criteria_editor", "criteria_approver")
HISTORY_FIELDS = ("employer_name", "address", "representative_name", "phone_number")


class _Part(BaseModel):
    """A part of a stored aggregate (unknown fields refused, like the aggregate's)."""

    model_config = ConfigDict(extra="forbid")


class StoredPermit(_Part):
    """A 建設業許可番号 as stored (``PermitNumber.to_document``)."""

    authority: str
    authority_code: str
    kind: str
    year: int
    number: int
    office: str | None = None
    text: str
    code: str


class StoredProfile(_Part):
    """The 事業者 details as stored (``EmployerProfile.to_document``)."""

    employer_name: str
    address: str
    representative_name: str
    phone_number: str
    permit_number: StoredPermit | None = None

    @classmethod
    def of(cls, profile: EmployerProfile) -> StoredProfile:
        return cls.model_validate(profile.to_document())

    def value(self) -> EmployerProfile:
        return EmployerProfile.from_document(self.model_dump())


class ActivationLink(_Part):
    """The activation link of a provisional account: only its SHA-256 is kept."""

    hash: str
    issued_at: datetime
    expires_at: datetime


# --- users ---------------------------------------------------------------------------------


class User(Aggregate):
    """An account (``users``; ``_id`` = login ID)."""

    login_id: str
    role: Role
    status: Status
    email: str
    employer_id: str | None
    registration: StoredProfile | None
    """The 事業者 details as submitted, until activation moves them to ``employers``."""
    activation: ActivationLink | None
    pending_until: datetime | None = None
    registrations: int = 0
    password_hash: str | None
    password_changed_at: datetime | None
    created_at: datetime
    activated_at: datetime | None
    updated_at: datetime
    created_by: str | None = None
    body: str | None
    trades: list[str] | None
    bound_at: datetime | None

    @property
    def is_provisional(self) -> bool:
        return self.status == PROVISIONAL

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def activation_hash(self) -> str | None:
        return None if self.activation is None else self.activation.hash

    @property
    def binding(self) -> Binding:
        """The account's binding (an employer is never bound)."""
        if self.role == "employer":
            return UNBOUND
        return Binding(self.body, None if self.trades is None else tuple(self.trades))


def provisional_registration(
    user: User | None,
    registration: Registration,
    *,
    activation_hash: str,
    now: datetime,
    ttl: timedelta,
    pending_retention: timedelta = timedelta(0),
) -> tuple[User, list[Envelope]]:
    """利用者仮申請: reserve the login ID (again) with a new activation link.

    Re-applying before activation replaces the earlier link (it stops working), e-mail and
    details and raises the event again; an active account keeps its login ID. The event
    carries no secret (the link is mailed by identity itself).
    """
    if user is not None and not user.is_provisional:
        raise LoginIdTaken()
    expires_at = now + ttl
    new = User(
        id=registration.login_id,
        version=0 if user is None else user.version,
        login_id=registration.login_id,
        role="employer",
        status=PROVISIONAL,
        email=registration.email,
        employer_id=registration.employer_id,
        registration=StoredProfile.of(registration.profile),
        activation=ActivationLink(hash=activation_hash, issued_at=now, expires_at=expires_at),
        pending_until=expires_at + pending_retention,
        registrations=(0 if user is None else user.registrations) + 1,
        password_hash=None,
        password_changed_at=None,
        created_at=now if user is None else user.created_at,
        activated_at=None,
        updated_at=now,
        body=None,
        trades=None,
        bound_at=None,
    )
    event = UserProvisionallyRegisteredV2(
        login_id=registration.login_id,
        email=registration.email,
        employer_id=registration.employer_id,
        employer_name=registration.profile.employer_name,
        expires_at=expires_at,
    )
    return new, [Envelope(event, source=SOURCE)]


def activation_expired(user: User, now: datetime) -> bool:
    """The activation link may be used up to (not including) its ``expires_at``."""
    return user.activation is None or now >= user.activation.expires_at


def registered_profile(user: User) -> EmployerProfile:
    assert user.registration is not None
    return user.registration.value()


def activation(
    user: User | None,
    *,
    activation_hash: str,
    password_hash: str,
    now: datetime,
) -> tuple[User, list[Envelope]]:
    """利用者本申請: the account becomes active with its own password; the link is spent.

    ``activation_hash`` is the hash the caller verified: if the login ID was re-applied for
    meanwhile (a newer link), or the link was used by a concurrent request, it is refused.
    """
    if user is None or not user.is_provisional or user.activation_hash != activation_hash:
        raise InvalidActivation()
    if activation_expired(user, now):
        raise ActivationExpired()
    assert user.employer_id is not None
    profile = registered_profile(user)
    new = user.model_copy(
        update={
            "status": ACTIVE,
            "activation": None,
            "pending_until": None,
            "registration": None,  # the 事業者 record lives in ``employers`` from now on
            "password_hash": password_hash,
            "password_changed_at": now,
            "activated_at": now,
            "updated_at": now,
        }
    )
    event = UserActivated(
        login_id=user.login_id,
        email=user.email,
        employer_id=user.employer_id,
        employer_name=profile.employer_name,
        activated_at=now,
    )
    return new, [Envelope(event, source=SOURCE)]


def password_changed(
    user: User | None, *, expected_hash: str, password_hash: str, now: datetime
) -> tuple[User, list[Envelope]]:
    """A new password for an active account (the caller verified ``expected_hash``)."""
    if user is None or not user.is_active or user.password_hash != expected_hash:
        raise CurrentPasswordWrong()  # changed meanwhile: the caller asks again
    changed = {"password_hash": password_hash, "password_changed_at": now, "updated_at": now}
    return user.model_copy(update=changed), []


def rehashed(
    user: User | None, *, old_hash: str, new_hash: str
) -> tuple[User, list[Envelope]] | None:
    """Store a hash with the current argon2 parameters (after a successful login)."""
    if user is None or user.password_hash != old_hash:
        return None
    return user.model_copy(update={"password_hash": new_hash}), []


def staff_user(
    login_id: str,
    role: Role,
    email: str,
    password_hash: str,
    now: datetime,
    binding: Binding = UNBOUND,
) -> User:
    """A staff account (evaluator, operator, criteria editor or approver), active at once,
    with its binding (created by the admin CLI)."""
    if role not in STAFF_ROLES:
        raise ValueError(f"staff role must be one of {STAFF_ROLES}, got {role!r}")
    return User(
        id=login_id,
        login_id=login_id,
        role=role,
        status=ACTIVE,
        email=email,
        employer_id=None,
        registration=None,
        activation=None,
        registrations=0,
        password_hash=password_hash,
        password_changed_at=now,
        created_at=now,
        activated_at=now,
        updated_at=now,
        created_by="admin-cli",
        **_binding_fields(binding, now),
    )


def _binding_fields(binding: Binding, now: datetime) -> dict[str, Any]:
    trades = None if binding.trades is None else list(binding.trades)
    return {"body": binding.body, "trades": trades, "bound_at": now if binding.bound else None}


def rebound(user: User | None, binding: Binding, *, now: datetime) -> tuple[User, list[Envelope]]:
    """A new binding for an existing staff account (admin CLI ``bind-user``)."""
    if user is None or not user.is_active or not user.is_staff:
        raise AccountNotFound()
    return user.model_copy(update={**_binding_fields(binding, now), "updated_at": now}), []


class AccountView(_Part):
    """What ``GET /me`` shows (never a hash)."""

    login_id: str
    role: Role
    status: Status
    email: str
    employer_id: str | None
    employer_name: str | None = None
    body: str | None = None
    trades: list[str] | None = None
    activated_at: datetime | None
    password_changed_at: datetime | None


def account_view(user: User, employer_name: str | None = None) -> AccountView:
    """The account as ``GET /me`` shows it, with the name of its 事業者 (if it owns one)."""
    binding = user.binding
    return AccountView.model_validate(
        {
            **user.model_dump(include=set(AccountView.model_fields)),
            "employer_name": employer_name,
            "body": binding.body,
            "trades": None if binding.trades is None else list(binding.trades),
        }
    )


# --- employers -----------------------------------------------------------------------------


class ProfileChange(_Part):
    """One audited change of the 事業者 details: who, when, and before/after per field."""

    at: datetime
    by: str
    role: str
    changes: dict[str, dict[str, Any]]
    correlation_id: str | None = None


class Employer(Aggregate):
    """The 事業者 record (``employers``; ``_id`` = 事業者ID)."""

    employer_id: str
    owner_login_id: str
    profile: StoredProfile
    created_at: datetime
    updated_at: datetime
    history: list[ProfileChange]

    def owned_by(self, login_id: str) -> bool:
        return self.owner_login_id == login_id


def employer_claim(
    record: Employer | None,
    *,
    employer_id: str,
    login_id: str,
    profile: EmployerProfile,
    expected_owner: str | None,
    owner_active: bool,
    now: datetime,
) -> tuple[Employer, list[Envelope]] | None:
    """At activation: the 事業者 record is created for (or handed to) this account.

    One employer account per 事業者ID: a record owned by another *active* account refuses
    the activation; one left by an account that never activated is taken over.
    ``expected_owner``/``owner_active`` are what the caller read before this write.
    """
    stored = StoredProfile.of(profile)
    if record is not None:
        if record.owned_by(login_id):
            if record.profile == stored:
                return None
            return record.model_copy(update={"profile": stored, "updated_at": now}), []
        if record.owner_login_id != expected_owner or owner_active:
            raise EmployerAlreadyRegistered()
    created = Employer(
        id=employer_id,
        version=0 if record is None else record.version,
        employer_id=employer_id,
        owner_login_id=login_id,
        profile=stored,
        created_at=now,
        updated_at=now,
        history=[],
    )
    return created, []


def profile_changes(before: StoredProfile, after: StoredProfile) -> dict[str, dict[str, Any]]:
    """Per changed field: ``{"before": …, "after": …}`` (the permit number as its object)."""
    old, new = before.model_dump(), after.model_dump()
    return {
        key: {"before": old[key], "after": new[key]}
        for key in (*HISTORY_FIELDS, "permit_number")
        if old[key] != new[key]
    }


def profile_updated(
    record: Employer | None,
    profile: EmployerProfile,
    *,
    by: str,
    role: str,
    now: datetime,
    correlation_id: str | None,
) -> tuple[Employer, list[Envelope]] | None:
    """A profile change with its audit entry (who, when, before/after) in the same write."""
    if record is None:
        raise EmployerNotFound()
    after = StoredProfile.of(profile)
    changes = profile_changes(record.profile, after)
    if not changes:
        return None
    entry = ProfileChange(
        at=now, by=by, role=role, changes=changes, correlation_id=correlation_id or None
    )
    history = [*record.history, entry]
    return record.model_copy(update={"profile": after, "updated_at": now, "history": history}), []


class EmployerView(_Part):
    """The 事業者 record as ``GET /employers/me`` shows it."""

    employer_id: str
    login_id: str
    employer_name: str
    address: str
    representative_name: str
    phone_number: str
    permit_number: str | None
    """The 建設業許可番号 in its display form (``permit`` has its parts)."""
    permit: StoredPermit | None
    updated_at: datetime


def employer_view(record: Employer) -> EmployerView:
    profile = record.profile
    permit = profile.permit_number
    return EmployerView(
        **profile.model_dump(exclude={"permit_number"}),
        employer_id=record.employer_id,
        login_id=record.owner_login_id,
        permit_number=None if permit is None else permit.text,
        permit=permit,
        updated_at=record.updated_at,
    )


# --- sessions ------------------------------------------------------------------------------


class Session(Aggregate):
    """A login (``sessions``; ``_id`` = SHA-256 of the session token)."""

    login_id: str
    role: Role
    employer_id: str | None
    source: str | None = None
    """Where the login came from (audit)."""
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None


class Revocation(Aggregate):
    """An entry of ``revocations``: tells every service a session ended (``_id``: the
    session id; deleted by the retention job once no token of the session can be valid)."""

    at: datetime
    reason: str
    keep_until: datetime


def new_session(
    session_key: str, user: User, now: datetime, ttl: timedelta, source: str | None = None
) -> Session:
    return Session(
        id=session_key,
        login_id=user.login_id,
        role=user.role,
        employer_id=user.employer_id,
        source=source,
        created_at=now,
        expires_at=now + ttl,
    )


def session_active(session: Session | None, now: datetime) -> bool:
    return session is not None and session.revoked_at is None and now < session.expires_at


def session_revoked(
    session: Session | None, *, now: datetime, reason: str
) -> tuple[Session, list[Envelope]] | None:
    if session is None or session.revoked_at is not None:
        return None
    return session.model_copy(update={"revoked_at": now, "revoked_reason": reason}), []


def revocation(session_id: str, *, at: datetime, reason: str, keep_until: datetime) -> Revocation:
    return Revocation(id=session_id, at=at, reason=reason, keep_until=keep_until)
