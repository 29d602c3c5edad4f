"""Reservation rules: availability, quotes and every state change.

PostgreSQL decides overlaps (the `reservations_no_overlap` exclusion constraint) and every state
change is a conditional UPDATE whose row count says whether it happened; each one writes its
`ReservationEvent` in the same transaction. Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
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
    AccommodationExists,
    AccommodationInactive,
    AccommodationNotFound,
    DatesUnavailable,
    InvalidAccommodation,
    InvalidGuest,
    InvalidPhotoUrl,
    InvalidTransition,
    MinimumStay,
    NotArrivedYet,
    NothingChanged,
    PastDates,
    ReservationNotFound,
    TooManyGuests,
    WrongKind,
)
from alojamientos.reservations.models import (
    OCCUPYING,
    Accommodation,
    Reservation,
    ReservationEvent,
    ReservationSource,
    ReservationStatus,
)
from alojamientos.reservations.schemas import MAX_PHOTOS, photo_url

log = logging.getLogger(__name__)

NOTIFY = "reservation.notify"  # handled in notifications.tasks: tells the guest and the operator
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I/1, O/0: read aloud over the phone
CODE_LENGTH = 6
# `ReservationEvent.reason` of changes that keep the status: notifications.tasks tells the guest about
# a changed stay, and nobody about corrected guest details.
STAY_CHANGED = "stay_changed"
GUEST_UPDATED = "guest_updated"
GUEST_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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


@dataclass(frozen=True, slots=True)
class NewBlock:
    """Dates a unit is closed for our own reasons (maintenance, the owner's family): no guest, no price."""

    accommodation_id: int
    check_in: date
    check_out: date
    reason: str


@dataclass(frozen=True, slots=True)
class UnitFields:
    """Everything the operator sets on a unit; on update, None leaves a field as it is."""

    name: str | None = None
    capacity: int | None = None
    base_occupancy: int | None = None
    base_price: Decimal | None = None
    description: str | None = None
    amenities: list[str] | None = None
    photos: list[str] | None = None
    check_in_instructions: str | None = None
    active: bool | None = None


MAX_CAPACITY = 50


def _checked_unit(fields: UnitFields, current: Accommodation | None) -> dict[str, Any]:
    """The values to store, all validated before anything is assigned (a refusal changes nothing)."""
    values = {k: getattr(fields, k) for k in UnitFields.__slots__ if getattr(fields, k) is not None}
    if "name" in values:
        values["name"] = values["name"].strip()
        if not 1 <= len(values["name"]) <= 120:
            raise InvalidAccommodation("the name needs 1 to 120 characters", field="name")
    capacity = values.get("capacity", current.capacity if current else None)
    if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidAccommodation(f"capacity must be 1..{MAX_CAPACITY}", field="capacity")
    occupancy = values.get("base_occupancy", current.base_occupancy if current else min(2, capacity))
    if not 1 <= occupancy <= capacity:
        raise InvalidAccommodation("base_occupancy must be 1..capacity", field="base_occupancy")
    values["base_occupancy"] = occupancy
    price = values.get("base_price", current.base_price if current else None)
    if price is None or not price.is_finite() or price < 0 or price >= Decimal("1e10"):
        raise InvalidAccommodation("base_price must be a non-negative amount", field="base_price")
    if "photos" in values:
        if len(values["photos"]) > MAX_PHOTOS:
            raise InvalidPhotoUrl(f"at most {MAX_PHOTOS} photos", field="photos")
        try:
            values["photos"] = [photo_url(url) for url in values["photos"]]
        except ValueError as exc:
            raise InvalidPhotoUrl(str(exc), field="photos") from None
    return values


class ReservationService:
    # -- units -------------------------------------------------------------------------------------

    async def create_accommodation(self, session: AsyncSession, fields: UnitFields) -> Accommodation:
        values = _checked_unit(fields, None)
        if "name" not in values:
            raise InvalidAccommodation("a unit needs a name", field="name")
        await self._name_free(session, values["name"], None)
        unit = Accommodation(**values)
        await self._save_unit(session, unit)
        await session.refresh(unit)  # the export token and defaults are made by the database
        return unit

    async def update_accommodation(
        self, session: AsyncSession, accommodation_id: int, fields: UnitFields
    ) -> Accommodation:
        unit = await self.accommodation(session, accommodation_id)
        values = _checked_unit(fields, unit)
        if "name" in values:
            await self._name_free(session, values["name"], unit.id)
        for key, value in values.items():
            setattr(unit, key, value)
        await self._save_unit(session, unit)
        return unit

    async def _name_free(self, session: AsyncSession, name: str, unit_id: int | None) -> None:
        query = select(Accommodation.id).where(Accommodation.name == name)
        if unit_id is not None:
            query = query.where(Accommodation.id != unit_id)
        if await session.scalar(query) is not None:
            raise AccommodationExists(f"a unit named {name!r} already exists", field="name")

    async def _save_unit(self, session: AsyncSession, unit: Accommodation) -> None:
        try:
            async with session.begin_nested():
                session.add(unit)
                await session.flush()
        except IntegrityError:  # a concurrent save took the name
            raise AccommodationExists(f"a unit named {unit.name!r} already exists", field="name") from None

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
        self,
        session: AsyncSession,
        check_in: date,
        check_out: date,
        guests: int,
        *,
        besides: str | None = None,
    ) -> list[UnitQuote]:
        """Active units with room for the party, no occupying stay in the range, and minimum nights met.

        `besides`: a reservation being moved, whose own nights do not count as taken.
        """
        await self._not_in_past(session, check_in)
        query = repository.free_units(check_in, check_out, guests, besides=besides)
        units = (await session.scalars(query)).all()
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
                total_amount=stay_quote.total,
                deposit_amount=stay_quote.deposit,
                paid_amount=Decimal("0.00"),
                expires_at=expires_at,
                notes=stay.notes,
                payment_method=stay.payment_method if expires_at else None,
            )

        reservation = await self._insert(session, build, stay.accommodation_id, stay.check_in, stay.check_out)
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
            extra={"code": reservation.code, "status": reservation.status, "source": stay.source},
        )
        return reservation

    async def block(self, session: AsyncSession, new: NewBlock, *, actor: str) -> Reservation:
        """Close a unit's dates ourselves; exported to Airbnb and Booking like any stay."""
        unit = await self.accommodation(session, new.accommodation_id)
        await self._not_in_past(session, new.check_in)
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
                total_amount=Decimal(0),
                deposit_amount=Decimal(0),
                paid_amount=Decimal(0),
            )

        blocked = await self._insert(session, build, unit.id, new.check_in, new.check_out)
        await self.record_event(
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

    async def unblock(self, session: AsyncSession, code: str, *, actor: str) -> Reservation:
        """Open a block of ours again (another channel's blocks come and go with its feed)."""
        found = await self.get(session, code)
        if found.kind != "block" or found.feed_id is not None:
            raise WrongKind(f"{found.code} is not a block made here", kind=found.kind)
        return await self._transition(
            session,
            found.code,
            frm=(ReservationStatus.confirmed,),
            to=ReservationStatus.cancelled,
            actor=actor,
            notify=False,
        )

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

    async def no_show(self, session: AsyncSession, code: str, *, actor: str) -> Reservation:
        """The guest never came: from check-in day on, a confirmed stay ends and its nights free up."""
        found = await self.get(session, code)
        today = local_today(await pricing.timezone(session))
        if found.kind != "stay":
            raise WrongKind(f"{found.code} is a block", kind=found.kind)
        if today < found.check_in:
            raise NotArrivedYet(
                f"{found.code} checks in on {found.check_in.isoformat()}", check_in=found.check_in.isoformat()
            )
        return await self._transition(
            session, found.code, frm=(ReservationStatus.confirmed,), to=ReservationStatus.no_show, actor=actor
        )

    async def change_stay(
        self,
        session: AsyncSession,
        code: str,
        *,
        accommodation_id: int,
        check_in: date,
        check_out: date,
        guests: int,
        actor: str,
    ) -> Reservation:
        """Move a hold or confirmed stay to another unit, dates or party size, re-quoted as a new hold.

        The same reservation, so its payments stay with it: the paid amount is kept, a hold keeps its
        expiry, and the exclusion constraint decides overlaps exactly as for a new hold.
        """
        stay = await self._locked(session, code)  # a confirm or cancel waits for us, or we for it
        if stay.kind != "stay":
            raise WrongKind(f"{stay.code} is a block", kind=stay.kind)
        if stay.status not in OCCUPYING:
            raise InvalidTransition(
                f"reservation {stay.code} is {stay.status}; only holds and confirmed stays can change",
                status=stay.status,
            )
        if (stay.accommodation_id, stay.check_in, stay.check_out, stay.guests) == (
            accommodation_id,
            check_in,
            check_out,
            guests,
        ):
            raise NothingChanged(f"reservation {stay.code} already is that stay")
        unit = await self.accommodation(session, accommodation_id)
        if not unit.active:
            raise AccommodationInactive(f"{unit.name} is not taking bookings")
        new_quote = await self.checked_quote(session, unit, check_in, check_out, guests)
        before = _stay_facts(stay, (await self.accommodation(session, stay.accommodation_id)).name)
        try:
            async with session.begin_nested():
                await session.execute(
                    update(Reservation)
                    .where(Reservation.id == stay.id)
                    .values(
                        accommodation_id=unit.id,
                        check_in=check_in,
                        check_out=check_out,
                        guests=guests,
                        total_amount=new_quote.total,
                        deposit_amount=new_quote.deposit,
                        updated_at=utc_now(),
                    )
                    .execution_options(synchronize_session=False)
                )
        except IntegrityError as exc:
            if isinstance(exc.orig, pg_errors.ExclusionViolation):
                raise await self._dates_unavailable(
                    session, unit.id, check_in, check_out, besides=stay.id
                ) from None
            raise
        await session.refresh(stay)  # the period is computed by the database
        after = _stay_facts(stay, unit.name)
        await self.record_event(
            session,
            stay,
            stay.status,
            stay.status,
            actor=actor,
            reason=STAY_CHANGED,
            data={"before": before, "after": after},
        )
        log.info("reservation.stay_changed", extra={"code": stay.code, "before": before, "after": after})
        return stay

    async def update_guest(
        self,
        session: AsyncSession,
        code: str,
        *,
        name: str,
        phone: str | None,
        email: str | None,
        actor: str,
    ) -> Reservation:
        """Correct who the guest is (a typo, another number); the guest is not messaged about it.

        `phone` comes already in E.164 (`kit.phone.to_e164`), or None.
        """
        stay = await self._locked(session, code)
        if stay.kind != "stay":
            raise WrongKind(f"{stay.code} is a block", kind=stay.kind)
        name = " ".join(name.split())
        email = (email or "").strip() or None
        if not 1 <= len(name) <= 200:
            raise InvalidGuest("the guest needs a name of 1 to 200 characters", field="name")
        if email is not None and (len(email) > 254 or not GUEST_EMAIL.fullmatch(email)):
            raise InvalidGuest(f"{email!r} is not an e-mail address", field="email")
        if phone is not None and not (phone.startswith("+") and len(phone) <= 20):
            raise InvalidGuest(f"{phone!r} is not an E.164 phone number", field="phone")
        before = {"name": stay.guest_name, "phone": stay.guest_phone, "email": stay.guest_email}
        after = {"name": name, "phone": phone, "email": email}
        if before == after:
            raise NothingChanged(f"reservation {stay.code} already has those guest details")
        stay.guest_name, stay.guest_phone, stay.guest_email = name, phone, email
        await session.flush()
        await self.record_event(
            session,
            stay,
            stay.status,
            stay.status,
            actor=actor,
            reason=GUEST_UPDATED,
            data={"before": before, "after": after},
            notify=False,
        )
        log.info("reservation.guest_updated", extra={"code": stay.code})
        return stay

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

    async def _locked(self, session: AsyncSession, code: str) -> Reservation:
        """The reservation, read fresh and locked until the transaction ends."""
        found = await session.scalar(
            repository.by_code(code).with_for_update().execution_options(populate_existing=True)
        )
        if found is None:
            raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
        return found

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
        notify: bool = True,
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
            session, reservation, current, to.value, actor=actor, reason=reason, data=data, notify=notify
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
        notify: bool = True,
    ) -> ReservationEvent:
        """The timeline entry for a change, and the job that tells everyone about it, in one transaction.

        `notify=False` for changes nobody is told about (our own blocks have no guest).
        """
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
        if notify:
            await enqueue(session, NOTIFY, {"event_id": event.id}, dedupe_key=f"event:{event.id}")
        return event

    async def _hold_window(self, session: AsyncSession, payment_method: str) -> timedelta:
        policy = await pricing.settings(session)
        if payment_method == "mercadopago":
            return timedelta(minutes=policy.hold_minutes_mercadopago)
        return timedelta(hours=policy.hold_hours_transfer)

    async def _insert(
        self,
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
                    raise await self._dates_unavailable(
                        session, accommodation_id, check_in, check_out
                    ) from None
                if _violates(exc, "uq_reservations_code"):
                    continue  # a code collision: draw another
                raise
            return reservation
        raise RuntimeError("could not draw a free reservation code in 5 attempts")

    async def _dates_unavailable(
        self,
        session: AsyncSession,
        accommodation_id: int,
        check_in: date,
        check_out: date,
        *,
        besides: int | None = None,
    ) -> DatesUnavailable:
        """Name the stay we collided with (it is committed: the constraint waited for it).

        `besides`: the reservation being moved, which never collides with itself.
        """
        query = repository.overlapping(check_in, check_out).where(
            Reservation.accommodation_id == accommodation_id
        )
        if besides is not None:
            query = query.where(Reservation.id != besides)
        clash = await session.scalar(query.order_by(Reservation.check_in).limit(1))
        conflict = (
            {"check_in": clash.check_in.isoformat(), "check_out": clash.check_out.isoformat()}
            if clash
            else None
        )
        where = f" ({conflict['check_in']} to {conflict['check_out']})" if conflict else ""
        return DatesUnavailable(
            f"those dates overlap another stay in this unit{where}",
            accommodation_id=accommodation_id,
            conflict=conflict,
        )


def _stay_facts(stay: Reservation, unit_name: str) -> dict[str, Any]:
    """A stay as the timeline keeps it (JSON): enough to say, in words, what it was."""
    return {
        "accommodation_id": stay.accommodation_id,
        "unit": unit_name,
        "check_in": stay.check_in.isoformat(),
        "check_out": stay.check_out.isoformat(),
        "guests": stay.guests,
        "total": str(stay.total_amount),
        "deposit": str(stay.deposit_amount),
    }


def _violates(exc: IntegrityError, constraint: str) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint


reservation = ReservationService()
