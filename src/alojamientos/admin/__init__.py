"""The operator's web panel: a sub-app at /admin, server-rendered, that calls the same services as the API."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from alojamientos.admin import (
    account,
    auth,
    blocks,
    booking,
    calendar_grid,
    conversations,
    dashboard,
    reservations,
    system,
)
from alojamientos.admin import (
    settings as settings_pages,
)
from alojamientos.admin.deps import PREFIX, CsrfRejected, LoginRequired, require_operator
from alojamientos.admin.labels import DEFAULT_ERROR, error_message
from alojamientos.admin.templating import STATIC_DIR, render
from alojamientos.config import Settings
from alojamientos.errors import AppError
from alojamientos.kit.inputs import is_data_exception, reject_unstorable_text
from alojamientos.observability.metrics import ERRORS

__all__ = ["mount_admin"]

log = logging.getLogger(__name__)


def _back(request: Request) -> str | None:
    """Where a failed form came from (our own page), to show the error there."""
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc != request.url.netloc or not parts.path.startswith(PREFIX + "/"):
        return None
    return parts.path


@dataclass
class _Captured:
    body: bytes
    headers: dict[str, str]


async def _render_get(request: Request, path: str, query: str) -> _Captured | None:
    """The page at `path` as a GET would show it (same session), or None unless it renders a 200.

    A refused form answers with its own page and the message on it, under the refusal's 4xx status:
    the operator sees where they were, and scripts see the status.
    """
    scope = {
        **request.scope,
        "method": "GET",
        "path": PREFIX + path.removeprefix(PREFIX),
        "raw_path": (PREFIX + path.removeprefix(PREFIX)).encode(),
        "query_string": query.encode(),
        "headers": [
            (k, v) for k, v in request.scope["headers"] if k not in (b"content-type", b"content-length")
        ],
    }
    scope.pop("router", None)
    scope.pop("endpoint", None)
    scope.pop("route", None)
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    await request.scope["app"](scope, receive, send)
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    if start is None or start["status"] != 200:
        return None
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    headers = {
        k.decode(): v.decode()
        for k, v in start["headers"]
        if k.lower() in (b"content-type", b"cache-control")
    }
    return _Captured(body, headers)


def _install_handlers(admin: FastAPI) -> None:
    @admin.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = f"{PREFIX}/login"
        if request.method == "GET":
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target += f"?next={quote(path)}"
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @admin.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        message = "El formulario venció o no vino de esta página. Recargá la página y probá de nuevo."
        return render(request, "admin/error.html", {"message": message}, status_code=403)

    @admin.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        # Business outcomes (dates taken, wrong state): back to the page, with the message on it.
        back = _back(request)
        if request.method == "POST" and back is not None:
            page = await _render_get(request, back, f"error={quote(exc.code)}")
            if page is not None:
                return Response(page.body, status_code=exc.status, headers=page.headers)
        return render(request, "admin/error.html", {"message": error_message(exc.code)}, exc.status)

    @admin.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return render(request, "admin/error.html", {"message": error_message("invalid_input")}, 422)

    @admin.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        if not is_data_exception(exc):
            raise exc
        ERRORS.labels("admin.data_exception").inc()
        log.warning("admin.data_exception", extra={"path": request.url.path, "error": str(exc.orig)})
        return render(request, "admin/error.html", {"message": error_message("invalid_input")}, 422)

    @admin.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = error_message("not_found") if exc.status_code == 404 else DEFAULT_ERROR
        return render(request, "admin/error.html", {"message": message}, exc.status_code)


def mount_admin(app: FastAPI, settings: Settings) -> None:
    """Mounts the panel at /admin; it shares the parent's state (database, Redis, settings)."""
    admin = FastAPI(
        docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(reject_unstorable_text)]
    )
    admin.state = app.state  # one lifespan (the parent's) opens the database for both
    _install_handlers(admin)
    admin.include_router(auth.router)
    protected = [Depends(require_operator)]
    admin.include_router(dashboard.router, dependencies=protected)
    admin.include_router(booking.router, dependencies=protected)  # before /reservas/{code}
    admin.include_router(reservations.router, dependencies=protected)
    admin.include_router(conversations.router, dependencies=protected)
    admin.include_router(calendar_grid.router, dependencies=protected)
    admin.include_router(blocks.router, dependencies=protected)
    admin.include_router(settings_pages.router, dependencies=protected)
    admin.include_router(account.router, dependencies=protected)
    admin.include_router(system.router, dependencies=protected)
    admin.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(PREFIX, admin, name="admin")
