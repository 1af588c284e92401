"""ポータル, 利用者仮申請, 利用者本申請, ログイン, ログアウト, ヘルプ (no login needed)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from portal.adapters.inbound.web import (
    ROLE_HOME,
    checked_form,
    client_ip,
    container_of,
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
ACTIVATION_FIELDS = ("login_id", "temporary_password", "new_password", "new_password_confirmation")
SECRET_FIELDS = frozenset({"temporary_password", "new_password", "new_password_confirmation"})
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
async def register(request: Request) -> Response:
    values = text_fields(await checked_form(request))
    body = {name: values.get(name, "") or None for name in REGISTRATION_FIELDS}
    api = user_api(request)
    reply = await container_of(request).services.send(
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


@router.get("/register/activate", summary="利用者本申請", response_model=None)
async def activate_form(request: Request, login_id: str = "") -> Response:
    return render(request, "activate.html", {"values": {"login_id": login_id}})


@router.post("/register/activate", response_model=None)
async def activate(request: Request) -> Response:
    values = text_fields(await checked_form(request))
    body = {name: values.get(name, "") or None for name in ACTIVATION_FIELDS}
    api = user_api(request)
    reply = await container_of(request).services.send(
        "identity", "POST", "/activations", json=body, headers=api.forwarded()
    )
    kept = {k: v for k, v in values.items() if k not in SECRET_FIELDS}
    if reply.status != 200:
        failure = error_of("identity", reply)
        if not isinstance(failure, ServiceError):
            raise failure
        errors, form_errors = form_failure(failure)
        return render(
            request,
            "activate.html",
            {
                "values": kept,
                "errors": errors,
                "form_errors": form_errors,
                "expired": failure.code == "temporary_password_expired",
            },
            status_code=failure.status,
        )
    return render(request, "activate_done.html", {"receipt": json_of("identity", reply)})


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
async def login(request: Request) -> Response:
    form = await checked_form(request)
    values = text_fields(form)
    next_path = safe_next(values.get("next"))
    body = {"login_id": values.get("login_id") or None, "password": values.get("password") or None}
    container = container_of(request)
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


@router.post("/logout", response_model=None)
async def logout(request: Request) -> Response:
    await checked_form(request)
    await user_api(request).logout()
    session = session_of(request)
    session.log_out()
    session.add_flash("info", "ログアウトしました。")
    return redirect("/")
