"""Feature flags: what each switch does, whether it is on, and who changed it last."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from alojamientos.admin.deps import CurrentAdmin
from alojamientos.admin.settings._common import done, page
from alojamientos.db import SessionDep
from alojamientos.ops.flags import FLAGS, flags

router = APIRouter()


@router.get("/funciones")
async def flags_page(request: Request, session: SessionDep, hecho: str = "", error: str = "") -> Response:
    integrations = await flags.integrations(session, request.app.state.settings)
    context = {
        "sub": "funciones",
        "flags": await flags.all(session),
        "specs": FLAGS,
        "integrations": {i.flag: i for i in integrations},
    }
    return page(request, "flags.html", context, hecho=hecho, error=error)


@router.post("/funciones/{name}")
async def set_flag(
    name: str,
    session: SessionDep,
    admin: CurrentAdmin,
    estado: Annotated[Literal["prender", "apagar"], Form()],
) -> Response:
    enabled = estado == "prender"
    await flags.set(session, name, enabled, actor=admin.actor)
    return done("/funciones", "funcion-prendida" if enabled else "funcion-apagada")
