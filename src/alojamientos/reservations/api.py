from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from sqlalchemy import select

from alojamientos.auth.deps import CurrentOperator
from alojamientos.calendar_sync.ical_export import export_url
from alojamientos.db import SessionDep, StatementSessionDep
from alojamientos.errors import InvalidInput, error_responses
from alojamientos.kit.inputs import INT4_MAX
from alojamientos.kit.queries import count_of
from alojamientos.notifications import service as notification_service
from alojamientos.ops.flags import flags
from alojamientos.pricing.rules import Quote
from alojamientos.reservations import changes, holds, quotes, repository, transitions, units
from alojamientos.reservations.errors import PaymentMethodUnavailable
from alojamientos.reservations.models import (
    Accommodation,
    ReservationSource,
    ReservationStatus,
)
from alojamientos.reservations.schemas import (
    MAX_GUESTS,
    AccommodationCreate,
    AccommodationOut,
    AgreedPriceIn,
    AvailabilityOut,
    AvailableUnit,
    BlockCreate,
    CancelRequest,
    ChangeRequest,
    GuestUpdate,
    NightOut,
    PriceRequest,
    QuoteOut,
    QuoteRequest,
    ReservationCreate,
    ReservationDetail,
    ReservationList,
    ReservationOut,
)
from alojamientos.reservations.types import AgreedPrice, NewBlock, NewStay, UnitFields

router = APIRouter(prefix="/api/v1", tags=["reservations"])


def _unit_out(request: Request, unit: Accommodation) -> AccommodationOut:
    out = AccommodationOut.model_validate(unit)
    out.ical_export_url = export_url(request.app.state.settings, unit)
    return out


def _actor(operator: CurrentOperator) -> str:
    return f"operator:{operator.email}"


def _quote_out(accommodation_id: int, quote: Quote) -> QuoteOut:
    return QuoteOut(
        accommodation_id=accommodation_id,
        check_in=quote.check_in,
        check_out=quote.check_out,
        guests=quote.guests,
        nights=[NightOut.model_validate(night) for night in quote.nights],
        total=quote.total,
        deposit_percent=quote.deposit_percent,
        deposit=quote.deposit,
        min_nights=quote.min_nights,
        min_nights_season=quote.min_nights_season,
    )


def _range_or_422(start: date, end: date, names: str) -> None:
    if end <= start:
        raise InvalidInput(f"{names} must be a non-empty range")


@router.post("/accommodations", status_code=201, response_model=AccommodationOut)
async def create_accommodation(
    body: AccommodationCreate, request: Request, session: SessionDep, operator: CurrentOperator
) -> AccommodationOut:
    unit = await units.create_accommodation(session, UnitFields(**body.model_dump()))
    return _unit_out(request, unit)


@router.get("/accommodations", response_model=list[AccommodationOut])
async def list_accommodations(
    request: Request, session: SessionDep, operator: CurrentOperator
) -> list[AccommodationOut]:
    rows = await session.scalars(select(Accommodation).order_by(Accommodation.id))
    return [_unit_out(request, unit) for unit in rows]


@router.get("/availability", response_model=AvailabilityOut)
async def availability(
    request: Request,
    session: StatementSessionDep,
    operator: CurrentOperator,
    check_in: date,
    check_out: date,
    guests: Annotated[int, Query(ge=1, le=MAX_GUESTS)],
) -> AvailabilityOut:
    _range_or_422(check_in, check_out, "check_in..check_out")
    offers = await quotes.availability(session, check_in, check_out, guests)
    return AvailabilityOut(
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        available=[
            AvailableUnit(
                accommodation=_unit_out(request, o.accommodation),
                quote=_quote_out(o.accommodation.id, o.quote),
            )
            for o in offers
        ],
    )


@router.post("/quotes", response_model=QuoteOut)
async def create_quote(body: QuoteRequest, session: SessionDep, operator: CurrentOperator) -> QuoteOut:
    unit = await repository.accommodation(session, body.accommodation_id)
    quote = await quotes.checked_quote(session, unit, body.check_in, body.check_out, body.guests)
    return _quote_out(unit.id, quote)


@router.post("/reservations", status_code=201, response_model=ReservationDetail)
async def create_reservation(
    body: ReservationCreate, request: Request, session: StatementSessionDep, operator: CurrentOperator
) -> object:
    """A hold (or a confirmed stay); 422 `payment_method_unavailable` when the hold's payment method
    cannot work (Mercado Pago not configured or switched off), before anything is held."""
    if (
        body.status == "pre_reserved"
        and body.payment_method == "mercadopago"
        and not await flags.usable(session, request.app.state.settings, "mercadopago")
    ):
        settings = request.app.state.settings
        raise PaymentMethodUnavailable(
            "Mercado Pago cannot take payments now: "
            + (
                f"set {', '.join(settings.missing('mercadopago'))}"
                if not settings.configured("mercadopago")
                else "its feature flag is off"
            )
            + "; use payment_method transfer",
            payment_method="mercadopago",
            missing=list(settings.missing("mercadopago")),
        )
    created = await holds.hold(
        session,
        NewStay(
            accommodation_id=body.accommodation_id,
            check_in=body.check_in,
            check_out=body.check_out,
            guests=body.guests,
            guest_name=body.guest_name,
            guest_phone=body.guest_phone,
            guest_email=body.guest_email,
            source=ReservationSource.admin,
            status=ReservationStatus(body.status),
            payment_method=body.payment_method,
            notes=body.notes,
            price=_agreed(body.agreed_price),
            override_reason=body.override_reason,
        ),
        actor=_actor(operator),
    )
    return created  # with its creation event: nothing to read again


def _agreed(body: AgreedPriceIn | None) -> AgreedPrice | None:
    return AgreedPrice(**body.model_dump()) if body else None


@router.post("/reservations/{code}/price", response_model=ReservationDetail)
async def set_price(code: str, body: PriceRequest, session: SessionDep, operator: CurrentOperator) -> object:
    """Agree a total or a discount with a reason (or go back to the list); the guest is told."""
    priced = await changes.set_price(session, code, _agreed(body.agreed_price), actor=_actor(operator))
    return await repository.get(session, priced.code)


@router.get("/reservations", response_model=ReservationList)
async def list_reservations(
    session: SessionDep,
    operator: CurrentOperator,
    status: ReservationStatus | None = None,
    kind: Literal["stay", "block", "all"] = "stay",
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT4_MAX)] = 0,
    q: Annotated[
        str, Query(max_length=100, description="guest name (any case or accents), code, or phone digits")
    ] = "",
) -> ReservationList:
    if from_ and to:
        _range_or_422(from_, to, "from..to")
    query = repository.listing(
        status=status.value if status else None,
        kind=None if kind == "all" else kind,
        from_=from_,
        to=to,
        limit=limit,
        offset=offset,
        text=q,
    )
    items = list(await session.scalars(query))
    count = await session.scalar(count_of(query)) or 0
    return ReservationList(items=[ReservationOut.model_validate(r) for r in items], count=count)


@router.get("/reservations/{code}", response_model=ReservationDetail)
async def get_reservation(code: str, session: SessionDep, operator: CurrentOperator) -> object:
    return await repository.get(session, code)


@router.post("/reservations/{code}/confirm", response_model=ReservationOut)
async def confirm_reservation(code: str, session: StatementSessionDep, operator: CurrentOperator) -> object:
    return await transitions.confirm(session, code, actor=_actor(operator))


@router.post("/reservations/{code}/cancel", response_model=ReservationOut)
async def cancel_reservation(
    code: str,
    session: StatementSessionDep,
    operator: CurrentOperator,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> object:
    return await transitions.cancel(
        session, code, actor=_actor(operator), reason=body.reason if body else None
    )


@router.post("/reservations/{code}/resend-payment-request", response_model=ReservationOut)
async def resend_payment_request(code: str, session: SessionDep, operator: CurrentOperator) -> object:
    """The hold's payment message (deposit, deadline, how to pay) again, by WhatsApp and e-mail.

    409 `not_held` unless the stay is `pre_reserved`; 409 `no_guest_contact` when nobody can be reached.
    """
    return await notification_service.resend_payment_request(session, code, actor=_actor(operator))


# What each action answers besides 200/201 (the body is always `{"error": {"code", "message", ...}}`).
_NO_RESERVATION = "`reservation_not_found`: no reservation has that code"
_BAD_INPUT = "`validation_error` (fields named in `fields`)"

MOVE_ERRORS = error_responses(
    {
        404: f"{_NO_RESERVATION}; `accommodation_not_found`: no unit has that id",
        409: "`dates_unavailable`: another stay or block holds some of those nights (`conflict` names"
        " it: code, kind, check_in, check_out); `invalid_transition`: the reservation is not a hold or"
        " a confirmed stay (`status` says what it is); `price_choice_required`: it has an agreed price"
        " (`total`, `reason`), so say `price`: keep or reprice",
        422: f"{_BAD_INPUT}; `wrong_kind`: the code is a block; `nothing_changed`: it already is that"
        " stay; `invalid_price`: `keep` without an agreed price; `past_dates`, `minimum_stay`,"
        " `too_many_guests`, `accommodation_inactive` and the other stay rules (unless `override_reason`)",
    }
)
NO_SHOW_ERRORS = error_responses(
    {
        404: _NO_RESERVATION,
        409: "`invalid_transition`: only a confirmed stay can be a no-show (`status` says what it is)",
        422: "`not_arrived_yet`: its check-in day has not come (`check_in`); `wrong_kind`: a block",
    }
)
GUEST_ERRORS = error_responses(
    {
        404: _NO_RESERVATION,
        422: f"{_BAD_INPUT}: a phone that is not one, an e-mail that is not one; `invalid_guest`: an"
        " empty name (`field`); `nothing_changed`: it already has those details; `wrong_kind`: a block",
    }
)
BLOCK_ERRORS = error_responses(
    {
        404: "`accommodation_not_found`: no unit has that id",
        409: "`dates_unavailable`: a stay or block holds some of those nights (`conflict` names it)",
        422: f"{_BAD_INPUT}, e.g. check_out not after check_in; `past_dates`: it starts before today",
    }
)
UNBLOCK_ERRORS = error_responses(
    {
        404: _NO_RESERVATION,
        409: "`invalid_transition`: the block is already open (`status`: cancelled)",
        422: "`wrong_kind`: the code is a guest's stay, or another channel's block (it follows its feed)",
    }
)


@router.post("/reservations/{code}/change", response_model=ReservationDetail, responses=MOVE_ERRORS)
async def change_reservation(
    code: str, body: ChangeRequest, session: SessionDep, operator: CurrentOperator
) -> object:
    """Move a hold or confirmed stay: other dates, and optionally another unit or party size.

    The same reservation (code, payments) re-quoted from the price list, or keeping its agreed price
    (`price`: "keep" | "reprice", required when it has one); the guest is told the new stay and total
    (a `stay_changed` event), exactly as when the panel moves it.
    """
    changed = await changes.change_stay(
        session,
        code,
        accommodation_id=body.accommodation_id,
        check_in=body.check_in,
        check_out=body.check_out,
        guests=body.guests,
        actor=_actor(operator),
        price=body.price,
        override_reason=body.override_reason,
    )
    return await repository.get(session, changed.code)


@router.post("/reservations/{code}/no-show", response_model=ReservationDetail, responses=NO_SHOW_ERRORS)
async def mark_no_show(code: str, session: SessionDep, operator: CurrentOperator) -> object:
    """The guest never came: a confirmed stay, from its check-in day (the complex's time zone) on,
    becomes `no_show` and its nights are free again."""
    marked = await transitions.no_show(session, code, actor=_actor(operator))
    return await repository.get(session, marked.code)


@router.patch("/reservations/{code}/guest", response_model=ReservationDetail, responses=GUEST_ERRORS)
async def update_guest(
    code: str, body: GuestUpdate, session: SessionDep, operator: CurrentOperator
) -> object:
    """Correct the guest's name, phone (any format, stored as E.164) or e-mail; fields left out stay,
    `null` clears the phone or e-mail. The guest is not messaged (a `guest_updated` event)."""
    current = await repository.get(session, code)
    given = body.model_fields_set
    fixed = await changes.update_guest(
        session,
        current.code,
        name=(body.guest_name or "") if "guest_name" in given else current.guest_name,
        phone=body.guest_phone if "guest_phone" in given else current.guest_phone,
        email=body.guest_email if "guest_email" in given else current.guest_email,
        actor=_actor(operator),
    )
    return await repository.get(session, fixed.code)


@router.post("/blocks", status_code=201, response_model=ReservationDetail, responses=BLOCK_ERRORS)
async def create_block(body: BlockCreate, session: SessionDep, operator: CurrentOperator) -> object:
    """Close a unit's nights `[check_in, check_out)` ourselves (maintenance, the owner's family): a
    reservation of kind `block`, exported to Airbnb and Booking like any stay; nobody is messaged."""
    blocked = await holds.block(
        session,
        NewBlock(body.accommodation_id, body.check_in, body.check_out, body.reason),
        actor=_actor(operator),
    )
    return await repository.get(session, blocked.code)


@router.delete("/blocks/{code}", response_model=ReservationDetail, responses=UNBLOCK_ERRORS)
async def delete_block(code: str, session: SessionDep, operator: CurrentOperator) -> object:
    """Open a block of ours again: it becomes `cancelled` (kept in the history) and its nights are free."""
    released = await transitions.unblock(session, code, actor=_actor(operator))
    return await repository.get(session, released.code)
