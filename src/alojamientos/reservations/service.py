"""Reservation rules: availability, quotes and every state change.

PostgreSQL decides overlaps (the `reservations_no_overlap` exclusion constraint) and every state
change is a conditional UPDATE whose row count says whether it happened; each one writes its
`ReservationEvent` in the same transaction. Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from psycopg import errors as pg_errors
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.jobs.queue import enqueue
from alojamientos.kit.clock import local_today, utc_now
from alojamientos.observability.metrics import count_transition
from alojamientos.pricing.rules import Quote, UnitPricing, quote
from alojamientos.pricing.service import argentine_holidays, pricing
from alojamientos.reservations import repository
from alojamientos.reservations.errors import (
    AccommodationInactive,
    AccommodationNotFound,
    DatesUnavailable,
    InvalidTransition,
    MinimumStay,
    PastDates,
    ReservationNotFound,
    TooManyGuests,
)
from alojamientos.reservations.models import (
    OCCUPYING,
    Accommodation,
    Reservation,
    ReservationEvent,
    ReservationSource,
    ReservationStatus,
)

log = logging.getLogger(__name__)

NOTIFY = "reservation.notify"  # handled in notifications.tasks: tells the guest and the operator
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I/1, O/0: read aloud over the phone
CODE_LENGTH = 6


_CODE_DIGITS = frozenset("23456789")


def new_code() -> str:
    """Six characters with at least one digit and one letter, so no Spanish word is ever a code."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if _CODE_DIGITS & set(code) and set(code) - _CODE_DIGITS:
            return code


# A code as a guest types it: six characters from the alphabet, at least one of them a digit.
CODE_PATTERN = re.compile(r"\b(?=[A-Z2-9]*[2-9])(?=[2-9]*[A-Z])[A-HJ-NP-Z2-9]{6}\b")


def find_code(text: str) -> str | None:
    match = CODE_PATTERN.search(text.upper())
    return match.group(0) if match else None


@dataclass(frozen=True, slots=True)
class UnitQuote:
    accommodation: Accommodation
    quote: Quote


@dataclass(frozen=True, slots=True)
class NewStay:
    accommodation_id: int
    check_in: date
    check_out: date
    guests: int
    guest_name: str
    guest_phone: str | None
    guest_email: str | None = None
    source: ReservationSource = ReservationSource.admin
    status: ReservationStatus = ReservationStatus.pre_reserved
    payment_method: str = "transfer"
    notes: str = ""


class ReservationService:
    # -- reading ---------------------------------------------------------------------------------

    async def accommodation(self, session: AsyncSession, accommodation_id: int) -> Accommodation:
        unit = await session.get(Accommodation, accommodation_id)
        if unit is None:
            raise AccommodationNotFound(
                f"there is no unit {accommodation_id}", accommodation_id=accommodation_id
            )
        return unit

    async def get(self, session: AsyncSession, code: str) -> Reservation:
        found = await session.scalar(repository.with_events(code))
        if found is None:
            raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
        return found

    # -- quotes and availability -------------------------------------------------------------------

    async def quote(
        self,
        session: AsyncSession,
        unit: Accommodation,
        check_in: date,
        check_out: date,
        guests: int,
    ) -> Quote:
        if guests > unit.capacity:
            raise TooManyGuests(
                f"{unit.name} takes at most {unit.capacity} guests",
                capacity=unit.capacity,
                guests=guests,
            )
        rules = await pricing.rules_for(session, unit.id, within=(check_in, check_out))
        return quote(
            check_in=check_in,
            check_out=check_out,
            guests=guests,
            unit=UnitPricing(base_price=unit.base_price, base_occupancy=unit.base_occupancy),
            rules=rules,
            holidays=argentine_holidays(),
        )

    async def checked_quote(
        self,
        session: AsyncSession,
        unit: Accommodation,
        check_in: date,
        check_out: date,
        guests: int,
    ) -> Quote:
        """A quote for a stay that could be booked now: future, within capacity and minimum nights."""
        await self._not_in_past(session, check_in)
        result = await self.quote(session, unit, check_in, check_out, guests)
        if not result.meets_min_nights:
            raise MinimumStay(
                f"stays starting {check_in.isoformat()} need at least {result.min_nights} nights",
                min_nights=result.min_nights,
            )
        return result

    async def availability(
        self, session: AsyncSession, check_in: date, check_out: date, guests: int
    ) -> list[UnitQuote]:
        """Active units with room for the party, no occupying stay in the range, and minimum nights met."""
        await self._not_in_past(session, check_in)
        units = (await session.scalars(repository.free_units(check_in, check_out, guests))).all()
        offers = []
        for unit in units:
            unit_quote = await self.quote(session, unit, check_in, check_out, guests)
            if unit_quote.meets_min_nights:
                offers.append(UnitQuote(unit, unit_quote))
        return offers

    async def _not_in_past(self, session: AsyncSession, check_in: date) -> None:
        today = local_today(await pricing.timezone(session))
        if check_in < today:
            raise PastDates(
                f"check_in {check_in.isoformat()} is before today ({today.isoformat()})",
                today=today.isoformat(),
            )

    # -- state changes -----------------------------------------------------------------------------

    async def hold(self, session: AsyncSession, stay: NewStay, *, actor: str) -> Reservation:
        """Create a `pre_reserved` hold (or a `confirmed` stay); the constraint refuses overlaps."""
        unit = await self.accommodation(session, stay.accommodation_id)
        if not unit.active:
            raise AccommodationInactive(f"{unit.name} is not taking bookings")
        stay_quote = await self.checked_quote(session, unit, stay.check_in, stay.check_out, stay.guests)
        now = utc_now()
        expires_at = None
        if stay.status is ReservationStatus.pre_reserved:
            expires_at = now + await self._hold_window(session, stay.payment_method)
        for _attempt in range(5):
            reservation = Reservation(
                code=new_code(),
                accommodation_id=unit.id,
                check_in=stay.check_in,
                check_out=stay.check_out,
                guests=stay.guests,
                guest_name=stay.guest_name,
                guest_phone=stay.guest_phone,
                guest_email=stay.guest_email,
                status=stay.status.value,
                source=stay.source.value,
                total_amount=stay_quote.total,
                deposit_amount=stay_quote.deposit,
                paid_amount=Decimal("0.00"),
                expires_at=expires_at,
                notes=stay.notes,
                payment_method=stay.payment_method if expires_at else None,
            )
            try:
                async with session.begin_nested():
                    session.add(reservation)
                    await session.flush()
            except IntegrityError as exc:
                if isinstance(exc.orig, pg_errors.ExclusionViolation):
                    raise await self._dates_unavailable(session, stay) from None
                if _violates(exc, "uq_reservations_code"):
                    continue  # a code collision: draw another
                raise
            await self.record_event(
                session,
                reservation,
                None,
                stay.status.value,
                actor=actor,
                data={"payment_method": stay.payment_method} if expires_at else {},
            )
            log.info(
                "reservation.created",
                extra={
                    "code": reservation.code,
                    "status": reservation.status,
                    "source": stay.source,
                },
            )
            return reservation
        raise RuntimeError("could not draw a free reservation code in 5 attempts")

    async def confirm(
        self, session: AsyncSession, code: str, *, actor: str, data: dict[str, Any] | None = None
    ) -> Reservation:
        return await self._transition(
            session,
            code,
            frm=(ReservationStatus.pre_reserved,),
            to=ReservationStatus.confirmed,
            actor=actor,
            values={"expires_at": None},
            data=data,
        )

    async def cancel(
        self, session: AsyncSession, code: str, *, actor: str, reason: str | None = None
    ) -> Reservation:
        return await self._transition(
            session, code, frm=OCCUPYING, to=ReservationStatus.cancelled, actor=actor, reason=reason
        )

    async def complete(self, session: AsyncSession, code: str) -> Reservation:
        return await self._transition(
            session,
            code,
            frm=(ReservationStatus.confirmed,),
            to=ReservationStatus.completed,
            actor="system:checkout",
        )

    async def expire_due(self, session: AsyncSession, *, now: datetime | None = None) -> list[str]:
        """Expire every hold whose window has passed; returns their codes. Safe to run concurrently."""
        now = now or utc_now()
        rows = (
            await session.execute(
                update(Reservation)
                .where(
                    Reservation.status == ReservationStatus.pre_reserved,
                    Reservation.expires_at <= now,
                )
                .values(status=ReservationStatus.expired.value, updated_at=now)
                .returning(Reservation.id, Reservation.code)
            )
        ).all()
        for reservation_id, code in rows:
            expired = await session.get_one(Reservation, reservation_id)
            await self.record_event(
                session,
                expired,
                ReservationStatus.pre_reserved.value,
                ReservationStatus.expired.value,
                actor="system:expiry",
                reason="the hold was not paid in time",
            )
            log.info("reservation.expired", extra={"code": code})
        await session.flush()
        return [code for _, code in rows]

    # -- internals -------------------------------------------------------------------------------

    async def _transition(
        self,
        session: AsyncSession,
        code: str,
        *,
        frm: tuple[ReservationStatus, ...],
        to: ReservationStatus,
        actor: str,
        reason: str | None = None,
        values: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Reservation:
        """Conditional UPDATE from one of `frm`; 409 when the reservation is in another state."""
        # Lock the row first so the UPDATE below knows the status it moved from.
        current = await session.scalar(
            select(Reservation.status).where(Reservation.code == code.upper()).with_for_update()
        )
        if current is None:
            raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
        result = await session.execute(
            update(Reservation)
            .where(Reservation.code == code.upper(), Reservation.status.in_(frm))
            .values(status=to.value, updated_at=utc_now(), **(values or {}))
            .returning(Reservation.id)
        )
        moved = result.scalar_one_or_none()
        if moved is None:
            raise InvalidTransition(
                f"reservation {code.upper()} is {current}; it cannot become {to.value}",
                status=current,
            )
        reservation = await session.get_one(Reservation, moved, populate_existing=True)
        await self.record_event(
            session, reservation, current, to.value, actor=actor, reason=reason, data=data
        )
        log.info(f"reservation.{to.value}", extra={"code": reservation.code, "from": current})
        return reservation

    async def record_event(
        self,
        session: AsyncSession,
        reservation: Reservation,
        from_status: str | None,
        to_status: str,
        *,
        actor: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> ReservationEvent:
        """The timeline entry for a change, and the job that tells everyone about it, in one transaction."""
        event = ReservationEvent(
            reservation_id=reservation.id,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            reason=reason,
            data=data or {},
        )
        session.add(event)
        await session.flush()
        if from_status != to_status:
            count_transition(session, from_status, to_status)
        await enqueue(session, NOTIFY, {"event_id": event.id}, dedupe_key=f"event:{event.id}")
        return event

    async def _hold_window(self, session: AsyncSession, payment_method: str) -> timedelta:
        policy = await pricing.settings(session)
        if payment_method == "mercadopago":
            return timedelta(minutes=policy.hold_minutes_mercadopago)
        return timedelta(hours=policy.hold_hours_transfer)

    async def _dates_unavailable(self, session: AsyncSession, stay: NewStay) -> DatesUnavailable:
        """Name the stay we collided with (it is committed: the constraint waited for it)."""
        clash = await session.scalar(
            repository.overlapping(stay.check_in, stay.check_out)
            .where(Reservation.accommodation_id == stay.accommodation_id)
            .order_by(Reservation.check_in)
            .limit(1)
        )
        conflict = (
            {"check_in": clash.check_in.isoformat(), "check_out": clash.check_out.isoformat()}
            if clash
            else None
        )
        where = f" ({conflict['check_in']} to {conflict['check_out']})" if conflict else ""
        return DatesUnavailable(
            f"those dates overlap another stay in this unit{where}",
            accommodation_id=stay.accommodation_id,
            conflict=conflict,
        )


def _violates(exc: IntegrityError, constraint: str) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint


reservation = ReservationService()
