"""The operator's web panel: a sub-app at /admin, server-rendered, that calls the same services as the API."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

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

__all__ = ["mount_admin"]


def _back(request: Request) -> str | None:
    """Where a failed form came from (our own page), to show the error there."""
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc != request.url.netloc or not parts.path.startswith(PREFIX + "/"):
        return None
    return parts.path


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
            return RedirectResponse(f"{back}?error={quote(exc.code)}", status_code=303)
        return render(request, "admin/error.html", {"message": error_message(exc.code)}, exc.status)

    @admin.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return render(request, "admin/error.html", {"message": error_message("invalid_input")}, 422)

    @admin.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = error_message("not_found") if exc.status_code == 404 else DEFAULT_ERROR
        return render(request, "admin/error.html", {"message": message}, exc.status_code)


def mount_admin(app: FastAPI, settings: Settings) -> None:
    """Mounts the panel at /admin; it shares the parent's state (database, Redis, settings)."""
    admin = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
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
