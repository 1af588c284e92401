"""The identity service's use cases: 仮申請, 本申請, login, sessions, passwords, profile.

It talks to storage only through the ``Documents`` port and to argon2 through the
``PasswordHasher`` port; every change goes through ``update`` (read, change, write by
``_id`` + version, retried on concurrent writes) and the events a change raises are
stored with it (outbox) and published by the relay.

Secrets: a temporary password exists in plain text only in this process's memory between
its generation and its hashing/sealing; it is stored as an argon2id hash, travels sealed
(``seal``: the notification service alone can open it) and is never logged or returned.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NoReturn

from identity.core import accounts, forms
from identity.core.accounts import Doc, LockoutPolicy, Role
from identity.core.binding import UNBOUND, Binding
from identity.core.errors import (
    AccountNotFound,
    CurrentPasswordWrong,
    EmployerAlreadyRegistered,
    EmployerNotFound,
    IdentityError,
    InvalidCredentials,
    InvalidTemporaryCredentials,
    LoginIdTaken,
    LoginLocked,
    SessionInvalid,
    TemporaryPasswordExpired,
)
from identity.core.policies import is_login_id
from identity.core.tokens import generate_password, new_session_token, session_key
from identity.ports import Documents, PasswordHasher
from shared_kernel.logging import get_correlation_id, get_logger
from shared_kernel.mongo import AlreadyExists

log = get_logger(__name__)

IssueToken = Callable[[str, Role, str | None, str | None, Binding], tuple[str, datetime]]
"""(subject, role, employer_id, session id, binding) → (signed access token, its expiry). The
session id (the session document's ``_id``, a SHA-256 of the cookie: it opens nothing) goes
into the token as ``sid``, so that identity can refuse a token whose session was revoked;
the binding as ``body`` and ``trades`` (only when the account is bound)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RegistrationReceipt:
    login_id: str
    email: str
    expires_at: datetime


@dataclass(frozen=True)
class ActivationReceipt:
    login_id: str
    employer_id: str
    activated_at: datetime


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: datetime
    login_id: str
    role: Role
    employer_id: str | None
    binding: Binding = UNBOUND


@dataclass(frozen=True)
class LoginResult:
    session_token: str
    session_expires_at: datetime
    access: AccessToken


class IdentityService:
    def __init__(
        self,
        users: Documents,
        employers: Documents,
        sessions: Documents,
        attempts: Documents,
        hasher: PasswordHasher,
        *,
        seal: Callable[[str], str],
        issue_token: IssueToken,
        temporary_password_ttl: timedelta,
        session_ttl: timedelta,
        lockout: LockoutPolicy,
        temporary_password_length: int = 12,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.users = users
        self.employers = employers
        self.sessions = sessions
        self.attempts = attempts  # login_attempts: failures and locks per login ID
        self.hasher = hasher
        self.seal = seal
        self.issue_token = issue_token
        self.temporary_password_ttl = temporary_password_ttl
        self.session_ttl = session_ttl
        self.lockout = lockout
        self.clock = clock
        self.new_temporary_password: Callable[[], str] = partial(
            generate_password, temporary_password_length
        )
        self.new_session_token: Callable[[], str] = new_session_token

    # --- 利用者仮申請 ---------------------------------------------------------------------

    async def register(self, raw: dict[str, str | None]) -> RegistrationReceipt:
        """Reserve a login ID and mail a temporary password (via UserProvisionallyRegistered)."""
        registration = forms.parse_registration(raw)
        login_id = registration.login_id
        await self._employer_owner(registration.employer_id, login_id)
        existing = await self.users.get(login_id)
        if existing is not None and not accounts.is_provisional(existing):
            raise LoginIdTaken()
        temporary = self.new_temporary_password()
        hashed = await self.hasher.hash(temporary)
        sealed = self.seal(temporary)
        del temporary
        now = self.clock()
        change = partial(
            accounts.provisional_registration,
            registration=registration,
            temporary_password_hash=hashed,
            sealed_temporary_password=sealed,
            now=now,
            ttl=self.temporary_password_ttl,
        )
        saved = await self.users.update(login_id, change)
        assert saved is not None
        expires_at: datetime = saved["temporary_password"]["expires_at"]
        log.info(
            "identity.provisionally_registered",
            login_id=login_id,
            employer_id=registration.employer_id,
            registrations=saved["registrations"],
            expires_at=expires_at.isoformat(),
        )
        return RegistrationReceipt(login_id, registration.email, expires_at)

    async def _employer_owner(self, employer_id: str, login_id: str) -> str | None:
        """The current owner of the 事業者 record; refuses one held by another active account."""
        record = await self.employers.get(employer_id)
        if record is None:
            return None
        owner: str = record["owner_login_id"]
        if owner != login_id:
            holder = await self.users.get(owner)
            if accounts.is_active(holder) and (holder or {}).get("employer_id") == employer_id:
                raise EmployerAlreadyRegistered()
        return owner

    # --- 利用者本申請 ---------------------------------------------------------------------

    async def activate(
        self,
        login_id: str | None,
        temporary_password: str | None,
        new_password: str | None,
        confirmation: str | None,
    ) -> ActivationReceipt:
        request = forms.parse_activation(login_id, temporary_password, new_password, confirmation)
        login = request.login_id
        await self._refuse_if_locked(login)
        user = await self.users.get(login)
        if user is None or not accounts.is_provisional(user):
            await self.hasher.verify_dummy(request.temporary_password)
            await self._failed(login, InvalidTemporaryCredentials())
        temporary_hash: str = user["temporary_password"]["hash"]
        if not await self.hasher.verify(temporary_hash, request.temporary_password):
            await self._failed(login, InvalidTemporaryCredentials())
        now = self.clock()
        if accounts.temporary_password_expired(user, now):
            log.info("identity.activation_expired", login_id=login)
            raise TemporaryPasswordExpired()
        employer_id: str = user["employer_id"]
        owner = await self._employer_owner(employer_id, login)
        password_hash = await self.hasher.hash(request.new_password)
        claim = partial(
            accounts.employer_claim,
            employer_id=employer_id,
            login_id=login,
            profile=accounts.registered_profile(user),
            expected_owner=owner,
            owner_active=False,
            now=now,
        )
        await self.employers.update(employer_id, claim)
        activate = partial(
            accounts.activation,
            temporary_password_hash=temporary_hash,
            password_hash=password_hash,
            now=now,
        )
        await self.users.update(login, activate)
        await self.attempts.update(login, accounts.attempts_cleared)
        log.info("identity.activated", login_id=login, employer_id=employer_id)
        return ActivationReceipt(login, employer_id, now)

    # --- login, sessions, tokens ---------------------------------------------------------

    async def login(self, login_id: str | None, password: str | None) -> LoginResult:
        """Check the password; open a session and issue an access token.

        An unknown login ID costs one argon2 verification too (against a dummy hash) and
        fails with the same error; failures are counted per login ID whether or not it
        exists, so a lock does not reveal existence either.
        """
        credentials = forms.parse_credentials(login_id, password)
        login = credentials.login_id
        await self._refuse_if_locked(login)
        user = await self.users.get(login) if is_login_id(login) else None
        if user is None or not accounts.is_active(user):
            await self.hasher.verify_dummy(credentials.password)
            await self._failed(login, InvalidCredentials())
        stored_hash: str = user["password_hash"]
        if not await self.hasher.verify(stored_hash, credentials.password):
            await self._failed(login, InvalidCredentials())
        await self.attempts.update(login, accounts.attempts_cleared)
        if self.hasher.needs_rehash(stored_hash):
            fresh = await self.hasher.hash(credentials.password)
            await self.users.update(
                login, partial(accounts.rehashed, old_hash=stored_hash, new_hash=fresh)
            )
        now = self.clock()
        token = self.new_session_token()
        session = accounts.new_session(session_key(token), user, now, self.session_ttl)
        await self.sessions.insert(session)
        log.info("identity.login", login_id=login, role=user["role"])
        return LoginResult(token, session["expires_at"], self._access(user, session["_id"]))

    def _access(self, user: Doc, session_id: str) -> AccessToken:
        role: Role = user["role"]
        employer_id = user.get("employer_id") if role == "employer" else None
        binding = accounts.binding_of(user)
        token, expires_at = self.issue_token(
            user["login_id"], role, employer_id, session_id, binding
        )
        return AccessToken(token, expires_at, user["login_id"], role, employer_id, binding)

    async def exchange(self, session_token: str | None) -> AccessToken:
        """A fresh access token for a valid session (the portal's renewal)."""
        if not session_token:
            raise SessionInvalid()
        session = await self.sessions.get(session_key(session_token))
        if session is None or not accounts.session_active(session, self.clock()):
            raise SessionInvalid()
        user = await self.users.get(session["login_id"])
        if user is None or not accounts.is_active(user):
            raise SessionInvalid()
        return self._access(user, session["_id"])

    async def session_open(self, session_id: str | None) -> bool:
        """Whether the session a token names is still open (not revoked, not expired).

        A token without a session (``sid``) is not one identity issued at login; it is
        accepted as before (only the shared secret can sign one)."""
        if session_id is None:
            return True
        return accounts.session_active(await self.sessions.get(session_id), self.clock())

    async def logout(self, session_token: str | None) -> bool:
        """Revoke the session; ``False`` if there was no such open session."""
        if not session_token:
            return False
        key = session_key(session_token)
        before = await self.sessions.get(key)
        if before is None or before.get("revoked_at") is not None:
            return False
        revoke = partial(accounts.session_revoked, now=self.clock(), reason="logout")
        await self.sessions.update(key, revoke)
        log.info("identity.logout", login_id=before["login_id"])
        return True

    # --- lockout -------------------------------------------------------------------------

    async def _refuse_if_locked(self, login_id: str) -> None:
        if not is_login_id(login_id):
            return
        remaining = accounts.lock_remaining(await self.attempts.get(login_id), self.clock())
        if remaining is not None:
            raise LoginLocked(max(1, math.ceil(remaining.total_seconds())))

    async def _failed(self, login_id: str, error: IdentityError) -> NoReturn:
        """Count a failure for the login ID (known or not); the last allowed one locks it."""
        if is_login_id(login_id):
            now = self.clock()

            def fail(doc: Doc | None) -> tuple[Doc, list[Any]]:
                return accounts.failed_attempt(doc, now, self.lockout), []

            saved = await self.attempts.update(login_id, fail)
            remaining = accounts.lock_remaining(saved, now)
            if remaining is not None:
                log.warning("identity.locked", login_id=login_id, reason=error.code)
                raise LoginLocked(max(1, math.ceil(remaining.total_seconds())))
        log.info("identity.credentials_refused", reason=error.code)
        raise error

    # --- password change -----------------------------------------------------------------

    async def change_password(
        self,
        login_id: str,
        current_password: str | None,
        new_password: str | None,
        confirmation: str | None,
        *,
        keep_session: str | None = None,
    ) -> int:
        """Set a new password; every other session of the user is revoked (count returned)."""
        request = forms.parse_password_change(
            login_id, current_password, new_password, confirmation
        )
        await self._refuse_if_locked(login_id)
        user = await self.users.get(login_id)
        if user is None or not accounts.is_active(user):
            raise AccountNotFound()
        stored_hash: str = user["password_hash"]
        if not await self.hasher.verify(stored_hash, request.current_password):
            await self._failed(login_id, CurrentPasswordWrong())
        new_hash = await self.hasher.hash(request.new_password)
        now = self.clock()
        change = partial(
            accounts.password_changed, expected_hash=stored_hash, password_hash=new_hash, now=now
        )
        await self.users.update(login_id, change)
        keep = session_key(keep_session) if keep_session else None
        revoked = 0
        for session in await self.sessions.find({"login_id": login_id, "revoked_at": None}):
            if session["_id"] == keep:
                continue
            revoke = partial(accounts.session_revoked, now=now, reason="password_changed")
            await self.sessions.update(session["_id"], revoke)
            revoked += 1
        log.info("identity.password_changed", login_id=login_id, sessions_revoked=revoked)
        return revoked

    # --- account and employer profile ----------------------------------------------------

    async def account(self, login_id: str) -> dict[str, Any]:
        user = await self.users.get(login_id)
        if user is None or not accounts.is_active(user):
            raise AccountNotFound()
        view = accounts.account_view(user)
        view["employer_name"] = None
        if user.get("employer_id"):
            record = await self.employers.get(user["employer_id"])
            if record is not None and record["owner_login_id"] == login_id:
                view["employer_name"] = record["profile"]["employer_name"]
        return view

    async def _owned_employer(self, login_id: str, employer_id: str | None) -> Doc:
        record = await self.employers.get(employer_id) if employer_id else None
        if record is None or record["owner_login_id"] != login_id:
            raise EmployerNotFound()
        return record

    async def employer(self, login_id: str, employer_id: str | None) -> dict[str, Any]:
        return accounts.employer_view(await self._owned_employer(login_id, employer_id))

    async def employer_history(
        self, login_id: str, employer_id: str | None
    ) -> list[dict[str, Any]]:
        record = await self._owned_employer(login_id, employer_id)
        return list(record.get("history", []))

    async def update_employer(
        self, login_id: str, role: str, employer_id: str | None, raw: dict[str, str | None]
    ) -> dict[str, Any]:
        """Replace the 事業者 details; a change is audited in the same write."""
        profile = forms.parse_profile(raw)
        record = await self._owned_employer(login_id, employer_id)
        change = partial(
            accounts.profile_updated,
            profile=profile,
            by=login_id,
            role=role,
            now=self.clock(),
            correlation_id=get_correlation_id(),
        )
        saved = await self.employers.update(record["_id"], change)
        assert saved is not None
        if saved["version"] != record["version"]:
            changed = sorted(saved["history"][-1]["changes"]) if saved.get("history") else []
            log.info("identity.employer_updated", employer_id=record["_id"], fields=changed)
        return accounts.employer_view(saved)


async def create_staff(
    users: Documents,
    *,
    role: Role,
    login_id: str,
    email: str,
    password_hash: str,
    now: datetime,
    binding: Binding = UNBOUND,
) -> Doc:
    """A staff account with its binding (admin CLI); the login ID must be free."""
    staff = accounts.staff_user(login_id, role, email, password_hash, now, binding)
    try:
        return await users.insert(staff)
    except AlreadyExists:
        raise LoginIdTaken() from None


async def staff_role(users: Documents, login_id: str) -> Role:
    """The role of an active staff account (admin CLI ``bind-user``)."""
    user = await users.get(login_id)
    if user is None or not accounts.is_active(user) or user["role"] not in accounts.STAFF_ROLES:
        raise AccountNotFound()
    role: Role = user["role"]
    return role


async def bind_staff(users: Documents, login_id: str, binding: Binding, now: datetime) -> Doc:
    """Store a new binding on a staff account; its next access token carries it."""
    saved = await users.update(login_id, partial(accounts.rebound, binding=binding, now=now))
    assert saved is not None
    log.info("identity.staff_bound", login_id=login_id, body=binding.body, trades=binding.trades)
    return saved
