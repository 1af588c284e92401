"""Authentication shared by every service: EdDSA bearer tokens, identity's keys, ended sessions.

**Tokens.** The identity service alone holds the private keys (``IDENTITY_SIGNING_KEYS``,
Ed25519) and signs every access token with the first of them (JWT, ``alg: EdDSA``, the key's
RFC 7638 thumbprint as ``kid`` in the header). A token names its subject (login id), role,
for employers the employer id, for bound staff ``trades`` and ``body``, and always the
identity session it was issued for (``sid``): a token without one is refused.

**Keys.** Every other service verifies with identity's *public* keys, read from identity's
JWKS (``GET /.well-known/jwks.json`` at ``AUTH_ISSUER_URL``), cached in memory, refreshed
every ``AUTH_KEYS_REFRESH_SECONDS`` and at once (at most every ``MIN_REFETCH_SECONDS``) when
a token names a ``kid`` not in the cache. During a key rollover identity publishes two keys
and both verify; a key it no longer publishes stops verifying at the next refresh.

**Ended sessions.** Identity lists the sessions ended recently (logout, password change:
``GET /sessions/revocations``); every service polls that list every
``AUTH_REVOCATION_REFRESH_SECONDS`` and refuses the tokens of an ended session
(``401 session_revoked``). If the list could not be refreshed for
``AUTH_REVOCATION_MAX_STALE_SECONDS``, bearer requests are answered ``503 auth_unavailable``
instead of trusting an old list. Identity itself checks its own session store on each
request. The portal ends a session in its own cache at once when it logs the user out.

**Start order.** A service may start before identity: keys and the list are fetched in the
background (retried with a growing pause); until both are there, bearer requests get
``503 auth_unavailable`` (never a guess), and requests without a token are unaffected.

``build_authenticator(settings)`` makes what a service uses from its settings; identity
replaces it with its own keys and session store (``identity.inject``); tests use
``shared_kernel.infra.testing`` (generated keys, no revocation source).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from shared_kernel.infra.http import ApiError
from shared_kernel.infra.logging import get_logger
from shared_kernel.principal import Principal, Role

if TYPE_CHECKING:
    from shared_kernel.infra.settings import ServiceSettings

log = get_logger(__name__)

ALGORITHM = "EdDSA"
ISSUER = "noryoku-identity"
JWKS_PATH = "/.well-known/jwks.json"
REVOCATIONS_PATH = "/sessions/revocations"
MIN_REFETCH_SECONDS = 10.0
"""A token with an unknown ``kid`` makes a service fetch identity's keys again at most this
often (a flood of made-up ``kid`` values costs identity one request per 10 s per process)."""
FIRST_RETRY_SECONDS = 0.5

UNAUTHENTICATED = "ログインが必要です（認証情報が無効です）。"
SESSION_ENDED = "ログインの有効期限が切れたか、ログアウト済みです。再度ログインしてください。"
UNAVAILABLE = (
    "認証サービスに接続できないため、処理できません。しばらく時間をおいてから再度お試しください。"
)


# --- keys ----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_jwk(public: Ed25519PublicKey) -> dict[str, str]:
    """The JWK of a public key, with its RFC 7638 thumbprint as ``kid``."""
    x = _b64(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    members = {"crv": "Ed25519", "kty": "OKP", "x": x}  # the thumbprint's members, sorted
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = _b64(hashlib.sha256(canonical).digest())
    return {**members, "kid": kid, "alg": ALGORITHM, "use": "sig"}


class SigningKey:
    """An Ed25519 private key of identity's, with its ``kid``."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private
        self.public = private.public_key()
        self.jwk = public_jwk(self.public)
        self.kid = self.jwk["kid"]

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: str | bytes) -> SigningKey:
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("a signing key must be an Ed25519 private key (PKCS#8 PEM)")
        return cls(key)

    def pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")


_PEM_BLOCK = re.compile(r"-----BEGIN PRIVATE KEY-----.+?-----END PRIVATE KEY-----", re.DOTALL)


def load_signing_keys(text: str) -> list[SigningKey]:
    """The keys of ``IDENTITY_SIGNING_KEYS``: PKCS#8 PEM blocks one after another (the first
    signs, every one is published). Raises ``ValueError`` for anything else."""
    blocks = _PEM_BLOCK.findall(text.replace("\\n", "\n"))
    if not blocks:
        raise ValueError("no PEM private key (-----BEGIN PRIVATE KEY-----) found")
    try:
        keys = [SigningKey.from_pem(block) for block in blocks]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"an unreadable signing key: {type(exc).__name__}") from None
    if len({k.kid for k in keys}) != len(keys):
        raise ValueError("the same signing key is given twice")
    return keys


def jwks_of(keys: Sequence[SigningKey]) -> dict[str, Any]:
    return {"keys": [key.jwk for key in keys]}


def keys_from_jwks(document: Any) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS by ``kid``; other key types are ignored."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document")
    found: dict[str, Ed25519PublicKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, Mapping):
            continue
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        kid, x = jwk.get("kid"), jwk.get("x")
        if not isinstance(kid, str) or not isinstance(x, str):
            continue
        try:
            found[kid] = Ed25519PublicKey.from_public_bytes(_unb64(x))
        except ValueError:
            continue
    return found


def issue_token(
    key: SigningKey,
    principal: Principal,
    ttl: timedelta = timedelta(minutes=15),
    *,
    not_after: datetime | None = None,
) -> str:
    """A signed access token; it never outlives ``not_after`` (the session's expiry)."""
    if not principal.session:
        raise ValueError("an access token names its session (sid)")
    now = datetime.now(UTC)
    expires = now + ttl if not_after is None else min(now + ttl, not_after)
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "role": principal.role,
        "employer_id": principal.employer_id,
        "sid": principal.session,
        "iss": ISSUER,
        "iat": now,
        "exp": expires,
    }
    if principal.trades is not None:
        claims["trades"] = list(principal.trades)
    if principal.body:
        claims["body"] = principal.body
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


# --- fetching from identity ----------------------------------------------------------------


class AuthUnavailable(Exception):
    """Identity's keys or its list of ended sessions are not known (fresh enough)."""


class IdentityClient:
    """GETs JSON from identity (the issuer). Made lazily; tests give it an ASGI transport."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 3.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.transport = transport
        self._client: httpx.AsyncClient | None = None

    def use_transport(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport
        self._client = None

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.timeout,
                transport=self.transport,
                headers={"User-Agent": "noryoku-auth"},
            )
        try:
            answer = await self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise AuthUnavailable(f"{path}: {type(exc).__name__}") from exc
        if answer.status_code != 200:
            raise AuthUnavailable(f"{path}: HTTP {answer.status_code}")
        try:
            return answer.json()
        except ValueError as exc:
            raise AuthUnavailable(f"{path}: not JSON") from exc

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


async def _retrying(
    name: str,
    attempt: Callable[[], Awaitable[None]],
    every: float,
    *,
    first_retry: float = FIRST_RETRY_SECONDS,
) -> None:
    """Run ``attempt`` every ``every`` seconds; after a failure sooner (0.5 s, doubling)."""
    pause = first_retry
    while True:
        try:
            await attempt()
        except AuthUnavailable as exc:
            log.warning("auth.refresh_failed", source=name, error=str(exc), retry_in=pause)
            await asyncio.sleep(min(pause, every))
            pause = min(pause * 2, every)
            continue
        except Exception:
            log.exception("auth.refresh_failed", source=name)
            await asyncio.sleep(every)
            continue
        pause = first_retry
        await asyncio.sleep(every)


class KeySource(Protocol):
    async def key(self, kid: str) -> Ed25519PublicKey | None: ...

    async def run(self) -> None: ...


class StaticKeys:
    """Keys given in advance (identity's own; tests; a deployment that ships the JWKS)."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.keys = dict(keys)

    @classmethod
    def from_jwks(cls, document: Any) -> StaticKeys:
        if isinstance(document, str | bytes):
            document = json.loads(document)
        return cls(keys_from_jwks(document))

    @classmethod
    def of(cls, keys: Sequence[SigningKey]) -> StaticKeys:
        return cls({key.kid: key.public for key in keys})

    async def key(self, kid: str) -> Ed25519PublicKey | None:
        return self.keys.get(kid)

    async def run(self) -> None:
        return None


class RemoteKeys:
    """Identity's JWKS, cached; fetched again on a schedule and for an unknown ``kid``."""

    def __init__(
        self,
        client: IdentityClient,
        *,
        refresh_seconds: float = 300.0,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.refresh_seconds = refresh_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self.clock = clock
        self.keys: dict[str, Ed25519PublicKey] | None = None
        self.fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def fetch(self) -> None:
        async with self._lock:
            self._attempted_at = self.clock()
            document = await self.client.get_json(JWKS_PATH)
            try:
                keys = keys_from_jwks(document)
            except ValueError as exc:
                raise AuthUnavailable(f"{JWKS_PATH}: {exc}") from exc
            if not keys:
                raise AuthUnavailable(f"{JWKS_PATH}: no Ed25519 key")
            if self.keys is not None and set(keys) != set(self.keys):
                log.info("auth.keys_changed", kids=sorted(keys))
            self.keys, self.fetched_at = keys, self.clock()

    async def key(self, kid: str) -> Ed25519PublicKey | None:
        if self.keys is not None and kid in self.keys:
            return self.keys[kid]
        due = self._attempted_at is None or (
            self.clock() - self._attempted_at >= self.min_refetch_seconds
        )
        if due or self.keys is None:
            try:
                await self.fetch()
            except AuthUnavailable:
                if self.keys is None:
                    raise
                log.warning("auth.keys_refetch_failed", kid=kid)
        if self.keys is None:
            raise AuthUnavailable("identity's keys are not known yet")
        return self.keys.get(kid)

    async def run(self) -> None:
        await _retrying("keys", self.fetch, self.refresh_seconds)


# --- ended sessions ------------------------------------------------------------------------


class RevocationSource(Protocol):
    keep_seconds: float | None
    """Tokens must not live longer than this (identity keeps an ended session on its list
    this long); ``None``: no bound."""

    async def ended(self, session: str) -> bool: ...

    def end_locally(self, session: str) -> None: ...

    async def run(self) -> None: ...


class NoRevocations:
    """No list of ended sessions (tests only: ``AUTH_REVOCATION_CHECK=false`` is refused
    outside ``APP_ENV=test``). Sessions ended here are still remembered."""

    keep_seconds: float | None = None

    def __init__(self) -> None:
        self.local: set[str] = set()

    async def ended(self, session: str) -> bool:
        return session in self.local

    def end_locally(self, session: str) -> None:
        self.local.add(session)

    async def run(self) -> None:
        return None


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class RemoteRevocations:
    """Identity's list of ended sessions, polled; refused when too old.

    Worst case: a token of a session ended at ``t`` is refused from the first successful
    poll after ``t`` (normally within ``refresh_seconds``); while identity cannot be reached,
    tokens are accepted for at most ``max_stale_seconds`` after the last successful poll,
    then every bearer request is ``503 auth_unavailable`` until a poll succeeds.
    """

    def __init__(
        self,
        client: IdentityClient,
        *,
        refresh_seconds: float = 5.0,
        max_stale_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.refresh_seconds = refresh_seconds
        self.max_stale_seconds = max_stale_seconds
        self.clock = clock
        self.wall_clock = wall_clock
        self.revoked: dict[str, float] = {}  # session id → when it ended (epoch seconds)
        self.keep_seconds: float | None = None
        self.synced_at: float | None = None
        self.cursor: str | None = None
        self._lock = asyncio.Lock()

    def stale(self) -> bool:
        return self.synced_at is None or self.clock() - self.synced_at > self.max_stale_seconds

    async def sync(self) -> None:
        """Fetch what ended since the last poll (every page of it)."""
        async with self._lock:
            cursor = self.cursor
            for _ in range(100):  # pages of identity's answer
                params = {"since": cursor} if cursor else None
                page = await self.client.get_json(REVOCATIONS_PATH, params)
                if not isinstance(page, Mapping) or not isinstance(page.get("revoked"), list):
                    raise AuthUnavailable(f"{REVOCATIONS_PATH}: unexpected answer")
                for item in page["revoked"]:
                    if isinstance(item, Mapping) and isinstance(item.get("sid"), str):
                        self.revoked[item["sid"]] = _epoch(item.get("at")) or self.wall_clock()
                keep = page.get("keep_seconds")
                if isinstance(keep, int | float) and keep > 0:
                    self.keep_seconds = float(keep)
                following = page.get("next_since")
                cursor = following if isinstance(following, str) else cursor
                if page.get("complete", True):
                    break
            self.cursor = cursor
            self.synced_at = self.clock()
            if self.keep_seconds is not None:
                oldest = self.wall_clock() - self.keep_seconds - self.max_stale_seconds
                self.revoked = {s: at for s, at in self.revoked.items() if at >= oldest}

    async def ended(self, session: str) -> bool:
        if session in self.revoked:
            return True
        if self.stale():
            try:
                await self.sync()
            except AuthUnavailable as exc:
                log.warning("auth.revocations_stale", error=str(exc))
                raise AuthUnavailable("the list of ended sessions is too old") from exc
        return session in self.revoked

    def end_locally(self, session: str) -> None:
        self.revoked[session] = self.wall_clock()

    async def run(self) -> None:
        await _retrying("revocations", self.sync, self.refresh_seconds)


class SessionCheck:
    """Identity's own check: its session store, asked on each request."""

    def __init__(self, is_open: Callable[[str], Awaitable[bool]], keep_seconds: float) -> None:
        self.is_open = is_open
        self.keep_seconds: float | None = keep_seconds

    async def ended(self, session: str) -> bool:
        return not await self.is_open(session)

    def end_locally(self, session: str) -> None:
        return None  # identity's store already says so

    async def run(self) -> None:
        return None


# --- verifying -----------------------------------------------------------------------------


VERIFIED_KEEP = 4096
"""Tokens whose verification an :class:`Authenticator` remembers (≈ 1 KB each)."""


class _Verified:
    """A token that verified: its principal, the key that verified it, when it expires."""

    __slots__ = ("expires", "key", "kid", "lifetime", "principal")

    def __init__(
        self,
        principal: Principal,
        kid: str,
        key: Ed25519PublicKey,
        expires: float,
        lifetime: float,
    ) -> None:
        self.principal = principal
        self.kid = kid
        self.key = key
        self.expires = expires
        self.lifetime = lifetime


class Authenticator:
    """Verifies bearer tokens: signature by a key of identity's, claims, session not ended.

    A token that verified is remembered by its exact text until it expires (at most
    ``VERIFIED_KEEP`` of them): the same token again — a user's next requests — is not
    decoded and its signature not checked again (≈ 0.3 ms of CPU a request). It is still
    refused once expired (checked on every use, as the full check would), once identity no
    longer publishes the key that verified it, or once it lives longer than ended sessions
    are listed; whether its session ended is asked on every request (``authenticate``). A
    token that fails is never remembered.
    """

    def __init__(
        self,
        keys: KeySource,
        revocations: RevocationSource,
        *,
        client: IdentityClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.revocations = revocations
        self.client = client
        self.clock = clock
        self._verified: dict[str, _Verified] = {}

    async def _remembered(self, token: str) -> Principal | None:
        """The principal of a token verified before and still valid, else ``None``."""
        found = self._verified.get(token)
        if found is None:
            return None
        keep = self.revocations.keep_seconds
        if (
            found.expires <= self.clock()
            or (keep is not None and found.lifetime > keep)
            or await self.keys.key(found.kid) is not found.key
        ):
            del self._verified[token]
            return None
        return found.principal.model_copy()

    def _remember(self, token: str, verified: _Verified) -> None:
        if len(self._verified) >= VERIFIED_KEEP:
            now = self.clock()
            self._verified = {t: v for t, v in self._verified.items() if v.expires > now}
            if len(self._verified) >= VERIFIED_KEEP:  # the older half goes
                kept = list(self._verified.items())[VERIFIED_KEEP // 2 :]
                self._verified = dict(kept)
        self._verified[token] = verified

    def use_transport(self, transport: httpx.AsyncBaseTransport) -> None:
        """Reach identity through ``transport`` (tests: the identity app over ASGI)."""
        if self.client is not None:
            self.client.use_transport(transport)

    async def verify(self, token: str) -> Principal:
        """The token's principal (signature and claims checked; the session is not)."""
        try:
            remembered = await self._remembered(token)
        except AuthUnavailable as exc:
            raise unavailable() from exc
        if remembered is not None:
            return remembered
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise ApiError(401, "unauthenticated", UNAUTHENTICATED) from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not kid:
            raise ApiError(401, "unauthenticated", UNAUTHENTICATED)
        try:
            key = await self.keys.key(kid)
        except AuthUnavailable as exc:
            raise unavailable() from exc
        if key is None:
            raise ApiError(401, "unauthenticated", UNAUTHENTICATED)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "iss", "sub", "sid"]},
            )
            if not isinstance(claims["sid"], str) or not claims["sid"]:
                raise KeyError("sid")
            lifetime = float(claims["exp"]) - float(claims["iat"])
            keep = self.revocations.keep_seconds
            if keep is not None and lifetime > keep:
                raise ValueError("the token lives longer than an ended session is listed")
            principal = Principal(
                subject=claims["sub"],
                role=claims["role"],
                employer_id=claims.get("employer_id"),
                session=claims["sid"],
                trades=tuple(claims["trades"]) if claims.get("trades") is not None else None,
                body=claims.get("body"),
            )
            expires = float(claims["exp"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError, ValidationError) as exc:
            raise ApiError(401, "unauthenticated", UNAUTHENTICATED) from exc
        self._remember(token, _Verified(principal, kid, key, expires, lifetime))
        return principal.model_copy()

    async def session_ended(self, session: str) -> bool:
        """Whether the session ended (``AuthUnavailable`` when that cannot be told)."""
        return await self.revocations.ended(session)

    def end_session(self, session: str) -> None:
        """This process learns at once that the session ended (the portal's logout)."""
        self.revocations.end_locally(session)

    async def authenticate(self, token: str) -> Principal:
        principal = await self.verify(token)
        assert principal.session is not None
        try:
            ended = await self.session_ended(principal.session)
        except AuthUnavailable as exc:
            raise unavailable() from exc
        if ended:
            raise ApiError(401, "session_revoked", SESSION_ENDED)
        return principal

    async def run(self) -> None:
        """Background job: keep identity's keys and list of ended sessions fresh."""
        jobs = [asyncio.create_task(self.keys.run()), asyncio.create_task(self.revocations.run())]
        try:
            await asyncio.gather(*jobs)
            await asyncio.Event().wait()  # nothing to refresh: stay until cancelled
        finally:
            for job in jobs:
                job.cancel()
            for job in jobs:
                with suppress(asyncio.CancelledError):
                    await job
            if self.client is not None:
                await self.client.aclose()


def unavailable() -> ApiError:
    return ApiError(503, "auth_unavailable", UNAVAILABLE, {"retry_after_seconds": 5})


def build_authenticator(
    settings: ServiceSettings, transport: httpx.AsyncBaseTransport | None = None
) -> Authenticator:
    """What a service verifies tokens with, from its ``AUTH_*`` settings."""
    client = IdentityClient(
        settings.auth_issuer_url, timeout=settings.auth_timeout_seconds, transport=transport
    )
    keys: KeySource
    if settings.auth_jwks:
        keys = StaticKeys.from_jwks(settings.auth_jwks)
    else:
        keys = RemoteKeys(client, refresh_seconds=settings.auth_keys_refresh_seconds)
    revocations: RevocationSource
    if settings.auth_revocation_check:
        revocations = RemoteRevocations(
            client,
            refresh_seconds=settings.auth_revocation_refresh_seconds,
            max_stale_seconds=settings.auth_revocation_max_stale_seconds,
        )
    else:
        revocations = NoRevocations()
    return Authenticator(keys, revocations, client=client)


def authenticator_of(request: Request) -> Authenticator:
    auth = request.app.state.container.runtime.auth
    assert isinstance(auth, Authenticator)
    return auth


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    bearerFormat="JWT (EdDSA)",
    description=(
        "識別サービスが発行したアクセストークン（`Authorization: Bearer <token>`）。"
        "Access token issued by the identity service (POST /login); verified with its JWKS."
    ),
)
"""Declares the bearer scheme in OpenAPI for every route that requires a principal (the
header itself is read and verified below, with our own error answers)."""


def require(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """FastAPI dependency: the caller's principal, which must hold one of ``roles``."""

    async def dependency(
        request: Request, _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
    ) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthenticated", "ログインが必要です。")
        principal = await authenticator_of(request).authenticate(token)
        if roles and principal.role not in roles:
            raise ApiError(403, "forbidden", "この操作を行う権限がありません。")
        return principal

    return dependency
