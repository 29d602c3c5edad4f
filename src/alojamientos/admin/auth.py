"""Logging in and out of the panel with e-mail and password; the session lives in a signed cookie."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from alojamientos.admin.deps import (
    PREFIX,
    CsrfRejected,
    CurrentAdmin,
    MaybeAdmin,
    end_session,
    login_token_valid,
    set_login_cookie,
    start_session,
)
from alojamientos.admin.templating import render
from alojamientos.auth.errors import InvalidCredentials
from alojamientos.auth.service import auth
from alojamientos.db import SessionDep

router = APIRouter()

WRONG_CREDENTIALS = "El e-mail o la contraseña no son correctos."


def _safe_next(value: str | None) -> str:
    """Only our own pages: never an open redirect."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


def _login_page(
    request: Request, *, next_: str, email: str = "", error: str = "", status: int = 200
) -> Response:
    token = secrets.token_urlsafe(32)
    context = {"next": next_, "email": email, "error": error, "login_csrf": token}
    response = render(request, "admin/login.html", context, status_code=status)
    set_login_cookie(request, response, token)
    return response


@router.get("/login")
async def login_form(request: Request, admin: MaybeAdmin, next: str | None = None) -> Response:
    if admin is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if not login_token_valid(request, csrf_token):
        raise CsrfRejected
    try:
        operator = await auth.authenticate(session, email, password)
    except InvalidCredentials:
        return _login_page(request, next_=_safe_next(next), email=email, error=WRONG_CREDENTIALS, status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(response, request.app.state.settings, operator)
    return response


@router.post("/logout")
async def logout(admin: CurrentAdmin) -> Response:
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    end_session(response)
    return response
