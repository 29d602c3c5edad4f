"""Operator accounts: add one with an initial password, deactivate or reactivate the others."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin.deps import CurrentAdmin
from alojamientos.admin.settings._common import done, page
from alojamientos.auth.service import MIN_PASSWORD_LENGTH, auth
from alojamientos.db import SessionDep
from alojamientos.errors import AppError
from alojamientos.kit.inputs import Id

router = APIRouter()


async def _page(
    request: Request, session: AsyncSession, typed: dict[str, str] | None = None, **kwargs: object
) -> Response:
    context = {
        "sub": "operadores",
        "operators": await auth.operators(session),
        "me": request.state.admin.operator_id,
        "min_password": MIN_PASSWORD_LENGTH,
        "typed": typed or {},
    }
    return page(request, "operators.html", context, **kwargs)  # type: ignore[arg-type]


@router.get("/operadores")
async def operators_page(request: Request, session: SessionDep, hecho: str = "", error: str = "") -> Response:
    return await _page(request, session, hecho=hecho, error=error)


@router.post("/operadores")
async def add_operator(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    email: Annotated[str, Form(max_length=300)] = "",
    nombre: Annotated[str, Form(max_length=200)] = "",
    clave: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        async with session.begin_nested():  # a refusal undoes only this
            await auth.add_operator(session, email, clave, name=nombre)
    except AppError as exc:
        # The password is never sent back to the browser.
        return await _page(request, session, {"email": email, "nombre": nombre}, error=exc)
    return done("/operadores", "operador")


@router.post("/operadores/{operator_id}/desactivar")
async def deactivate(operator_id: Id, session: SessionDep, admin: CurrentAdmin) -> Response:
    await auth.set_active(session, operator_id, False, by=admin.operator_id)
    return done("/operadores", "desactivado")


@router.post("/operadores/{operator_id}/reactivar")
async def reactivate(operator_id: Id, session: SessionDep, admin: CurrentAdmin) -> Response:
    await auth.set_active(session, operator_id, True, by=admin.operator_id)
    return done("/operadores", "reactivado")
