"""A new reservation taken by phone or at the desk, with the price quoted live as the form is filled."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin import labels
from alojamientos.admin.deps import PREFIX, CurrentAdmin
from alojamientos.admin.forms import parse_amount, parse_date
from alojamientos.admin.templating import render
from alojamientos.db import SessionDep
from alojamientos.errors import AppError, InvalidInput
from alojamientos.kit.inputs import stored_id
from alojamientos.kit.phone import InvalidPhone, to_e164
from alojamientos.ops.flags import flags
from alojamientos.reservations import holds, quotes, repository
from alojamientos.reservations.errors import AccommodationInactive, PaymentMethodUnavailable
from alojamientos.reservations.models import Accommodation, ReservationSource, ReservationStatus
from alojamientos.reservations.quotes import rule_refusals
from alojamientos.reservations.types import AgreedPrice, NewStay, Price

router = APIRouter(prefix="/reservas")


class InvalidPhoneNumber(InvalidInput):
    code = "invalid_phone"


class MissingName(InvalidInput):
    code = "missing_name"


class IncompleteStay(InvalidInput):
    code = "incomplete_stay"


# The panel's price choices → AgreedPrice's fields ("lista": the price list, no agreement).
PRICE_FIELDS = {"total": "total", "descuento": "discount_amount", "porcentaje": "discount_percent"}


@dataclass
class BookingForm:
    """What the operator typed, kept as text so a refused form comes back as it was."""

    unidad: str = ""
    entrada: str = ""
    salida: str = ""
    personas: str = "2"
    nombre: str = ""
    telefono: str = ""
    email: str = ""
    estado: str = "pre_reserved"
    medio: str = "transfer"
    notas: str = ""
    precio_tipo: str = "lista"  # lista | total | descuento | porcentaje
    precio_valor: str = ""
    precio_motivo: str = ""
    motivo_regla: str = ""  # book past a stay rule, and why

    def dates(self) -> tuple[date, date, int]:
        """Check-in, check-out and guests, or IncompleteStay while any is missing or backwards."""
        check_in, check_out = parse_date(self.entrada), parse_date(self.salida)
        if not (self.personas.isdigit() and check_in and check_out):
            raise IncompleteStay("dates and guests are needed for a quote")
        if check_out <= check_in or int(self.personas) < 1:
            raise IncompleteStay("the stay is empty")
        return check_in, check_out, int(self.personas)

    def stay(self) -> tuple[int, date, date, int]:
        """Unit, check-in, check-out and guests, or IncompleteStay while any is missing or backwards."""
        check_in, check_out, guests = self.dates()
        unit_id = stored_id(self.unidad)
        if unit_id is None:
            raise IncompleteStay("a unit is needed for a quote")
        return unit_id, check_in, check_out, guests

    def agreed_price(self) -> AgreedPrice | None:
        """The price agreed with the guest, or None for the list's (InvalidAmount on a bad figure)."""
        field = PRICE_FIELDS.get(self.precio_tipo)
        if field is None:
            return None
        return AgreedPrice(reason=self.precio_motivo, **{field: parse_amount(self.precio_valor)})

    def override_reason(self) -> str | None:
        return self.motivo_regla.strip() or None

    def phone(self) -> str | None:
        if not self.telefono.strip():
            return None
        try:
            return to_e164(self.telefono)
        except InvalidPhone:
            raise InvalidPhoneNumber(f"{self.telefono!r} is not a phone number") from None


async def _quote(session: AsyncSession, form: BookingForm, besides: str = "") -> dict[str, object]:
    """What the form shows while it is filled: the units free for those dates and party, the chosen
    unit's quote night by night (or, in Spanish, why it cannot be booked), the stay rule that refuses
    it, if one does (an operator may book past it with a reason), and the agreed price, if any.

    `besides`: the code of a reservation being moved, whose own nights are not taken for itself.
    """
    result: dict[str, object] = {
        "quote": None, "quote_error": "", "free": None, "clash": None, "rule": "", "agreed": None,
        "price_error": "", "motivo_regla": form.motivo_regla,
    }  # fmt: skip
    try:
        check_in, check_out, guests = form.dates()
        offers = await quotes.availability(
            session, check_in, check_out, guests, besides=besides or None, apply_rules=False
        )
    except IncompleteStay:
        return result
    except AppError as exc:
        result["quote_error"] = labels.error_message(exc.code)
        return result
    result["free"] = [offer.accommodation for offer in offers]
    unit_id = stored_id(form.unidad)
    chosen = next((o for o in offers if unit_id is not None and o.accommodation.id == unit_id), None)
    if chosen is None and unit_id is not None:
        await _not_on_offer(session, form, unit_id, besides, result)
        return result
    if chosen is None and not offers:
        return result
    # Name the stay rule that refuses it (the same for every free unit when none is chosen yet).
    refusals = rule_refusals((chosen or offers[0]).quote)
    if refusals:
        result["rule"] = labels.refusal(refusals[0].code, refusals[0].details)
    if chosen is None:
        return result
    result["quote"] = chosen.quote
    try:
        agreed = form.agreed_price()
        result["agreed"] = Price.of(chosen.quote, agreed) if agreed else None
    except AppError as exc:
        result["price_error"] = labels.error_message(exc.code)
    return result


async def _not_on_offer(
    session: AsyncSession, form: BookingForm, unit_id: int, besides: str, result: dict[str, object]
) -> None:
    """Say why the chosen unit is not free: taken, not taking bookings, too many guests, or gone."""
    check_in, check_out, guests = form.dates()
    try:
        unit = await repository.accommodation(session, unit_id)
        clash = await holds.clash(session, unit.id, check_in, check_out, besides=besides or None)
        if clash is not None:
            result["clash"] = clash
            result["quote_error"] = labels.error_message("dates_unavailable")
            return
        if not unit.active:
            raise AccommodationInactive(f"{unit.name} is not taking bookings")
        await quotes.quote(session, unit, check_in, check_out, guests)
    except AppError as exc:
        result["quote_error"] = labels.error_message(exc.code)


async def _page(
    request: Request, session: AsyncSession, form: BookingForm, error: str = "", status: int = 200
) -> Response:
    units = await session.scalars(
        select(Accommodation).where(Accommodation.active).order_by(Accommodation.name)
    )
    context = {
        "form": asdict(form),
        "units": list(units),
        "error": error,
        "mercadopago": await mercadopago_available(request, session),
        **await _quote(session, form),
    }
    return render(request, "admin/reservations/new.html", context, status_code=status)


async def mercadopago_available(request: Request, session: AsyncSession) -> bool:
    """Links can be made: Mercado Pago is configured and its flag is on."""
    return await flags.usable(session, request.app.state.settings, "mercadopago")


@router.get("/nueva")
async def new_form(
    request: Request,
    session: SessionDep,
    unidad: Annotated[str, Query(max_length=12)] = "",
    entrada: Annotated[str, Query(max_length=10)] = "",
    salida: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The empty form, or with the unit and nights chosen on the calendar."""
    return await _page(request, session, BookingForm(unidad=unidad, entrada=entrada, salida=salida))


@router.get("/cotizacion")
async def live_quote(
    request: Request,
    session: SessionDep,
    unidad: str = "",
    entrada: str = "",
    salida: str = "",
    personas: str = "",
    codigo: Annotated[str, Query(max_length=12)] = "",
    precio_tipo: Annotated[str, Query(max_length=12)] = "lista",
    precio_valor: Annotated[str, Query(max_length=40)] = "",
    precio_motivo: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The quote fragment, refreshed by htmx whenever the unit, dates, party size or agreed price change.

    `codigo`: the reservation being changed (its detail page asks), so its own nights count as free.
    """
    form = BookingForm(
        unidad=unidad,
        entrada=entrada,
        salida=salida,
        personas=personas,
        precio_tipo=precio_tipo,
        precio_valor=precio_valor,
        precio_motivo=precio_motivo,
    )
    return render(request, "admin/reservations/_quote.html", await _quote(session, form, besides=codigo))


@router.post("/nueva")
async def create(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    unidad: Annotated[str, Form(max_length=12)] = "",
    entrada: Annotated[str, Form(max_length=10)] = "",
    salida: Annotated[str, Form(max_length=10)] = "",
    personas: Annotated[str, Form(max_length=3)] = "",
    nombre: Annotated[str, Form(max_length=200)] = "",
    telefono: Annotated[str, Form(max_length=40)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    estado: Annotated[str, Form(max_length=16)] = "pre_reserved",
    medio: Annotated[str, Form(max_length=20)] = "transfer",
    notas: Annotated[str, Form(max_length=2000)] = "",
    precio_tipo: Annotated[str, Form(max_length=12)] = "lista",
    precio_valor: Annotated[str, Form(max_length=40)] = "",
    precio_motivo: Annotated[str, Form(max_length=500)] = "",
    motivo_regla: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    form = BookingForm(
        unidad, entrada, salida, personas, nombre, telefono, email, estado, medio, notas,
        precio_tipo, precio_valor, precio_motivo, motivo_regla,
    )  # fmt: skip
    try:
        if not nombre.strip():
            raise MissingName("the guest's name is missing")
        if medio == "mercadopago" and not await mercadopago_available(request, session):
            raise PaymentMethodUnavailable("Mercado Pago links are off or not configured")
        unit_id, check_in, check_out, guests = form.stay()
        created = await holds.hold(
            session,
            NewStay(
                accommodation_id=unit_id,
                check_in=check_in,
                check_out=check_out,
                guests=guests,
                guest_name=nombre.strip(),
                guest_phone=form.phone(),
                guest_email=email.strip() or None,
                source=ReservationSource.admin,
                status=ReservationStatus.confirmed
                if estado == "confirmed"
                else ReservationStatus.pre_reserved,
                payment_method="mercadopago" if medio == "mercadopago" else "transfer",
                notes=notas.strip(),
                price=form.agreed_price(),
                override_reason=form.override_reason(),
            ),
            actor=admin.actor,
        )
    except AppError as exc:
        # hold() writes nothing before it refuses (an overlap rolls back its savepoint): safe to re-show.
        return await _page(request, session, form, labels.refusal(exc.code, exc.details), status=exc.status)
    return RedirectResponse(f"{PREFIX}/reservas/{created.code}?hecho=creada", status_code=303)
