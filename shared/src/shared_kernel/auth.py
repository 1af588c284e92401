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

Role = Literal["employer", "evaluator", "operator", "criteria_editor", "criteria_approver"]
ALGORITHM = "HS256"
ISSUER = "noryoku-identity"


class Principal(BaseModel):
    subject: str
    role: Role
    employer_id: str | None = None
    session: str | None = None
    """The identity session the token was issued for (claim ``sid``; identity refuses a
    token whose session was revoked by logout or a password change)."""
    trades: tuple[str, ...] | None = None
    """The 分野 a staff member is bound to (claim ``trades``): a criteria editor edits, an
    evaluator sees, only these. ``None``: not bound (employers, operators, approvers)."""
    body: str | None = None
    """The 能力評価実施団体 a staff member belongs to (claim ``body``), where bound."""

    def handles(self, trade: str) -> bool:
        """Whether this principal's 分野 binding covers ``trade`` (unbound: every 分野)."""
        return self.trades is None or trade in self.trades


def issue_token(secret: str, principal: Principal, ttl: timedelta = timedelta(hours=8)) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "role": principal.role,
        "employer_id": principal.employer_id,
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl,
    }
    if principal.session:
        claims["sid"] = principal.session
    if principal.trades is not None:
        claims["trades"] = list(principal.trades)
    if principal.body:
        claims["body"] = principal.body
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER)
        return Principal(
            subject=claims["sub"],
            role=claims["role"],
            employer_id=claims.get("employer_id"),
            session=claims.get("sid"),
            trades=tuple(claims["trades"]) if claims.get("trades") is not None else None,
            body=claims.get("body"),
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
