"""HTTP routes of the identity service (port 8001).

Public (rate-limited per client IP and per login ID):

* ``POST /registrations`` 利用者仮申請 (mails an activation link; limited per e-mail
  address and client address in the database); ``POST /activations/check`` the login ID a
  link activates; ``POST /activations`` 利用者本申請 with the link's token;
* ``POST /sessions`` login (session cookie + access token; throttled per login ID and
  source); ``POST /sessions/token`` a fresh access token for the session cookie;
  ``DELETE /sessions/current`` logout;
* ``GET /.well-known/jwks.json`` the public keys of the access tokens, and
  ``GET /sessions/revocations`` the sessions ended recently (opaque session ids and times:
  what every service needs to refuse their tokens; ``shared_kernel.infra.auth``).

The client address is the socket peer, or — only when the peer is one of
``IDENTITY_TRUSTED_PROXIES`` — the last address in ``X-Forwarded-For`` that is not a
trusted proxy (``adapters/inbound/client.py``).

With a bearer token (any role): ``GET /me``, ``PUT /me/password``; employers only:
``GET``/``PUT /employers/me`` and ``GET /employers/me/history`` (the audit trail).

Every error is ``{code, message}`` (Japanese), translated by the one shared translator
from the core's ``DomainError`` s (``core/errors.py``) with the statuses of ``STATUS``;
validation errors add ``errors: [{field, code?, message}]`` with one Japanese message per
field, waits add ``retry_after_seconds`` and a ``Retry-After`` header. The routes get the
service and their ``Web`` through dependency placeholders that ``inject.py`` overrides.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from identity.adapters.inbound.client import Network, client_address
from identity.adapters.inbound.ratelimit import RateLimits
from identity.config import Settings
from identity.core.accounts import AccountView, EmployerView, ProfileChange
from identity.core.errors import (
    AccountNotFound,
    ActivationExpired,
    ActivationMailFailed,
    CurrentPasswordWrong,
    EmployerAlreadyRegistered,
    EmployerNotFound,
    InvalidActivation,
    InvalidCredentials,
    LoginIdTaken,
    LoginThrottled,
    RateLimited,
    RegistrationLimited,
    SessionInvalid,
    ValidationFailed,
)
from identity.core.service import AccessToken, IdentityService
from identity.core.tokens import parse_activation_token
from shared_kernel.infra.auth import JWKS_PATH, REVOCATIONS_PATH, require
from shared_kernel.principal import Principal

router = APIRouter()

STATUS: dict[str, int] = {
    ValidationFailed.code: 422,
    LoginIdTaken.code: 409,
    EmployerAlreadyRegistered.code: 409,
    InvalidCredentials.code: 401,
    InvalidActivation.code: 401,
    SessionInvalid.code: 401,
    ActivationExpired.code: 410,
    LoginThrottled.code: 429,
    RegistrationLimited.code: 429,
    RateLimited.code: 429,
    ActivationMailFailed.code: 503,
    CurrentPasswordWrong.code: 400,
    AccountNotFound.code: 404,
    EmployerNotFound.code: 404,
}
"""The HTTP status of each refusal of the core (``install_error_translator``)."""


@dataclass(frozen=True)
class Web:
    """What the routes need besides the service: the session cookie's settings, the
    per-process request limits, the proxies whose ``X-Forwarded-For`` is believed and the
    public keys of the access tokens (read at each request: a rollover changes them)."""

    settings: Settings
    limits: RateLimits
    trusted_proxies: tuple[Network, ...]
    jwks: Callable[[], dict[str, Any]]


def get_service() -> IdentityService:
    """Placeholder: ``inject.py`` overrides it with the running service."""
    raise NotImplementedError


def get_web() -> Web:
    """Placeholder: ``inject.py`` overrides it with the running service's ``Web``."""
    raise NotImplementedError


ServiceDep = Annotated[IdentityService, Depends(get_service)]
WebDep = Annotated[Web, Depends(get_web)]
AnyUser = Annotated[
    Principal,
    Depends(require("employer", "evaluator", "operator", "criteria_editor", "criteria_approver")),
]
"""Every role; the token's session must be open (identity checks its own session store, so
a token outlives neither logout nor a password change here)."""
Employer = Annotated[Principal, Depends(require("employer"))]


# --- request and response bodies -----------------------------------------------------------


class _Form(BaseModel):
    """Fields are optional strings here: the core checks them all and answers per field."""

    model_config = ConfigDict(extra="forbid")


class RegistrationRequest(_Form):
    login_id: str | None = Field(
        None, description="ログインID：半角英数字8〜16文字（大文字・小文字を区別、変更不可）"
    )
    email: str | None = Field(None, description="仮パスワード送信先のメールアドレス")
    employer_id: str | None = Field(None, description="事業者ID（14桁）")
    employer_name: str | None = Field(None, description="商号又は名称")
    address: str | None = Field(None, description="所在地")
    representative_name: str | None = Field(None, description="代表者名")
    phone_number: str | None = Field(None, description="電話番号")
    permit_number: str | None = Field(
        None, description="建設業許可番号（任意）：例 国土交通大臣許可(特-25)第123号"
    )


class ActivationRequest(_Form):
    token: SecretStr | None = Field(None, description="メールの本申請用リンクの token")
    new_password: SecretStr | None = Field(
        None,
        description=(
            "英大文字・英小文字と、数字または記号を組み合わせた8文字以上"
            "（よく使われるパスワード、ログインIDを含むものは不可）"
        ),
    )
    new_password_confirmation: SecretStr | None = None


class ActivationCheckRequest(_Form):
    token: SecretStr | None = None


class LoginRequest(_Form):
    login_id: str | None = None
    password: SecretStr | None = None


class PasswordChangeRequest(_Form):
    current_password: SecretStr | None = None
    new_password: SecretStr | None = None
    new_password_confirmation: SecretStr | None = None


class EmployerProfileRequest(_Form):
    """Replaces the 事業者 details (PUT): an absent ``permit_number`` removes it."""

    employer_name: str | None = None
    address: str | None = None
    representative_name: str | None = None
    phone_number: str | None = None
    permit_number: str | None = None


class RegistrationResponse(BaseModel):
    login_id: str
    email: str
    expires_at: datetime
    message: str


class ActivationCheckResponse(BaseModel):
    login_id: str


class ActivationResponse(BaseModel):
    login_id: str
    employer_id: str
    activated_at: datetime
    message: str


class TokenResponse(BaseModel):
    access_token: str
    session_id: str | None = Field(
        None, description="トークンの sid（セッションの識別子。SHA-256、それ自体では何も開けない）"
    )
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    expires_in: int
    login_id: str
    role: str
    employer_id: str | None
    body: str | None = Field(None, description="能力評価実施団体（割当のある職員のみ）")
    trades: list[str] | None = Field(
        None,
        description="割り当てられた分野（null: 割当なし＝全分野、または分野に関係しないロール）",
    )


class LoginResponse(TokenResponse):
    session_expires_at: datetime


class Revocation(BaseModel):
    sid: str
    at: datetime


class RevocationsResponse(BaseModel):
    revoked: list[Revocation]
    next_since: datetime
    complete: bool
    keep_seconds: float


class MessageResponse(BaseModel):
    message: str


# --- helpers -------------------------------------------------------------------------------


def client_ip(request: Request, web: Web) -> str:
    """The client address: the peer, or what a trusted proxy says it forwarded for."""
    return client_address(request, web.trusted_proxies)


def _refuse_if_limited(retry_after: float | None) -> None:
    if retry_after is not None:
        raise RateLimited(max(1, math.ceil(retry_after)))


async def limit_ip(request: Request, web: WebDep) -> None:
    """Per-client-IP limit of the public endpoints (runs before the body is read)."""
    _refuse_if_limited(web.limits.by_ip.hit(client_ip(request, web)))


def limit_login_id(web: Web, login_id: str | None, request: Request) -> None:
    """Requests naming one login ID from one client address (per process). Per login ID
    *and* address: a flood naming someone's login ID does not keep its owner out (issue 22;
    the cap per login ID over every address is the throttle's, in the database)."""
    if login_id:
        _refuse_if_limited(web.limits.by_login_id.hit(f"{login_id}|{client_ip(request, web)}"))


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def _token_fields(access: AccessToken) -> dict[str, Any]:
    remaining = (access.expires_at - datetime.now(UTC)).total_seconds()
    return {
        "access_token": access.token,
        "session_id": access.session_id,
        "expires_at": access.expires_at,
        "expires_in": max(0, int(remaining)),
        "login_id": access.login_id,
        "role": access.role,
        "employer_id": access.employer_id,
        "body": access.binding.body,
        "trades": None if access.binding.trades is None else list(access.binding.trades),
    }


def _session_cookie(request: Request, web: Web) -> str | None:
    return request.cookies.get(web.settings.session_cookie_name)


Public = [Depends(limit_ip)]


# --- routes --------------------------------------------------------------------------------


@router.get("/", summary="サービス情報")
async def about() -> dict[str, str]:
    return {"service": "identity", "title": "利用者管理サービス"}


@router.post(
    "/registrations",
    status_code=201,
    summary="利用者仮申請（仮パスワードをメールで送付）",
    dependencies=Public,
)
async def register(
    body: RegistrationRequest, request: Request, service: ServiceDep, web: WebDep
) -> RegistrationResponse:
    limit_login_id(web, body.login_id, request)
    receipt = await service.register(body.model_dump(), client=client_ip(request, web))
    return RegistrationResponse(
        login_id=receipt.login_id,
        email=receipt.email,
        expires_at=receipt.expires_at,
        message=(
            f"利用者本申請のためのリンクを {receipt.email} 宛てに送信しました。"
            "有効期限内にメールのリンクを開き、利用者本申請を行ってください。"
        ),
    )


def _token_login_id(token: SecretStr | None) -> str | None:
    parsed = parse_activation_token(_secret(token))
    return parsed[0] if parsed else None


@router.post(
    "/activations/check",
    summary="本申請用リンクの確認（ログインIDを返す）",
    dependencies=Public,
)
async def check_activation(
    body: ActivationCheckRequest, request: Request, service: ServiceDep, web: WebDep
) -> ActivationCheckResponse:
    limit_login_id(web, _token_login_id(body.token), request)
    login_id = await service.activation_account(_secret(body.token))
    return ActivationCheckResponse(login_id=login_id)


@router.post("/activations", summary="利用者本申請（パスワードの設定）", dependencies=Public)
async def activate(
    body: ActivationRequest, request: Request, service: ServiceDep, web: WebDep
) -> ActivationResponse:
    limit_login_id(web, _token_login_id(body.token), request)
    receipt = await service.activate(
        _secret(body.token),
        _secret(body.new_password),
        _secret(body.new_password_confirmation),
    )
    return ActivationResponse(
        login_id=receipt.login_id,
        employer_id=receipt.employer_id,
        activated_at=receipt.activated_at,
        message="利用者本申請が完了しました。設定したパスワードでログインしてください。",
    )


@router.post(
    "/sessions",
    status_code=201,
    summary="ログイン（セッションCookieとアクセストークンを発行）",
    dependencies=Public,
)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    service: ServiceDep,
    web: WebDep,
) -> LoginResponse:
    limit_login_id(web, body.login_id, request)
    result = await service.login(
        body.login_id, _secret(body.password), client=client_ip(request, web)
    )
    settings = web.settings
    response.set_cookie(
        settings.session_cookie_name,
        result.session_token,
        max_age=int(settings.session_ttl_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure or request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return LoginResponse(
        **_token_fields(result.access), session_expires_at=result.session_expires_at
    )


@router.post(
    "/sessions/token",
    summary="セッションCookieから新しいアクセストークンを発行",
    dependencies=Public,
)
async def exchange(
    request: Request, response: Response, service: ServiceDep, web: WebDep
) -> TokenResponse:
    access = await service.exchange(_session_cookie(request, web))
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(**_token_fields(access))


@router.delete(
    "/sessions/current",
    status_code=204,
    summary="ログアウト（セッションの失効）",
    dependencies=Public,
)
async def logout(request: Request, service: ServiceDep, web: WebDep) -> Response:
    await service.logout(_session_cookie(request, web))
    response = Response(status_code=204)
    settings = web.settings
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure or request.url.scheme == "https",
    )
    return response


@router.get(JWKS_PATH, summary="アクセストークンの公開鍵（JWKS）")
async def jwks(response: Response, web: WebDep) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return web.jwks()


@router.get(REVOCATIONS_PATH, summary="最近終了したセッション（各サービスが失効確認に使用）")
async def revocations(service: ServiceDep, since: datetime | None = None) -> RevocationsResponse:
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    found, next_since, complete = await service.ended_sessions(since)
    return RevocationsResponse(
        revoked=[Revocation(sid=entry.id, at=entry.at) for entry in found],
        next_since=next_since,
        complete=complete,
        keep_seconds=service.revocation_keep.total_seconds(),
    )


@router.get("/me", summary="ログイン中の利用者")
async def me(principal: AnyUser, service: ServiceDep) -> AccountView:
    return await service.account(principal.subject)


@router.put("/me/password", summary="パスワード変更（他のセッションは失効）")
async def change_password(
    body: PasswordChangeRequest,
    principal: AnyUser,
    request: Request,
    service: ServiceDep,
    web: WebDep,
) -> MessageResponse:
    await service.change_password(
        principal.subject,
        _secret(body.current_password),
        _secret(body.new_password),
        _secret(body.new_password_confirmation),
        keep_session=_session_cookie(request, web),
        client=client_ip(request, web),
    )
    return MessageResponse(message="パスワードを変更しました。")


@router.get("/employers/me", summary="事業者情報の参照")
async def employer(principal: Employer, service: ServiceDep) -> EmployerView:
    return await service.employer(principal.subject, principal.employer_id)


@router.put("/employers/me", summary="事業者情報の変更（ログインID・事業者IDは変更不可）")
async def update_employer(
    body: EmployerProfileRequest, principal: Employer, service: ServiceDep
) -> EmployerView:
    return await service.update_employer(
        principal.subject, principal.role, principal.employer_id, body.model_dump()
    )


@router.get("/employers/me/history", summary="事業者情報の変更履歴（変更者・日時・変更前後）")
async def employer_history(principal: Employer, service: ServiceDep) -> list[ProfileChange]:
    return await service.employer_history(principal.subject, principal.employer_id)
