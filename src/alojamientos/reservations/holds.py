"""New rows: holds and our own blocks. The exclusion constraint decides overlaps; codes are drawn here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.kit.clock import utc_now
from alojamientos.pricing.service import pricing
from alojamientos.reservations import events, quotes, repository
from alojamientos.reservations.codes import new_code
from alojamientos.reservations.errors import (
    AccommodationInactive,
    DatesUnavailable,
    InvalidOverride,
)
from alojamientos.reservations.models import (
    Reservation,
    ReservationSource,
    ReservationStatus,
)
from alojamientos.reservations.types import NewBlock, NewStay, Price

log = logging.getLogger(__name__)


async def hold(session: AsyncSession, stay: NewStay, *, actor: str) -> Reservation:
    """Create a `pre_reserved` hold (or a `confirmed` stay); the constraint refuses overlaps.

    From the panel or the API (`source` admin) the stay may carry an agreed `price` and an
    `override_reason` to book past the stay rules; both are in the creation event's data.
    """
    if stay.source is not ReservationSource.admin and (stay.override_reason or stay.price):
        raise InvalidOverride("only an operator can agree a price or book past a rule")
    unit = await repository.accommodation(session, stay.accommodation_id)
    if not unit.active:
        raise AccommodationInactive(f"{unit.name} is not taking bookings")
    stay_quote, override = await quotes.bookable_quote(
        session, unit, stay.check_in, stay.check_out, stay.guests, override_reason=stay.override_reason
    )
    price = Price.of(stay_quote, stay.price)
    now = utc_now()
    expires_at = None
    if stay.status is ReservationStatus.pre_reserved:
        expires_at = now + await hold_window(session, stay.payment_method)

    def build(code: str) -> Reservation:
        return Reservation(
            code=code,
            accommodation_id=unit.id,
            check_in=stay.check_in,
            check_out=stay.check_out,
            guests=stay.guests,
            guest_name=stay.guest_name,
            guest_phone=stay.guest_phone,
            guest_email=stay.guest_email,
            status=stay.status.value,
            source=stay.source.value,
            total_amount=price.total,
            deposit_amount=price.deposit,
            list_amount=price.list_amount,
            price_reason=price.reason,
            paid_amount=Decimal("0.00"),
            expires_at=expires_at,
            notes=stay.notes,
            payment_method=stay.payment_method if expires_at else None,
        )

    reservation = await _insert(session, build, stay.accommodation_id, stay.check_in, stay.check_out)
    data: dict[str, Any] = {"payment_method": stay.payment_method} if expires_at else {}
    if price.reason is not None:
        data["agreed_price"] = _price_facts(price)
    if override is not None:
        data["override"] = override
    await events.record_event(session, reservation, None, stay.status.value, actor=actor, data=data)
    log.info(
        "reservation.created",
        extra={"code": reservation.code, "status": reservation.status, "source": stay.source},
    )
    return reservation


async def block(session: AsyncSession, new: NewBlock, *, actor: str) -> Reservation:
    """Close a unit's dates ourselves; exported to Airbnb and Booking like any stay."""
    unit = await repository.accommodation(session, new.accommodation_id)
    await quotes.not_in_past(session, new.check_in)
    reason = new.reason.strip() or "Bloqueo"

    def build(code: str) -> Reservation:
        return Reservation(
            code=code,
            accommodation_id=unit.id,
            check_in=new.check_in,
            check_out=new.check_out,
            guests=1,
            guest_name=reason[:200],
            guest_phone=None,
            status=ReservationStatus.confirmed.value,
            source=ReservationSource.admin.value,
            kind="block",
            total_amount=Decimal("0.00"),  # as the numeric(12,2) column gives it back
            deposit_amount=Decimal("0.00"),
            paid_amount=Decimal("0.00"),
        )

    blocked = await _insert(session, build, unit.id, new.check_in, new.check_out)
    await events.record_event(
        session,
        blocked,
        None,
        ReservationStatus.confirmed.value,
        actor=actor,
        reason=reason,
        notify=False,
    )
    log.info("reservation.blocked", extra={"code": blocked.code, "accommodation_id": unit.id})
    return blocked


async def hold_window(session: AsyncSession, payment_method: str) -> timedelta:
    policy = await pricing.settings(session)
    if payment_method == "mercadopago":
        return timedelta(minutes=policy.hold_minutes_mercadopago)
    return timedelta(hours=policy.hold_hours_transfer)


async def _insert(
    session: AsyncSession,
    build: Callable[[str], Reservation],
    accommodation_id: int,
    check_in: date,
    check_out: date,
) -> Reservation:
    """Insert the row `build(code)` makes; the exclusion constraint decides overlaps."""
    for _attempt in range(5):
        reservation = build(new_code())
        try:
            async with session.begin_nested():
                session.add(reservation)
                await session.flush()
        except IntegrityError as exc:
            if isinstance(exc.orig, pg_errors.ExclusionViolation):
                raise await dates_unavailable(session, accommodation_id, check_in, check_out) from None
            if _violates(exc, "uq_reservations_code"):
                continue  # a code collision: draw another
            raise
        return reservation
    raise RuntimeError("could not draw a free reservation code in 5 attempts")


async def clash(
    session: AsyncSession,
    accommodation_id: int,
    check_in: date,
    check_out: date,
    *,
    besides: str | None = None,
) -> Reservation | None:
    """The first occupying stay in the unit that shares a night with the range (`besides`: a stay
    being moved, which never clashes with itself)."""
    query = repository.overlapping(check_in, check_out, besides=besides).where(
        Reservation.accommodation_id == accommodation_id
    )
    return await session.scalar(query.order_by(Reservation.check_in).limit(1))


async def dates_unavailable(
    session: AsyncSession,
    accommodation_id: int,
    check_in: date,
    check_out: date,
    *,
    besides: str | None = None,
) -> DatesUnavailable:
    """Name the stay we collided with (it is committed: the constraint waited for it).

    `conflict` is `{"code", "kind" ("stay" | "block"), "check_in", "check_out"}`, or None when the
    other stay was gone by the time we looked.
    """
    other = await clash(session, accommodation_id, check_in, check_out, besides=besides)
    conflict = (
        {
            "code": other.code,
            "kind": other.kind,
            "check_in": other.check_in.isoformat(),
            "check_out": other.check_out.isoformat(),
        }
        if other
        else None
    )
    where = f" ({conflict['code']}, {conflict['check_in']} to {conflict['check_out']})" if conflict else ""
    return DatesUnavailable(
        f"those dates overlap another stay in this unit{where}",
        accommodation_id=accommodation_id,
        conflict=conflict,
    )


def _violates(exc: IntegrityError, constraint: str) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint


def _price_facts(price: Price) -> dict[str, Any]:
    """An agreed price as the timeline keeps it (JSON)."""
    return {
        "total": str(price.total),
        "list_total": str(price.list_amount) if price.list_amount is not None else None,
        "reason": price.reason,
    }
