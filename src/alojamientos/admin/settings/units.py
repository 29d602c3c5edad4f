"""Units (cabañas): create one, and edit everything guests are told about it and what it costs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin.deps import CurrentAdmin
from alojamientos.admin.forms import parse_amount
from alojamientos.admin.settings._common import done, page, text, whole
from alojamientos.conversation.format import pesos
from alojamientos.db import SessionDep
from alojamientos.errors import AppError
from alojamientos.kit.inputs import Id
from alojamientos.reservations import repository, units
from alojamientos.reservations.errors import InvalidAccommodation
from alojamientos.reservations.models import Accommodation
from alojamientos.reservations.types import MAX_CAPACITY, UnitFields

router = APIRouter()


@dataclass
class UnitForm:
    """The unit form as typed, so a refused form comes back unchanged."""

    nombre: str = ""
    descripcion: str = ""
    capacidad: str = "4"
    ocupacion: str = "2"
    precio: str = ""
    fotos: str = ""
    instrucciones: str = ""
    activa: str = "si"

    @classmethod
    def of(cls, unit: Accommodation) -> UnitForm:
        return cls(
            nombre=unit.name,
            descripcion=unit.description,
            capacidad=str(unit.capacity),
            ocupacion=str(unit.base_occupancy),
            precio=pesos(unit.base_price).replace("$ ", ""),
            fotos="\n".join(unit.photos),
            instrucciones=unit.check_in_instructions,
            activa="si" if unit.active else "",
        )

    def fields(self) -> UnitFields:
        return UnitFields(
            name=self.nombre,
            description=text(self.descripcion),
            capacity=whole(self.capacidad, 1, MAX_CAPACITY, InvalidAccommodation),
            base_occupancy=whole(self.ocupacion, 1, MAX_CAPACITY, InvalidAccommodation),
            base_price=parse_amount(self.precio),
            photos=[line.strip() for line in self.fotos.splitlines() if line.strip()],
            check_in_instructions=text(self.instrucciones),
            active=self.activa == "si",
        )


def _form(
    nombre: Annotated[str, Form(max_length=200)] = "",
    descripcion: Annotated[str, Form(max_length=5000)] = "",
    capacidad: Annotated[str, Form(max_length=5)] = "",
    ocupacion: Annotated[str, Form(max_length=5)] = "",
    precio: Annotated[str, Form(max_length=40)] = "",
    fotos: Annotated[str, Form(max_length=70000)] = "",
    instrucciones: Annotated[str, Form(max_length=5000)] = "",
    activa: Annotated[str, Form(max_length=4)] = "",
) -> UnitForm:
    return UnitForm(nombre, descripcion, capacidad, ocupacion, precio, fotos, instrucciones, activa)


async def _list_page(
    request: Request, session: AsyncSession, *, form: UnitForm | None = None, **kwargs: object
) -> Response:
    rows = list(await session.scalars(select(Accommodation).order_by(Accommodation.name)))
    context = {"sub": "cabanas", "units": rows, "form": asdict(form or UnitForm(activa="si"))}
    return page(request, "units.html", context, **kwargs)  # type: ignore[arg-type]


async def _edit_page(
    request: Request, session: AsyncSession, unit_id: int, *, form: UnitForm | None = None, **kwargs: object
) -> Response:
    unit = await repository.accommodation(session, unit_id)
    context = {"sub": "cabanas", "unit": unit, "form": asdict(form or UnitForm.of(unit))}
    return page(request, "unit.html", context, **kwargs)  # type: ignore[arg-type]


@router.get("/cabanas")
async def units_page(request: Request, session: SessionDep, hecho: str = "", error: str = "") -> Response:
    return await _list_page(request, session, hecho=hecho, error=error)


@router.post("/cabanas")
async def create_unit(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    nombre: Annotated[str, Form(max_length=200)] = "",
    capacidad: Annotated[str, Form(max_length=5)] = "",
    ocupacion: Annotated[str, Form(max_length=5)] = "",
    precio: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    form = UnitForm(nombre=nombre, capacidad=capacidad, ocupacion=ocupacion, precio=precio, activa="si")
    try:
        async with session.begin_nested():  # a refusal undoes only this
            unit = await units.create_accommodation(session, form.fields())
    except AppError as exc:
        return await _list_page(request, session, form=form, error=exc)
    return done(f"/cabanas/{unit.id}", "cabana-creada")


@router.get("/cabanas/{unit_id}")
async def unit_page(
    unit_id: Id, request: Request, session: SessionDep, hecho: str = "", error: str = ""
) -> Response:
    return await _edit_page(request, session, unit_id, hecho=hecho, error=error)


@router.post("/cabanas/{unit_id}")
async def update_unit(
    unit_id: Id,
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    form: Annotated[UnitForm, Depends(_form)],
) -> Response:
    try:
        async with session.begin_nested():  # a refusal undoes only this
            await units.update_accommodation(session, unit_id, form.fields())
    except AppError as exc:
        return await _edit_page(request, session, unit_id, form=form, error=exc)
    return done(f"/cabanas/{unit_id}", "cabana")


@router.post("/cabanas/{unit_id}/precio")
async def set_unit_price(
    unit_id: Id,
    session: SessionDep,
    admin: CurrentAdmin,
    precio: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """The quick price row on the prices page; errors go back there (see admin's AppError handler)."""
    await units.update_accommodation(session, unit_id, UnitFields(base_price=parse_amount(precio)))
    return done("/precios", "precio")
