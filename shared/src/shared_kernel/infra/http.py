"""HTTP plumbing every service shares: probes, metrics, correlation ids, error shape."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared_kernel.errors import VALIDATION_MESSAGE, DomainError, StaleVersion
from shared_kernel.infra.logging import correlation_scope, get_logger
from shared_kernel.infra.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared_kernel.infra.tracing import EXCLUDED_URLS, current_provider

log = get_logger(__name__)


class ApiError(Exception):
    """A refusal of the web layer itself (authentication, request limits): HTTP status,
    stable code and a Japanese message. A core's refusals are ``DomainError`` s, given their
    status by the service's table (``install_error_translator``)."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def field_message(error: dict[str, Any], labels: Mapping[str, str]) -> tuple[str, str]:
    """The field and a Japanese message for an error pydantic found before the core ran
    (never the value sent)."""
    loc = [str(p) for p in error.get("loc", ())]
    field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "body")
    label = labels.get(field) or labels.get(loc[-1] if loc else "", field)
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "body", "リクエストの本文をJSONとして読み取れません"
    if len(loc) <= 1 or (kind in ("model_attributes_type", "dict_type") and len(loc) <= 2):
        if loc and loc[0] in ("query", "path", "header"):
            return field, f"{label}の値が正しくありません"
        return "body", "リクエストの本文はJSONオブジェクトで送信してください"
    if kind == "missing":
        return field, f"{label}を入力してください"
    if kind == "extra_forbidden":
        if field in IMMUTABLE_FIELDS:
            return field, f"{label}は変更できません"
        return field, f"{label}は指定できない項目です"
    if kind == "string_type":
        return field, f"{label}は文字列で入力してください"
    if kind in ("int_type", "int_parsing", "float_type", "float_parsing"):
        return field, f"{label}は数値で入力してください"
    if kind in ("bool_type", "bool_parsing"):
        return field, f"{label}は true または false で指定してください"
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        return field, f"{label}は YYYY-MM-DD 形式の日付で入力してください"
    if kind in ("list_type", "tuple_type"):
        return field, f"{label}は配列で指定してください"
    if kind in ("string_too_long", "too_long"):
        return field, f"{label}が長すぎます"
    if kind in ("string_too_short", "too_short"):
        return field, f"{label}が短すぎます"
    if kind in ("literal_error", "enum"):
        return field, f"{label}に指定できない値です"
    return field, f"{label}の値が正しくありません"


IMMUTABLE_FIELDS = frozenset({"login_id", "employer_id"})
"""Fields that name who the data belongs to: a body that sends them is told they cannot be
changed (rather than that they are unknown)."""


def install_error_translator(
    app: FastAPI,
    statuses: Mapping[str, int],
    *,
    field_labels: Mapping[str, str] | None = None,
) -> None:
    """The service's one translation of its core's refusals into HTTP: ``statuses`` maps
    each ``DomainError.code`` to its status (an unlisted code is 400, and logged as a gap);
    the answer is ``DomainError.body()``. ``field_labels``: Japanese names of request fields
    for the validation messages (``field_message``)."""
    app.state.field_labels = dict(field_labels or {})
    table = dict(statuses)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = table.get(exc.code)
        if status is None:
            log.warning("http.error_code_without_status", code=exc.code)
            status = 400
        return JSONResponse(status_code=status, content=exc.body(), headers=exc.headers or None)


# Starlette's own refusals (no route, wrong method, unreadable body …) in the stable shape.
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "リクエストの形式が正しくありません。"),
    401: ("unauthenticated", "ログインが必要です。"),
    403: ("forbidden", "この操作を行う権限がありません。"),
    404: ("not_found", "指定されたページまたはデータが見つかりません。"),
    405: ("method_not_allowed", "この操作（HTTPメソッド）はこのアドレスでは使用できません。"),
    406: ("not_acceptable", "指定された形式では応答できません。"),
    413: ("payload_too_large", "送信されたデータが大きすぎます。"),
    415: ("unsupported_media_type", "この形式のデータは受け付けていません。"),
    429: ("too_many_requests", "リクエストが多すぎます。しばらくしてから再度お試しください。"),
}
NUL_REFUSED = ("invalid_character", "使用できない文字（NUL文字）が含まれています。")
# a JSON string escape \u0000 (not an escaped backslash followed by "u0000")
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
HTTP_ERROR_OTHER = ("http_error", "リクエストを処理できませんでした。")
UNAVAILABLE = (
    "service_unavailable",
    "ただいまシステムを利用できません。しばらくしてから再度お試しください。",
)
BUSY = (
    "busy",
    "同じデータへの更新が重なりました。しばらくしてから再度お試しください。",
)
UNAVAILABLE_RETRY_AFTER_SECONDS = 5
RETRY_LATER: dict[type[Exception], tuple[str, str]] = {
    ConnectionFailure: UNAVAILABLE,  # the database is down or restarting
    StaleVersion: BUSY,  # the document kept changing, or a crashed writer's claim holds it
}
INTERNAL_ERROR = (
    "internal_error",
    "システムエラーが発生しました。しばらくしてから再度お試しください。",
)


async def carries_nul(request: Request) -> bool:
    """Whether the path, the query or a JSON body holds U+0000.

    The database (PostgreSQL under FerretDB) cannot store or even compare strings with NUL,
    and no field of ours needs one: such a request is refused at the edge.
    """
    if "\x00" in request.scope.get("path", ""):
        return True
    if b"\x00" in unquote_to_bytes(request.scope.get("query_string", b"")):
        return True
    if "json" in request.headers.get("content-type", "").lower():
        return _JSON_NUL.search(await request.body()) is not None
    return False


LOGGED_PATH_PARAMS = frozenset({"application_id", "line_id", "consent_id", "notice_id"})
"""Ids named in a request's path that its log line repeats, so that `python -m
shared_kernel.infra.trace <application number>` finds every request about it (ids only: no
worker ids, mail addresses or codes)."""

FAVICON = "data:,"
"""No favicon request at all (the documentation pages need none)."""

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def create_app(
    title: str,
    *,
    lifespan: Lifespan,
    readiness: Callable[[FastAPI], ReadinessCheck],
    version: str = "0.1.0",
) -> FastAPI:
    """A FastAPI app with ``/healthz``, ``/readyz``, ``/metrics`` and request logging.

    ``readiness(app)`` returns the check to run for ``/readyz`` once the lifespan started.
    """
    # Swagger UI (/docs) and ReDoc (/redoc) from the assets of the fastapi-offline package,
    # served by the service itself: the default pages load them from a CDN and stay blank
    # where the service cannot reach the internet (most production networks).
    app = FastAPIOffline(
        title=title,
        version=version,
        lifespan=lifespan,
        favicon_url=FAVICON,
        static_url="/docs-assets",
    )
    provider = current_provider()
    if provider is not None:
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=provider, excluded_urls=EXCLUDED_URLS
        )

    @app.middleware("http")
    async def correlation_and_metrics(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        with correlation_scope(request.headers.get("x-correlation-id")) as cid:
            if await carries_nul(request):
                code, message = NUL_REFUSED
                response: Response = JSONResponse(
                    status_code=422, content={"code": code, "message": message}
                )
            else:
                response = await call_next(request)
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(request.method, path, str(response.status_code)).inc()
            HTTP_LATENCY.labels(request.method, path).observe(elapsed)
            response.headers["X-Correlation-ID"] = cid
            if path not in ("/healthz", "/readyz", "/metrics"):
                params = request.scope.get("path_params") or {}
                log.info(
                    "http.request",
                    method=request.method,
                    path=path,
                    status=response.status_code,
                    ms=round(elapsed * 1000, 1),
                    **{k: str(v)[:64] for k, v in params.items() if k in LOGGED_PATH_PARAMS},
                )
            return response

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status,
            content={"code": exc.code, "message": exc.message, **exc.details},
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        labels: Mapping[str, str] = getattr(request.app.state, "field_labels", {})
        errors = [field_message(dict(e), labels) for e in exc.errors()]
        return JSONResponse(
            status_code=422,
            content={
                "code": "validation_error",
                "message": VALIDATION_MESSAGE,
                "errors": [{"field": f, "message": m} for f, m in errors],
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = HTTP_ERRORS.get(exc.status_code, HTTP_ERROR_OTHER)
        return JSONResponse(
            status_code=exc.status_code,
            content={"code": code, "message": message},
            headers=dict(exc.headers) if exc.headers else None,
        )

    async def retry_later(request: Request, exc: Exception) -> JSONResponse:
        # not a fault of the request, and nothing was written: 503 tells clients (and the
        # portal) to send the same request again a little later
        code, message = next(v for kind, v in RETRY_LATER.items() if isinstance(exc, kind))
        log.warning("http.retry_later", code=code, path=request.url.path, error=repr(exc)[:300])
        return JSONResponse(
            status_code=503,
            content={"code": code, "message": message},
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
        )

    for outage in RETRY_LATER:
        app.add_exception_handler(outage, retry_later)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # never a traceback in a response: the log has it (with the correlation id)
        log.error("http.internal_error", path=request.url.path, error=repr(exc), exc_info=exc)
        code, message = INTERNAL_ERROR
        return JSONResponse(status_code=500, content={"code": code, "message": message})

    @app.get("/healthz", tags=["probes"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"])
    async def readyz() -> JSONResponse:
        checks = await readiness(app)()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            status_code=200 if ready else 503,
            content={"status": "ready" if ready else "not ready", "checks": checks},
        )

    @app.get("/metrics", tags=["probes"])
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
