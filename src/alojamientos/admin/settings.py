"""Prices the operator sets: each cabin's nightly price and the rules every quote applies."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from alojamientos.admin.deps import PREFIX, CurrentAdmin
from alojamientos.admin.forms import parse_amount
from alojamientos.admin.labels import DONE, error_message
from alojamientos.admin.templating import render
from alojamientos.db import SessionDep
from alojamientos.errors import InvalidInput
from alojamientos.pricing.service import pricing
from alojamientos.reservations.models import Accommodation
from alojamientos.reservations.service import reservation as reservation_service

router = APIRouter(prefix="/ajustes")


class InvalidSetting(InvalidInput):
    code = "invalid_setting"


def _number(raw: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        value = Decimal(raw.strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidSetting(f"{raw!r} is not a number") from None
    if not value.is_finite() or not low <= value <= high:
        raise InvalidSetting(f"{raw!r} is outside {low}..{high}")
    return value


@router.get("")
async def settings_page(request: Request, session: SessionDep, hecho: str = "", error: str = "") -> Response:
    units = await session.scalars(select(Accommodation).order_by(Accommodation.name))
    context = {
        "units": list(units),
        "policy": await pricing.settings(session),
        "done": DONE.get(hecho, ""),
        "error": error_message(error) if error else "",
    }
    return render(request, "admin/settings.html", context)


@router.post("/cabanas/{unit_id}/precio")
async def set_unit_price(
    unit_id: int,
    session: SessionDep,
    admin: CurrentAdmin,
    precio: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    unit = await reservation_service.accommodation(session, unit_id)
    unit.base_price = parse_amount(precio)
    return RedirectResponse(f"{PREFIX}/ajustes?hecho=precio", status_code=303)


@router.post("/precios")
async def set_pricing_rules(
    session: SessionDep,
    admin: CurrentAdmin,
    sena: Annotated[str, Form(max_length=10)] = "",
    recargo: Annotated[str, Form(max_length=10)] = "",
    minimo: Annotated[str, Form(max_length=4)] = "",
    adicional: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    policy = await pricing.settings(session)
    policy.deposit_percent = _number(sena, Decimal(0), Decimal(100))
    policy.weekend_multiplier = 1 + _number(recargo, Decimal(0), Decimal(500)) / 100
    policy.default_min_nights = int(_number(minimo, Decimal(1), Decimal(60)))
    policy.extra_guest_fee = parse_amount(adicional) if adicional.strip() not in ("", "0") else Decimal(0)
    return RedirectResponse(f"{PREFIX}/ajustes?hecho=reglas", status_code=303)
