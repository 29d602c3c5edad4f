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
from alojamientos.admin.forms import parse_date
from alojamientos.admin.templating import render
from alojamientos.db import SessionDep
from alojamientos.errors import AppError, InvalidInput
from alojamientos.kit.phone import InvalidPhone, to_e164
from alojamientos.ops.flags import flags
from alojamientos.reservations.errors import AccommodationInactive
from alojamientos.reservations.models import Accommodation, ReservationSource, ReservationStatus
from alojamientos.reservations.service import NewStay
from alojamientos.reservations.service import reservation as reservation_service

router = APIRouter(prefix="/reservas")


class InvalidPhoneNumber(InvalidInput):
    code = "invalid_phone"


class MissingName(InvalidInput):
    code = "missing_name"


class MercadoPagoUnavailable(InvalidInput):
    code = "mercadopago_unavailable"


class IncompleteStay(InvalidInput):
    code = "incomplete_stay"


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
        if not self.unidad.isdigit():
            raise IncompleteStay("a unit is needed for a quote")
        return int(self.unidad), check_in, check_out, guests

    def phone(self) -> str | None:
        if not self.telefono.strip():
            return None
        try:
            return to_e164(self.telefono)
        except InvalidPhone:
            raise InvalidPhoneNumber(f"{self.telefono!r} is not a phone number") from None


async def _quote(session: AsyncSession, form: BookingForm, besides: str = "") -> dict[str, object]:
    """What the form shows while it is filled: the units free for those dates and party, and the
    chosen unit's quote (or, in Spanish, why it cannot be booked).

    `besides`: the code of a reservation being moved, whose own nights are not taken for itself.
    """
    result: dict[str, object] = {"quote": None, "quote_error": "", "free": None, "clash": None}
    try:
        check_in, check_out, guests = form.dates()
        offers = await reservation_service.availability(
            session, check_in, check_out, guests, besides=besides or None
        )
    except IncompleteStay:
        return result
    except AppError as exc:
        result["quote_error"] = labels.error_message(exc.code)
        return result
    result["free"] = [offer.accommodation for offer in offers]
    if not form.unidad.isdigit():
        return result
    chosen = next((o for o in offers if o.accommodation.id == int(form.unidad)), None)
    if chosen is not None:
        result["quote"] = chosen.quote
        return result
    # Not on offer: say why (taken, too many guests, too few nights, not taking bookings).
    try:
        unit = await reservation_service.accommodation(session, int(form.unidad))
        clash = await reservation_service.clash(
            session, unit.id, check_in, check_out, besides=besides or None
        )
        if clash is not None:
            result["clash"] = clash
            result["quote_error"] = labels.error_message("dates_unavailable")
            return result
        if not unit.active:
            raise AccommodationInactive(f"{unit.name} is not taking bookings")
        result["quote"] = await reservation_service.checked_quote(session, unit, check_in, check_out, guests)
    except AppError as exc:
        result["quote_error"] = labels.error_message(exc.code)
    return result


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
    """Links can be made: an access token is configured and the `mercadopago` flag is on."""
    configured = request.app.state.settings.mercadopago_access_token is not None
    return configured and await flags.enabled(session, "mercadopago")


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
) -> Response:
    """The quote fragment, refreshed by htmx whenever the unit, dates or party size change.

    `codigo`: the reservation being changed (its detail page asks), so its own nights count as free.
    """
    form = BookingForm(unidad=unidad, entrada=entrada, salida=salida, personas=personas)
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
) -> Response:
    form = BookingForm(unidad, entrada, salida, personas, nombre, telefono, email, estado, medio, notas)
    try:
        if not nombre.strip():
            raise MissingName("the guest's name is missing")
        if medio == "mercadopago" and not await mercadopago_available(request, session):
            raise MercadoPagoUnavailable("Mercado Pago links are off or not configured")
        unit_id, check_in, check_out, guests = form.stay()
        created = await reservation_service.hold(
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
            ),
            actor=admin.actor,
        )
    except AppError as exc:
        # hold() writes nothing before it refuses (an overlap rolls back its savepoint): safe to re-show.
        return await _page(request, session, form, labels.error_message(exc.code), status=exc.status)
    return RedirectResponse(f"{PREFIX}/reservas/{created.code}?hecho=creada", status_code=303)
