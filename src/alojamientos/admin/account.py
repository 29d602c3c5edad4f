"""The operator's own password: checked by the auth service, changed, and other sessions ended."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from alojamientos.admin.deps import PREFIX, CurrentAdmin, start_session
from alojamientos.admin.templating import render
from alojamientos.auth.errors import InvalidCredentials, PasswordTooShort
from alojamientos.auth.service import MIN_PASSWORD_LENGTH, auth
from alojamientos.db import SessionDep

router = APIRouter()


def _page(request: Request, error: str = "", done: str = "", status: int = 200) -> Response:
    context = {"error": error, "done": done, "min_length": MIN_PASSWORD_LENGTH}
    return render(request, "admin/password.html", context, status_code=status)


@router.get("/clave")
async def password_form(request: Request, hecho: str = "") -> Response:
    return _page(request, done="Listo: cambiaste tu contraseña." if hecho else "")


@router.post("/clave")
async def change_password(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    actual: Annotated[str, Form(max_length=200)] = "",
    nueva: Annotated[str, Form(max_length=200)] = "",
    repetida: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if nueva != repetida:
        return _page(request, "Las dos contraseñas nuevas no coinciden.", status=422)
    try:
        operator = await auth.change_password(session, admin.operator_id, actual, nueva)
    except InvalidCredentials:
        return _page(request, "La contraseña actual no es correcta.", status=422)
    except PasswordTooShort:
        return _page(
            request, f"La contraseña nueva necesita al menos {MIN_PASSWORD_LENGTH} caracteres.", status=422
        )
    response = RedirectResponse(f"{PREFIX}/clave?hecho=1", status_code=303)
    start_session(response, request.app.state.settings, operator)  # this browser stays in; others leave
    return response
