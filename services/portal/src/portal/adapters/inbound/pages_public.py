"""ポータル, 利用者仮申請, 利用者本申請, ログイン, ログアウト, ヘルプ (no login needed)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import jwt
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from portal.adapters.inbound.deps import Portal, PortalDep
from portal.adapters.inbound.web import (
    ROLE_HOME,
    checked_form,
    client_ip,
    redirect,
    render,
    session_of,
    text_fields,
    user_api,
    wants_html,
)
from portal.adapters.outbound.services import ServiceError, error_of, json_of, set_cookies

router = APIRouter()

REGISTRATION_FIELDS = (
    "login_id",
    "email",
    "employer_id",
    "employer_name",
    "address",
    "representative_name",
    "phone_number",
    "permit_number",
)
ACTIVATION_FIELDS = ("new_password", "new_password_confirmation")
SECRET_FIELDS = frozenset({"token", "new_password", "new_password_confirmation"})
CODE_FIELD = {
    "login_id_taken": "login_id",
    "employer_already_registered": "employer_id",
}


def safe_next(value: str | None) -> str | None:
    """A local path to return to after login (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


def form_failure(exc: ServiceError) -> tuple[dict[str, str], list[str]]:
    """Per-field messages and the messages shown above the form."""
    errors = dict(exc.fields)
    field = CODE_FIELD.get(exc.code)
    if field and field not in errors:
        errors[field] = exc.message
        return errors, []
    return errors, [exc.message]


@router.get("/", summary="ポータル", response_model=None)
async def portal(request: Request) -> Response:
    if not wants_html(request):  # API clients and probes: what every service answers
        return JSONResponse({"service": "portal", "title": "事業者ポータル"})
    return render(request, "portal.html")


@router.get("/help", summary="ヘルプ", response_model=None)
async def help_page(request: Request) -> Response:
    return render(request, "help.html")


# --- 利用者仮申請 --------------------------------------------------------------------------


@router.get("/register", summary="利用者仮申請", response_model=None)
async def register_form(request: Request) -> Response:
    return render(request, "register.html")


@router.post("/register", response_model=None)
async def register(request: Request, portal: PortalDep) -> Response:
    values = text_fields(await checked_form(request))
    body = {name: values.get(name, "") or None for name in REGISTRATION_FIELDS}
    api = user_api(request, portal)
    reply = await portal.services.send(
        "identity", "POST", "/registrations", json=body, headers=api.forwarded()
    )
    if reply.status != 201:
        failure = error_of("identity", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        errors, form_errors = form_failure(failure)
        return render(
            request,
            "register.html",
            {"values": values, "errors": errors, "form_errors": form_errors},
            status_code=failure.status,
        )
    receipt = json_of("identity", reply)
    return render(request, "register_done.html", {"receipt": receipt})


# --- 利用者本申請 --------------------------------------------------------------------------
#
# The mail's link is ``/register/activate?token=…``: the token goes into the sealed session
# cookie and the browser is sent on to the plain address at once (the secret leaves the
# address bar, the history and any Referer); the form then posts the new password and the
# token comes from the session. A used, replaced or expired link is told as such.


async def _check_link(
    request: Request, portal: Portal, token: str
) -> tuple[str | None, ServiceError | None]:
    reply = await portal.services.send(
        "identity",
        "POST",
        "/activations/check",
        json={"token": token},
        headers=user_api(request, portal).forwarded(),
    )
    if reply.status == 200:
        return str(json_of("identity", reply).get("login_id") or ""), None
    failure = error_of("identity", reply)
    if not isinstance(failure, ServiceError):
        raise failure
    return None, failure


@router.get("/register/activate", summary="利用者本申請", response_model=None)
async def activate_form(request: Request, portal: PortalDep, token: str = "") -> Response:
    session = session_of(request)
    if token:
        session.activation_token = token
        session.dirty = True
        return redirect("/register/activate")
    if not session.activation_token:
        return render(request, "activate.html", {"no_link": True})
    login_id, failure = await _check_link(request, portal, session.activation_token)
    if failure is not None:
        session.activation_token = None
        session.dirty = True
        return render(
            request,
            "activate.html",
            {
                "no_link": True,
                "form_errors": [failure.message],
                "expired": failure.code == "activation_expired",
            },
            status_code=failure.status,
        )
    return render(request, "activate.html", {"login_id": login_id})


@router.post("/register/activate", response_model=None)
async def activate(request: Request, portal: PortalDep) -> Response:
    values = text_fields(await checked_form(request))
    session = session_of(request)
    body: dict[str, str | None] = {name: values.get(name, "") or None for name in ACTIVATION_FIELDS}
    body["token"] = session.activation_token
    api = user_api(request, portal)
    reply = await portal.services.send(
        "identity", "POST", "/activations", json=body, headers=api.forwarded()
    )
    if reply.status != 200:
        failure = error_of("identity", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        errors, form_errors = form_failure(failure)
        link_failed = failure.code in ("invalid_activation", "activation_expired")
        if link_failed or "token" in errors:
            session.activation_token = None
            session.dirty = True
            form_errors = [errors.pop("token", "") or failure.message]
        login_id = None if link_failed else _login_of(session.activation_token)
        return render(
            request,
            "activate.html",
            {
                "errors": errors,
                "form_errors": form_errors,
                "no_link": session.activation_token is None,
                "login_id": login_id,
                "expired": failure.code == "activation_expired",
            },
            status_code=failure.status,
        )
    session.activation_token = None
    session.dirty = True
    return render(request, "activate_done.html", {"receipt": json_of("identity", reply)})


def _login_of(token: str | None) -> str | None:
    """The login ID part of an activation token (shown on the form; identity checks it)."""
    login_id, dot, _ = (token or "").partition(".")
    return login_id if dot and login_id.isalnum() else None


# --- ログイン / ログアウト -----------------------------------------------------------------


@router.get("/login", summary="ログイン", response_model=None)
async def login_form(request: Request, next: str = "") -> Response:
    session = session_of(request)
    if session.authenticated and not session.expired(time.time()):
        return redirect(safe_next(next) or ROLE_HOME.get(session.role or "", "/"))
    return render(request, "login.html", {"next": safe_next(next) or ""})


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@router.post("/login", response_model=None)
async def login(request: Request, portal: PortalDep) -> Response:
    form = await checked_form(request)
    values = text_fields(form)
    next_path = safe_next(values.get("next"))
    body = {"login_id": values.get("login_id") or None, "password": values.get("password") or None}
    container = portal
    forwarded = [("X-Forwarded-For", ip)] if (ip := client_ip(request)) else []
    reply = await container.services.send(
        "identity", "POST", "/sessions", json=body, headers=forwarded
    )
    if reply.status != 201:
        failure = error_of("identity", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        return render(
            request,
            "login.html",
            {
                "values": {"login_id": values.get("login_id", "")},
                "errors": failure.fields,
                "form_errors": [] if failure.fields else [failure.message],
                "next": next_path or "",
            },
            status_code=failure.status,
        )
    data = json_of("identity", reply)
    identity_session = set_cookies(reply).get(container.settings.identity_session_cookie)
    if not identity_session:
        return render(
            request,
            "login.html",
            {"form_errors": ["ログインできませんでした。時間をおいて再度お試しください。"]},
            status_code=502,
        )
    now = time.time()
    session = session_of(request)
    session.log_in(
        session_id=_session_id(data),
        login_id=str(data["login_id"]),
        role=str(data["role"]),
        employer_id=data.get("employer_id"),
        identity_session=identity_session,
        access_token=str(data["access_token"]),
        access_expires_at=now + float(data.get("expires_in") or 0),
        session_expires_at=_epoch(data.get("session_expires_at")),
    )
    home = ROLE_HOME.get(session.role or "", "/")
    return redirect(next_path if next_path and next_path != "/" else home)


def _session_id(data: dict[str, Any]) -> str | None:
    """The login's session id (the token's ``sid``): identity names it in its answer."""
    value = data.get("session_id")
    if isinstance(value, str) and value:
        return value
    try:
        claims = jwt.decode(str(data.get("access_token")), options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    sid = claims.get("sid")
    return sid if isinstance(sid, str) else None


@router.post("/logout", response_model=None)
async def logout(request: Request, portal: PortalDep) -> Response:
    await checked_form(request)
    await user_api(request, portal).logout()
    session = session_of(request)
    auth = portal.auth
    if session.session_id and auth is not None:
        auth.end_session(session.session_id)  # this portal refuses the cookie at once
    session.log_out()
    session.add_flash("info", "ログアウトしました。")
    return redirect("/")
