"""Blocks: nights a unit is closed for our own reasons (maintenance, the owner's family, a painter).

They live as reservation rows of kind `block`, so the same exclusion constraint keeps guests out,
and they are exported to Airbnb and Booking like any stay. Other channels' blocks are shown here
too, read-only: they come and go with their feed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin import labels
from alojamientos.admin.deps import PREFIX, CurrentAdmin
from alojamientos.admin.forms import parse_date
from alojamientos.admin.templating import render
from alojamientos.calendar_sync.models import IcalFeed
from alojamientos.db import SessionDep
from alojamientos.errors import AppError, InvalidInput
from alojamientos.kit.inputs import stored_id
from alojamientos.reservations import holds, repository, transitions
from alojamientos.reservations.models import Accommodation
from alojamientos.reservations.types import NewBlock

router = APIRouter(prefix="/bloqueos")


class IncompleteBlock(InvalidInput):
    code = "incomplete_block"


@dataclass
class BlockForm:
    unidad: str = ""
    entrada: str = ""
    salida: str = ""
    motivo: str = ""

    def parsed(self) -> NewBlock:
        check_in, check_out = parse_date(self.entrada), parse_date(self.salida)
        unit_id = stored_id(self.unidad)
        if not (unit_id and check_in and check_out and check_out > check_in):
            raise IncompleteBlock("a unit and a non-empty date range are needed")
        return NewBlock(unit_id, check_in, check_out, self.motivo.strip() or "Mantenimiento")


async def _form_page(
    request: Request, session: AsyncSession, form: BlockForm, error: str = "", status: int = 200
) -> Response:
    units = await session.scalars(select(Accommodation).order_by(Accommodation.name))
    context = {"form": asdict(form), "units": list(units), "error": error}
    return render(request, "admin/blocks/new.html", context, status_code=status)


@router.get("/nuevo")
async def new_block_form(
    request: Request, session: SessionDep, unidad: str = "", entrada: str = "", salida: str = ""
) -> Response:
    return await _form_page(request, session, BlockForm(unidad, entrada, salida))


@router.post("/nuevo")
async def create_block(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    unidad: Annotated[str, Form(max_length=12)] = "",
    entrada: Annotated[str, Form(max_length=10)] = "",
    salida: Annotated[str, Form(max_length=10)] = "",
    motivo: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    form = BlockForm(unidad, entrada, salida, motivo)
    try:
        blocked = await holds.block(session, form.parsed(), actor=admin.actor)
    except AppError as exc:
        # block() writes nothing before it refuses (an overlap rolls back its savepoint).
        return await _form_page(request, session, form, labels.error_message(exc.code), exc.status)
    return RedirectResponse(f"{PREFIX}/bloqueos/{blocked.code}?hecho=bloqueada", status_code=303)


@router.get("/{code}")
async def block_detail(request: Request, code: str, session: SessionDep, hecho: str = "") -> Response:
    found = await repository.get(session, code)
    if found.kind != "block":
        return RedirectResponse(f"{PREFIX}/reservas/{found.code}", status_code=303)
    feed = await session.get(IcalFeed, found.feed_id) if found.feed_id is not None else None
    context = {
        "b": found,
        "unit": await session.get_one(Accommodation, found.accommodation_id),
        "feed": feed,
        "nights": (found.check_out - found.check_in).days,
        "ours": found.feed_id is None,
        "done": labels.DONE.get(hecho, ""),
    }
    return render(request, "admin/blocks/detail.html", context)


@router.post("/{code}/liberar")
async def release_block(code: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    released = await transitions.unblock(session, code, actor=admin.actor)
    return RedirectResponse(f"{PREFIX}/bloqueos/{released.code}?hecho=liberada", status_code=303)
