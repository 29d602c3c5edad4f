"""The ASGI application: settings, database, Redis, middleware, error rendering, routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from redis.asyncio import Redis
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alojamientos import __version__
from alojamientos.admin import mount_admin
from alojamientos.auth.api import router as auth_router
from alojamientos.auth.service import TokenCache
from alojamientos.calendar_sync.api import router as calendar_router
from alojamientos.channels.whatsapp.webhook import router as whatsapp_router
from alojamientos.config import Settings, get_settings
from alojamientos.conversation.api import router as conversation_router
from alojamientos.db import Database
from alojamientos.errors import AppError
from alojamientos.jobs.api import router as jobs_router
from alojamientos.kit.inputs import is_data_exception, reject_unstorable_text
from alojamientos.observability.health import health
from alojamientos.observability.logging import RequestIdMiddleware
from alojamientos.observability.metrics import ERRORS, MetricsMiddleware, exposition
from alojamientos.observability.ratelimit import RateLimitMiddleware
from alojamientos.ops.api import router as flags_router
from alojamientos.payments.api import public as payment_pages
from alojamientos.payments.api import router as payments_router
from alojamientos.payments.webhook import router as mercadopago_router
from alojamientos.pricing.api import router as pricing_router
from alojamientos.reservations.api import router as reservations_router

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class SecurityHeadersMiddleware:
    """Headers the post-deploy checklist expects on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https" or (
            dict(scope["headers"]).get(b"x-forwarded-proto") == b"https"
        )

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _error(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **details}}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if isinstance(exc.details.get("retry_after"), int):  # 429 and 503: when to come back
            headers["Retry-After"] = str(exc.details["retry_after"])
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p != "body") or "body",
                "problem": e["msg"],
                "type": e["type"],
            }
            for e in exc.errors()
        ]
        malformed = any(e["type"] == "json_invalid" for e in exc.errors())
        return _error(
            422,
            "malformed_json" if malformed else "validation_error",
            "the request body is not valid JSON" if malformed else "the request is not valid",
            fields=fields,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail)}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # SQLSTATE class 22 (data exception: a number out of range, text PostgreSQL cannot store) is bad
        # input that got past validation: the caller's mistake, a 422, but logged and counted, since it
        # means a bound is missing somewhere.
        if is_data_exception(exc):
            ERRORS.labels("http.data_exception").inc()
            log.warning("http.data_exception", extra={"path": request.url.path, "error": str(exc.orig)})
            return _error(422, "invalid_input", "a value is outside what can be stored")
        return await unexpected(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        ERRORS.labels("http.unhandled").inc()
        log.exception("http.unhandled_error", extra={"path": request.url.path})
        return _error(500, "internal_error", "something went wrong on our side; it was logged")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(settings)
        app.state.redis = (
            Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
            if settings.redis_url
            else None
        )
        try:
            yield
        finally:
            if app.state.redis is not None:
                await app.state.redis.aclose()
            await app.state.db.dispose()

    app = FastAPI(
        title="alojamientos",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        dependencies=[Depends(reject_unstorable_text)],
    )
    app.state.settings = settings
    app.state.tokens = TokenCache()  # bearer tokens verified in the last few seconds
    _install_error_handlers(app)
    app.include_router(auth_router)
    app.include_router(reservations_router)
    app.include_router(conversation_router)
    app.include_router(whatsapp_router)
    app.include_router(jobs_router)
    app.include_router(flags_router)
    app.include_router(payments_router)
    app.include_router(mercadopago_router)
    app.include_router(payment_pages)
    app.include_router(calendar_router)
    app.include_router(pricing_router)

    @app.get("/api/v1/healthz", tags=["ops"])
    async def healthz(request: Request) -> JSONResponse:
        report = await health(request.app.state.db, request.app.state.redis, request.app.state.settings)
        return JSONResponse(report, status_code=503 if report["status"] == "unhealthy" else 200)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        """People who open the bare address want the panel (the API lives under /api/v1 and /docs)."""
        return RedirectResponse("/admin", status_code=307)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        # Gauges that live in the database (iCal sync lag) are refreshed at scrape time.
        await health(request.app.state.db, request.app.state.redis, request.app.state.settings)
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(
        RateLimitMiddleware,
        redis_getter=lambda: app.state.redis,
        login_per_minute=settings.rate_limit_login_per_minute,
        webhooks_per_minute=settings.rate_limit_webhooks_per_minute,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    mount_admin(app, settings)
    return app
