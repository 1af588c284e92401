"""Authentication shared by every service: HS256 bearer tokens and role checks.

The identity service issues tokens at login; every service verifies them with the shared
``JWT_SECRET``. A token names its subject (login id), role and, for employers, the
employer id, which is what every ownership check compares against.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from fastapi import Request
from pydantic import BaseModel, ValidationError

from shared_kernel.http import ApiError

Role = Literal["employer", "evaluator", "operator"]
ALGORITHM = "HS256"
ISSUER = "noryoku-identity"


class Principal(BaseModel):
    subject: str
    role: Role
    employer_id: str | None = None
    session: str | None = None
    """The identity session the token was issued for (claim ``sid``; identity refuses a
    token whose session was revoked by logout or a password change)."""


def issue_token(secret: str, principal: Principal, ttl: timedelta = timedelta(hours=8)) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": principal.subject,
        "role": principal.role,
        "employer_id": principal.employer_id,
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl,
    }
    if principal.session:
        claims["sid"] = principal.session
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER)
        return Principal(
            subject=claims["sub"],
            role=claims["role"],
            employer_id=claims.get("employer_id"),
            session=claims.get("sid"),
        )
    except (jwt.PyJWTError, KeyError, ValidationError) as exc:
        raise ApiError(
            401, "unauthenticated", "ログインが必要です（認証情報が無効です）。"
        ) from exc


def require(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """FastAPI dependency: the caller's principal, which must hold one of ``roles``."""

    async def dependency(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthenticated", "ログインが必要です。")
        secret = request.app.state.container.runtime.settings.jwt_secret.get_secret_value()
        principal = verify_token(secret, token)
        if roles and principal.role not in roles:
            raise ApiError(403, "forbidden", "この操作を行う権限がありません。")
        return principal

    return dependency
