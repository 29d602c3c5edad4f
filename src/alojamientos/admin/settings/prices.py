"""Prices and rules: each unit's nightly price, the rules every quote applies, seasons, hold windows
and the texts guests are sent (cancellation policy, bank details)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import time
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin.deps import CurrentAdmin
from alojamientos.admin.forms import parse_amount, parse_date
from alojamientos.admin.settings._common import done, number, page, text, whole
from alojamientos.db import SessionDep
from alojamientos.errors import AppError
from alojamientos.kit.inputs import Id, stored_id
from alojamientos.pricing.models import Season
from alojamientos.pricing.rules import YearlyDates
from alojamientos.pricing.service import (
    MAX_HORIZON_DAYS,
    MAX_MIN_NIGHTS,
    MAX_STAY_NIGHTS,
    InvalidHoldWindow,
    InvalidHouseRules,
    InvalidSeason,
    InvalidStayLimits,
    NewSeason,
    payment_gaps,
    pricing,
)
from alojamientos.reservations.models import Accommodation

router = APIRouter()


def day_month(raw: str) -> tuple[int, int]:
    """`15/12` or `29/2` (day/month, as Argentines write it) → (month, day); checked by the service."""
    day, sep, month = raw.strip().partition("/")
    if not sep or not day.strip().isdigit() or not month.strip().isdigit():
        raise InvalidSeason(f"{raw!r} is not a day/month such as 15/12")
    return int(month), int(day)


def yearly_text(month: int | None, day: int | None) -> str:
    return f"{day:02d}/{month:02d}" if month and day else ""


@dataclass
class SeasonForm:
    """A season as typed: dated (first night, first night left out) or every year (first and last
    night as day/month), with a fixed nightly price or a percentage over each unit's own price."""

    nombre: str = ""
    cabana: str = ""  # "" = every unit
    desde: str = ""
    hasta: str = ""
    precio: str = ""
    ajuste: str = ""
    minimo: str = ""
    anual: str = ""  # "si": every year, from `primera` to `ultima`
    primera: str = ""
    ultima: str = ""

    @classmethod
    def of(cls, season: Season) -> SeasonForm:
        """The form filled with a stored season, to edit it."""
        percent = (
            "" if season.multiplier is None else f"{(season.multiplier - 1) * 100:f}".rstrip("0").rstrip(".")
        )
        return cls(
            nombre=season.name,
            cabana=str(season.accommodation_id or ""),
            desde=season.start_date.isoformat() if season.start_date else "",
            hasta=season.end_date.isoformat() if season.end_date else "",
            precio=f"{season.price_per_night:f}" if season.price_per_night is not None else "",
            ajuste=percent,
            minimo=str(season.min_nights or ""),
            anual="si" if season.yearly else "",
            primera=yearly_text(season.first_month, season.first_day),
            ultima=yearly_text(season.last_month, season.last_day),
        )

    def season(self) -> NewSeason:
        start = end = None
        yearly = None
        if self.anual:
            if not self.primera.strip() or not self.ultima.strip():
                raise InvalidSeason("a yearly season needs its first and last night")
            yearly = YearlyDates(first=day_month(self.primera), last=day_month(self.ultima))
        else:
            start, end = parse_date(self.desde), parse_date(self.hasta)
            if start is None or end is None:
                raise InvalidSeason("both dates are needed")
        price, percent = self.precio.strip(), self.ajuste.strip()
        if bool(price) == bool(percent):
            raise InvalidSeason("a nightly price or a percentage, not both and not neither")
        return NewSeason(
            name=self.nombre,
            start=start,
            end=end,
            yearly=yearly,
            accommodation_id=stored_id(self.cabana),
            price_per_night=parse_amount(price) if price else None,
            multiplier=1 + number(percent.lstrip("+"), Decimal(-99), Decimal(900), InvalidSeason) / 100
            if percent
            else None,
            min_nights=whole(self.minimo, 1, MAX_MIN_NIGHTS, InvalidSeason) if self.minimo.strip() else None,
        )


def _season_form(
    nombre: Annotated[str, Form(max_length=200)] = "",
    cabana: Annotated[str, Form(max_length=12)] = "",
    desde: Annotated[str, Form(max_length=12)] = "",
    hasta: Annotated[str, Form(max_length=12)] = "",
    precio: Annotated[str, Form(max_length=40)] = "",
    ajuste: Annotated[str, Form(max_length=12)] = "",
    minimo: Annotated[str, Form(max_length=4)] = "",
    anual: Annotated[str, Form(max_length=4)] = "",
    primera: Annotated[str, Form(max_length=8)] = "",
    ultima: Annotated[str, Form(max_length=8)] = "",
) -> SeasonForm:
    return SeasonForm(nombre, cabana, desde, hasta, precio, ajuste, minimo, anual, primera, ultima)


async def _page(
    request: Request,
    session: AsyncSession,
    *,
    season: SeasonForm | None = None,
    booking: dict[str, str] | None = None,
    house: dict[str, str] | None = None,
    stay: dict[str, str] | None = None,
    edited: tuple[int, SeasonForm] | None = None,
    **kwargs: object,
) -> Response:
    units = list(await session.scalars(select(Accommodation).order_by(Accommodation.name)))
    policy = await pricing.settings(session)
    seasons = await pricing.seasons(session)
    editing = None
    if edited is not None:
        name = next((s.name for s in seasons if s.id == edited[0]), edited[1].nombre)
        editing = {"id": edited[0], "name": name, "form": asdict(edited[1])}
    context = {
        "sub": "precios",
        "units": units,
        "unit_names": {u.id: u.name for u in units},
        "policy": policy,
        "payment_gaps": payment_gaps(policy),
        "booking_form": booking
        or {
            "plazo_mp": str(policy.hold_minutes_mercadopago),
            "plazo_transferencia": str(policy.hold_hours_transfer),
            "cancelacion": policy.cancellation_policy,
            "datos_bancarios": policy.bank_transfer_details,
        },
        "house_form": house
        or {
            "nombre": policy.complex_name,
            "entrada": f"{policy.check_in_time:%H:%M}",
            "salida": f"{policy.check_out_time:%H:%M}",
            "dias": str(policy.checkin_instructions_days_before),
        },
        "stay_form": stay
        or {"max_noches": str(policy.max_nights), "horizonte": str(policy.booking_horizon_days)},
        "max_stay_nights": MAX_STAY_NIGHTS,
        "max_horizon_days": MAX_HORIZON_DAYS,
        "seasons": seasons,
        "season_form": asdict(season or SeasonForm()),
        "editing": editing,
        "long_weekend": {
            "modo": "todo"
            if policy.long_weekend_whole_run
            else ("noches" if policy.long_weekend_min_nights else ""),
            "noches": str(policy.long_weekend_min_nights or ""),
        },
    }
    return page(request, "prices.html", context, **kwargs)  # type: ignore[arg-type]


@router.get("/precios")
async def prices_page(
    request: Request, session: SessionDep, hecho: str = "", error: str = "", editar: int | None = None
) -> Response:
    """`editar`: a season's id, whose fields fill the season form to change it."""
    edited = None
    if editar is not None:
        edited = (editar, SeasonForm.of(await pricing.season(session, editar)))
    return await _page(request, session, edited=edited, hecho=hecho, error=error)


@router.post("/precios")
async def set_pricing_rules(
    session: SessionDep,
    admin: CurrentAdmin,
    sena: Annotated[str, Form(max_length=10)] = "",
    recargo: Annotated[str, Form(max_length=10)] = "",
    minimo: Annotated[str, Form(max_length=4)] = "",
    adicional: Annotated[str, Form(max_length=40)] = "",
    finde_largo: Annotated[str, Form(max_length=8)] = "",
    finde_largo_noches: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Numbers only: a refusal goes back to the page with the stored values and the message.

    `finde_largo`: "" no long-weekend rule, "todo" the whole run, "noches" `finde_largo_noches` nights.
    """
    await pricing.update_rules(
        session,
        deposit_percent=number(sena, Decimal(0), Decimal(100)),
        weekend_multiplier=1 + number(recargo, Decimal(0), Decimal(500)) / 100,
        default_min_nights=whole(minimo, 1, MAX_MIN_NIGHTS),
        extra_guest_fee=parse_amount(adicional) if adicional.strip() not in ("", "0") else Decimal(0),
    )
    await pricing.update_long_weekend_rule(
        session,
        min_nights=whole(finde_largo_noches, 1, MAX_MIN_NIGHTS) if finde_largo == "noches" else None,
        whole_run=finde_largo == "todo",
    )
    return done("/precios", "reglas")


@router.post("/precios/reservas")
async def set_booking_policy(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    plazo_mp: Annotated[str, Form(max_length=6)] = "",
    plazo_transferencia: Annotated[str, Form(max_length=6)] = "",
    cancelacion: Annotated[str, Form(max_length=8000)] = "",
    datos_bancarios: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    try:
        async with session.begin_nested():  # a refusal undoes only this
            await pricing.update_booking_policy(
                session,
                hold_minutes_mercadopago=whole(plazo_mp, 1, 100_000, InvalidHoldWindow),
                hold_hours_transfer=whole(plazo_transferencia, 1, 100_000, InvalidHoldWindow),
                cancellation_policy=text(cancelacion),
                bank_transfer_details=text(datos_bancarios),
            )
    except AppError as exc:
        typed = {
            "plazo_mp": plazo_mp,
            "plazo_transferencia": plazo_transferencia,
            "cancelacion": cancelacion,
            "datos_bancarios": datos_bancarios,
        }
        return await _page(request, session, booking=typed, error=exc)
    return done("/precios", "reservas-pagos")


@router.post("/precios/estadias")
async def set_stay_limits(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    max_noches: Annotated[str, Form(max_length=6)] = "",
    horizonte: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    try:
        async with session.begin_nested():  # a refusal undoes only this
            await pricing.update_stay_limits(
                session,
                max_nights=whole(max_noches, 1, MAX_STAY_NIGHTS, InvalidStayLimits),
                booking_horizon_days=whole(horizonte, 1, MAX_HORIZON_DAYS, InvalidStayLimits),
            )
    except AppError as exc:
        return await _page(
            request, session, stay={"max_noches": max_noches, "horizonte": horizonte}, error=exc
        )
    return done("/precios", "estadias")


def _clock(raw: str) -> time:
    """`14:00` or `9:30` from a time input."""
    try:
        return time.fromisoformat(raw.strip().zfill(5))
    except ValueError:
        raise InvalidHouseRules(f"{raw!r} is not a time of day") from None


@router.post("/precios/complejo")
async def set_house_rules(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    nombre: Annotated[str, Form(max_length=200)] = "",
    entrada: Annotated[str, Form(max_length=8)] = "",
    salida: Annotated[str, Form(max_length=8)] = "",
    dias: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    try:
        async with session.begin_nested():  # a refusal undoes only this
            await pricing.update_house(
                session,
                complex_name=nombre,
                check_in_time=_clock(entrada),
                check_out_time=_clock(salida),
                checkin_instructions_days_before=whole(dias, 0, 14, InvalidHouseRules),
            )
    except AppError as exc:
        typed = {"nombre": nombre, "entrada": entrada, "salida": salida, "dias": dias}
        return await _page(request, session, house=typed, error=exc)
    return done("/precios", "complejo")


@router.post("/temporadas")
async def add_season(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    form: Annotated[SeasonForm, Depends(_season_form)],
) -> Response:
    try:
        async with session.begin_nested():  # a refusal undoes only this
            await pricing.add_season(session, form.season())
    except AppError as exc:
        return await _page(request, session, season=form, error=exc)
    return done("/precios", "temporada")


@router.post("/temporadas/{season_id}")
async def edit_season(
    season_id: Id,
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    form: Annotated[SeasonForm, Depends(_season_form)],
) -> Response:
    try:
        async with session.begin_nested():  # a refusal undoes only this
            await pricing.update_season(session, season_id, form.season())
    except AppError as exc:
        if exc.status == 404:
            raise
        return await _page(request, session, edited=(season_id, form), error=exc)
    return done("/precios", "temporada-editada")


@router.post("/temporadas/{season_id}/borrar")
async def delete_season(season_id: Id, session: SessionDep, admin: CurrentAdmin) -> Response:
    await pricing.delete_season(session, season_id)
    return done("/precios", "temporada-borrada")
