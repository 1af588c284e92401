"""The identity service's use cases: 仮申請, 本申請, login, sessions, passwords, profile.

It talks to storage only through typed repositories (the ``Aggregates`` port), to argon2 through the
``PasswordHasher`` port and to the mail server through ``ActivationMailer``; every change
goes through ``update`` (read, change, write by ``_id`` + version, retried on concurrent
writes) and the events a change raises are stored with it (outbox) and published by the
relay.

Secrets: the activation link of a 利用者仮申請 exists in plain text only in this process's
memory between its generation and the mail server; it is stored as a SHA-256 and never
logged, returned, or put in an event. Passwords are stored as argon2id hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import NoReturn

from identity.core import accounts, forms, limits, throttle
from identity.core.accounts import Employer, Revocation, Role, Session, User
from identity.core.activation_mail import ActivationMail, activation_link
from identity.core.binding import UNBOUND, Binding
from identity.core.errors import (
    AccountNotFound,
    ActivationExpired,
    ActivationMailFailed,
    CurrentPasswordWrong,
    EmployerAlreadyRegistered,
    EmployerNotFound,
    IdentityError,
    InvalidActivation,
    InvalidCredentials,
    LoginIdTaken,
    LoginThrottled,
    RegistrationLimited,
    SessionInvalid,
)
from identity.core.limits import RegistrationCount
from identity.core.policies import is_login_id
from identity.core.throttle import AccountAttempts, SourceAttempts, ThrottlePolicy
from identity.core.tokens import (
    activation_token,
    new_activation_secret,
    new_session_token,
    parse_activation_token,
    same_hash,
    secret_hash,
    session_key,
)
from identity.ports import ActivationMailer, MailUnavailable, PasswordHasher
from shared_kernel.aggregate import Aggregates
from shared_kernel.context import get_correlation_id, get_logger
from shared_kernel.errors import AlreadyExists
from shared_kernel.events import Envelope

log = get_logger(__name__)

IssueToken = Callable[[str, Role, str | None, str, Binding, datetime], tuple[str, datetime]]
"""(subject, role, employer_id, session id, binding, session expiry) → (signed access token,
its expiry). The session id (the session document's ``_id``, a SHA-256 of the cookie: it
opens nothing) goes into the token as ``sid``, so that every service can refuse a token
whose session ended; the binding as ``body`` and ``trades`` (only when the account is
bound); the token never outlives its session."""
REVOCATION_OVERLAP = timedelta(seconds=30)
"""A poll of the ended sessions asks again for this much before its last answer (a write
that took its time is not missed; a session seen twice is harmless)."""
REVOCATIONS_PAGE = 5000


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
    session_id: str | None = None


@dataclass(frozen=True)
class LoginResult:
    session_token: str
    session_expires_at: datetime
    access: AccessToken


DEFAULT_EMAIL_LIMIT = limits.Limit("email", 3, timedelta(hours=1))
DEFAULT_IP_LIMIT = limits.Limit("ip", 20, timedelta(hours=1))
DEFAULT_THROTTLE = ThrottlePolicy()


@dataclass(frozen=True)
class RegistrationLimits:
    per_email: limits.Limit = DEFAULT_EMAIL_LIMIT
    per_ip: limits.Limit = DEFAULT_IP_LIMIT


DEFAULT_LIMITS = RegistrationLimits()


class IdentityService:
    def __init__(
        self,
        users: Aggregates[User],
        employers: Aggregates[Employer],
        sessions: Aggregates[Session],
        attempts: Aggregates[SourceAttempts],
        account_attempts: Aggregates[AccountAttempts],
        hasher: PasswordHasher,
        *,
        revocations: Aggregates[Revocation],
        registration_counts: Aggregates[RegistrationCount],
        mailer: ActivationMailer,
        issue_token: IssueToken,
        activation_ttl: timedelta,
        session_ttl: timedelta,
        access_ttl: timedelta,
        portal_base_url: str,
        throttle_policy: ThrottlePolicy = DEFAULT_THROTTLE,
        registration_limits: RegistrationLimits = DEFAULT_LIMITS,
        pending_retention: timedelta = timedelta(0),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.users = users
        self.employers = employers
        self.sessions = sessions
        self.attempts = attempts  # login_attempts: failures per (login ID, source)
        self.account_attempts = account_attempts  # login_attempts: per login ID
        self.revocations = revocations  # sessions ended recently, for every service
        self.registration_counts = registration_counts
        self.hasher = hasher
        self.mailer = mailer
        self.issue_token = issue_token
        self.activation_ttl = activation_ttl
        self.session_ttl = session_ttl
        self.access_ttl = access_ttl
        self.portal_base_url = portal_base_url
        self.throttle = throttle_policy
        self.registration_limits = registration_limits
        self.pending_retention = pending_retention
        self.clock = clock
        self.new_activation_secret: Callable[[], str] = new_activation_secret
        self.new_session_token: Callable[[], str] = new_session_token

    # --- 利用者仮申請 ---------------------------------------------------------------------

    async def register(
        self, raw: dict[str, str | None], *, client: str | None = None
    ) -> RegistrationReceipt:
        """Reserve a login ID and mail an activation link (identity sends that mail itself;
        the event ``UserProvisionallyRegistered`` v2 carries no secret).

        Limited per e-mail address and per client address (``core/limits.py``) before
        anything is written or mailed."""
        registration = forms.parse_registration(raw)
        login_id = registration.login_id
        await self._count_registration(registration.email, client)
        await self._employer_owner(registration.employer_id, login_id)
        existing = await self.users.get(login_id)
        if existing is not None and not existing.is_provisional:
            raise LoginIdTaken()
        secret = self.new_activation_secret()
        now = self.clock()
        change = partial(
            accounts.provisional_registration,
            registration=registration,
            activation_hash=secret_hash(secret),
            now=now,
            ttl=self.activation_ttl,
            pending_retention=self.pending_retention,
        )
        saved = await self.users.update(login_id, change)
        assert saved is not None
        assert saved.activation is not None
        expires_at = saved.activation.expires_at
        mail = ActivationMail(
            to=registration.email,
            login_id=login_id,
            employer_name=registration.profile.employer_name,
            link=activation_link(self.portal_base_url, activation_token(login_id, secret)),
            expires_at=expires_at,
            portal_url=self.portal_base_url.rstrip("/") + "/",
        )
        del secret
        try:
            await self.mailer.send(mail)
        except MailUnavailable as exc:
            log.warning("identity.activation_mail_failed", login_id=login_id, error=str(exc))
            raise ActivationMailFailed() from exc
        log.info(
            "identity.provisionally_registered",
            login_id=login_id,
            employer_id=registration.employer_id,
            registrations=saved.registrations,
            expires_at=expires_at.isoformat(),
        )
        return RegistrationReceipt(login_id, registration.email, expires_at)

    async def _count_registration(self, email: str, client: str | None) -> None:
        now = self.clock()
        checks = [(self.registration_limits.per_email, limits.email_key(email))]
        if client:
            checks.insert(0, (self.registration_limits.per_ip, throttle.source_of(client)))
        for limit, key in checks:

            def count(
                counter: RegistrationCount | None, limit: limits.Limit = limit, key: str = key
            ) -> tuple[RegistrationCount, list[Envelope]]:
                return limits.counted(counter, limit=limit, key=key, now=now), []

            try:
                await self.registration_counts.update(limits.limit_id(limit, key, now), count)
            except limits.Exhausted as exc:
                seconds = max(1, int(exc.remaining.total_seconds() + 0.999))
                log.warning("identity.registration_limited", limit=limit.kind, retry_after=seconds)
                raise RegistrationLimited(seconds) from None

    async def _employer_owner(self, employer_id: str, login_id: str) -> str | None:
        """The current owner of the 事業者 record; refuses one held by another active account."""
        record = await self.employers.get(employer_id)
        if record is None:
            return None
        owner = record.owner_login_id
        if owner != login_id:
            holder = await self.users.get(owner)
            if holder is not None and holder.is_active and holder.employer_id == employer_id:
                raise EmployerAlreadyRegistered()
        return owner

    # --- 利用者本申請 ---------------------------------------------------------------------

    async def activate(
        self,
        token: str | None,
        new_password: str | None,
        confirmation: str | None,
    ) -> ActivationReceipt:
        """利用者本申請 with the link's token: the account is active, the link is spent."""
        parsed = parse_activation_token(token)
        request = forms.parse_activation(
            parsed[0] if parsed else None, token, new_password, confirmation
        )
        if parsed is None:
            raise InvalidActivation()
        login, secret = parsed
        user = await self.users.get(login)
        stored = None if user is None else user.activation_hash
        if user is None or not user.is_provisional or not stored:
            log.info("identity.activation_refused", reason="unknown")
            raise InvalidActivation()
        if not same_hash(stored, secret):
            log.info("identity.activation_refused", login_id=login, reason="wrong_link")
            raise InvalidActivation()
        now = self.clock()
        if accounts.activation_expired(user, now):
            log.info("identity.activation_expired", login_id=login)
            raise ActivationExpired()
        employer_id = user.employer_id
        assert employer_id is not None
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
            accounts.activation, activation_hash=stored, password_hash=password_hash, now=now
        )
        await self.users.update(login, activate)
        log.info("identity.activated", login_id=login, employer_id=employer_id)
        return ActivationReceipt(login, employer_id, now)

    async def activation_account(self, token: str | None) -> str:
        """The login ID a valid, unexpired link activates (the portal shows it before the
        password is chosen); ``InvalidActivation`` / ``ActivationExpired`` otherwise."""
        forms.parse_activation_check(token)
        parsed = parse_activation_token(token)
        if parsed is None:
            raise InvalidActivation()
        login, secret = parsed
        user = await self.users.get(login)
        stored = None if user is None else user.activation_hash
        if user is None or not user.is_provisional or not stored or not same_hash(stored, secret):
            raise InvalidActivation()
        if accounts.activation_expired(user, self.clock()):
            raise ActivationExpired()
        return login

    # --- login, sessions, tokens ---------------------------------------------------------

    async def login(
        self, login_id: str | None, password: str | None, *, client: str | None = None
    ) -> LoginResult:
        """Check the password; open a session and issue an access token.

        A source that failed too often waits (``core/throttle.py``): refused before any
        password is checked. An unknown login ID costs one argon2 verification too (against
        a dummy hash) and fails with the same error; failures are counted per login ID and
        source whether or not the ID exists.
        """
        credentials = forms.parse_credentials(login_id, password)
        login = credentials.login_id
        source = throttle.source_of(client)
        await self._refuse_if_throttled(login, source)
        user = await self.users.get(login) if is_login_id(login) else None
        if user is None or not user.is_active:
            await self.hasher.verify_dummy(credentials.password)
            await self._failed(login, source, InvalidCredentials())
        stored_hash = user.password_hash
        assert stored_hash is not None
        if not await self.hasher.verify(stored_hash, credentials.password):
            await self._failed(login, source, InvalidCredentials())
        await self._succeeded(login, source)
        if self.hasher.needs_rehash(stored_hash):
            fresh = await self.hasher.hash(credentials.password)
            await self.users.update(
                login, partial(accounts.rehashed, old_hash=stored_hash, new_hash=fresh)
            )
        now = self.clock()
        token = self.new_session_token()
        session = accounts.new_session(session_key(token), user, now, self.session_ttl, source)
        await self.sessions.insert(session)
        log.info("identity.login", login_id=login, role=user.role, source=source)
        return LoginResult(token, session.expires_at, self._access(user, session))

    def _access(self, user: User, session: Session) -> AccessToken:
        role = user.role
        employer_id = user.employer_id if role == "employer" else None
        binding = user.binding
        token, expires_at = self.issue_token(
            user.login_id, role, employer_id, session.id, binding, session.expires_at
        )
        return AccessToken(token, expires_at, user.login_id, role, employer_id, binding, session.id)

    async def exchange(self, session_token: str | None) -> AccessToken:
        """A fresh access token for a valid session (the portal's renewal)."""
        if not session_token:
            raise SessionInvalid()
        session = await self.sessions.get(session_key(session_token))
        if session is None or not accounts.session_active(session, self.clock()):
            raise SessionInvalid()
        user = await self.users.get(session.login_id)
        if user is None or not user.is_active:
            raise SessionInvalid()
        return self._access(user, session)

    async def session_open(self, session_id: str) -> bool:
        """Whether the session a token names is open (exists, not ended, not expired)."""
        return accounts.session_active(await self.sessions.get(session_id), self.clock())

    async def logout(self, session_token: str | None) -> bool:
        """End the session; ``False`` if there was no such open session."""
        if not session_token:
            return False
        key = session_key(session_token)
        before = await self.sessions.get(key)
        if before is None or before.revoked_at is not None:
            return False
        await self._end_session(key, reason="logout")
        log.info("identity.logout", login_id=before.login_id)
        return True

    async def _end_session(self, session_id: str, *, reason: str) -> None:
        """Mark the session ended and list it for every service (``GET /sessions/revocations``).

        The list entry is written first: if the second write fails, the session is refused
        everywhere already and the next logout or password change marks it again."""
        now = self.clock()
        entry = accounts.revocation(
            session_id, at=now, reason=reason, keep_until=now + self.revocation_keep
        )
        with suppress(AlreadyExists):
            await self.revocations.insert(entry)
        revoke = partial(accounts.session_revoked, now=now, reason=reason)
        await self.sessions.update(session_id, revoke)

    @property
    def revocation_keep(self) -> timedelta:
        """How long an ended session stays listed: longer than any token of it may live."""
        return self.access_ttl + timedelta(minutes=1)

    async def ended_sessions(
        self, since: datetime | None
    ) -> tuple[list[Revocation], datetime, bool]:
        """Sessions ended at or after ``since`` (default: as far back as a token of theirs
        may still live), oldest first: (entries, where the next poll starts, complete)."""
        now = self.clock()
        floor = now - self.revocation_keep
        start = floor if since is None or since < floor else since
        found = await self.revocations.find(
            {"at": {"$gte": start}}, sort=[("at", 1)], limit=REVOCATIONS_PAGE
        )
        if len(found) >= REVOCATIONS_PAGE:
            return found, found[-1].at, False
        return found, max(start, now - REVOCATION_OVERLAP), True

    # --- throttling ----------------------------------------------------------------------

    async def _refuse_if_throttled(self, login_id: str, source: str) -> None:
        if not is_login_id(login_id):
            return
        now = self.clock()
        key = throttle.source_key(login_id, source)
        tried = await self.attempts.get(key)
        account = await self.account_attempts.get(login_id)
        wait = throttle.wait_of(tried, account, source, now, self.throttle)
        if wait is None:
            return

        def refused(tried: SourceAttempts | None) -> tuple[SourceAttempts, list[Envelope]]:
            new = throttle.source_throttled(tried, login_id=login_id, source=source, now=now)
            return new, []

        await self.attempts.update(key, refused)
        seconds = max(1, int(wait.total_seconds() + 0.999))
        log.warning("identity.login_throttled", login_id=login_id, source=source, wait=seconds)
        raise LoginThrottled(seconds)

    async def _failed(self, login_id: str, source: str, error: IdentityError) -> NoReturn:
        """Count a failure for the login ID (known or not) from this source."""
        if is_login_id(login_id):
            now = self.clock()

            def failed(tried: SourceAttempts | None) -> tuple[SourceAttempts, list[Envelope]]:
                new = throttle.source_failed(
                    tried, login_id=login_id, source=source, now=now, policy=self.throttle
                )
                return new, []

            def account(counted: AccountAttempts | None) -> tuple[AccountAttempts, list[Envelope]]:
                return throttle.account_failed(counted, login_id=login_id, now=now), []

            saved = await self.attempts.update(throttle.source_key(login_id, source), failed)
            await self.account_attempts.update(login_id, account)
            assert saved is not None
            blocked_until = saved.blocked_until
            log.warning(
                "identity.login_failed",
                login_id=login_id,
                source=source,
                reason=error.code,
                failures=saved.failures,
                wait_until=blocked_until.isoformat() if blocked_until else None,
            )
        else:
            log.info("identity.credentials_refused", reason=error.code)
        raise error

    async def _succeeded(self, login_id: str, source: str) -> None:
        now = self.clock()
        key = throttle.source_key(login_id, source)

        def cleared(tried: SourceAttempts | None) -> tuple[SourceAttempts, list[Envelope]] | None:
            new = throttle.source_succeeded(tried, now=now)
            return None if new is None else (new, [])

        def known(account: AccountAttempts | None) -> tuple[AccountAttempts, list[Envelope]]:
            new = throttle.account_succeeded(account, login_id=login_id, source=source, now=now)
            return new, []

        await self.attempts.update(key, cleared)
        await self.account_attempts.update(login_id, known)

    # --- password change -----------------------------------------------------------------

    async def change_password(
        self,
        login_id: str,
        current_password: str | None,
        new_password: str | None,
        confirmation: str | None,
        *,
        keep_session: str | None = None,
        client: str | None = None,
    ) -> int:
        """Set a new password; every other session of the user is ended (count returned)."""
        request = forms.parse_password_change(
            login_id, current_password, new_password, confirmation
        )
        source = throttle.source_of(client)
        await self._refuse_if_throttled(login_id, source)
        user = await self.users.get(login_id)
        if user is None or not user.is_active:
            raise AccountNotFound()
        stored_hash = user.password_hash
        assert stored_hash is not None
        if not await self.hasher.verify(stored_hash, request.current_password):
            await self._failed(login_id, source, CurrentPasswordWrong())
        new_hash = await self.hasher.hash(request.new_password)
        now = self.clock()
        change = partial(
            accounts.password_changed, expected_hash=stored_hash, password_hash=new_hash, now=now
        )
        await self.users.update(login_id, change)
        keep = session_key(keep_session) if keep_session else None
        revoked = 0
        for session in await self.sessions.find({"login_id": login_id, "revoked_at": None}):
            if session.id == keep:
                continue
            await self._end_session(session.id, reason="password_changed")
            revoked += 1
        log.info("identity.password_changed", login_id=login_id, sessions_revoked=revoked)
        return revoked

    # --- account and employer profile ----------------------------------------------------

    async def account(self, login_id: str) -> accounts.AccountView:
        user = await self.users.get(login_id)
        if user is None or not user.is_active:
            raise AccountNotFound()
        record = await self.employers.get(user.employer_id) if user.employer_id else None
        if record is None or not record.owned_by(login_id):
            return accounts.account_view(user)
        return accounts.account_view(user, record.profile.employer_name)

    async def _owned_employer(self, login_id: str, employer_id: str | None) -> Employer:
        record = await self.employers.get(employer_id) if employer_id else None
        if record is None or not record.owned_by(login_id):
            raise EmployerNotFound()
        return record

    async def employer(self, login_id: str, employer_id: str | None) -> accounts.EmployerView:
        return accounts.employer_view(await self._owned_employer(login_id, employer_id))

    async def employer_history(
        self, login_id: str, employer_id: str | None
    ) -> list[accounts.ProfileChange]:
        record = await self._owned_employer(login_id, employer_id)
        return record.history

    async def update_employer(
        self, login_id: str, role: str, employer_id: str | None, raw: dict[str, str | None]
    ) -> accounts.EmployerView:
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
        saved = await self.employers.update(record.id, change)
        assert saved is not None
        if saved.version != record.version:
            changed = sorted(saved.history[-1].changes) if saved.history else []
            log.info("identity.employer_updated", employer_id=record.id, fields=changed)
        return accounts.employer_view(saved)


async def create_staff(
    users: Aggregates[User],
    *,
    role: Role,
    login_id: str,
    email: str,
    password_hash: str,
    now: datetime,
    binding: Binding = UNBOUND,
) -> User:
    """A staff account with its binding (admin CLI); the login ID must be free."""
    staff = accounts.staff_user(login_id, role, email, password_hash, now, binding)
    try:
        return await users.insert(staff)
    except AlreadyExists:
        raise LoginIdTaken() from None


async def staff_role(users: Aggregates[User], login_id: str) -> Role:
    """The role of an active staff account (admin CLI ``bind-user``)."""
    user = await users.get(login_id)
    if user is None or not user.is_active or not user.is_staff:
        raise AccountNotFound()
    return user.role


async def bind_staff(
    users: Aggregates[User], login_id: str, binding: Binding, now: datetime
) -> User:
    """Store a new binding on a staff account; its next access token carries it."""
    saved = await users.update(login_id, partial(accounts.rebound, binding=binding, now=now))
    assert saved is not None
    log.info("identity.staff_bound", login_id=login_id, body=binding.body, trades=binding.trades)
    return saved
