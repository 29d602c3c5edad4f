"""Queries over reservations and units: builds selects, and reads one unit or reservation by key."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from alojamientos.kit.queries import digits_of, folded_contains
from alojamientos.reservations.errors import AccommodationNotFound, ReservationNotFound
from alojamientos.reservations.models import OCCUPYING, Accommodation, Reservation

Day = date | ColumnElement[date]  # a date, or a bound parameter for statements built once


def overlapping(
    check_in: Day, check_out: Day, *, besides: str | ColumnElement[str] | None = None
) -> Select[Reservation]:
    """Occupying stays (holds, confirmed, blocks) that share a night with `[check_in, check_out)`.

    `besides`: the code of a reservation being moved (upper case when bound), whose own nights do not
    count as taken.
    """
    if isinstance(check_in, date) and isinstance(check_out, date):
        nights: Any = Range(check_in, check_out, bounds="[)")
    else:
        nights = func.daterange(check_in, check_out, literal_column("'[)'"))
    query = select(Reservation).where(Reservation.status.in_(OCCUPYING), Reservation.period.overlaps(nights))
    if besides is None:
        return query
    return query.where(Reservation.code != (besides.upper() if isinstance(besides, str) else besides))


def free_units(
    check_in: Day,
    check_out: Day,
    guests: int | ColumnElement[int],
    *,
    besides: str | ColumnElement[str] | None = None,
) -> Select[Accommodation]:
    taken = overlapping(check_in, check_out, besides=besides).where(
        Reservation.accommodation_id == Accommodation.id
    )
    return (
        select(Accommodation)
        .where(Accommodation.active, Accommodation.capacity >= guests, ~exists(taken))
        .order_by(Accommodation.capacity, Accommodation.id)
    )


def by_code(code: str) -> Select[Reservation]:
    return select(Reservation).where(Reservation.code == code.upper())


def with_events(code: str) -> Select[Reservation]:
    return by_code(code).options(selectinload(Reservation.events))


def within(query: Select[Reservation], from_: date | None, to: date | None) -> Select[Reservation]:
    """Only stays with a night in `[from_, to)`; either end may be left open."""
    if from_ and to and to > from_:
        return query.where(Reservation.period.overlaps(Range(from_, to, bounds="[)")))
    if from_:
        return query.where(Reservation.check_out > from_)
    if to:
        return query.where(Reservation.check_in < to)
    return query


def matching(query: Select[Reservation], text: str) -> Select[Reservation]:
    """Stays whose guest name contains `text` ignoring case and accents, whose code is `text`, or
    (with 4 digits or more) whose phone contains those digits; blank `text` leaves `query` as is."""
    text = text.strip()
    if not text:
        return query
    matches = [folded_contains(Reservation.guest_name, text), Reservation.code == text.upper()]
    if len(digits := digits_of(text)) >= 4:
        matches.append(Reservation.guest_phone.contains(digits, autoescape=True))
    return query.where(or_(*matches))


def listing(
    *,
    status: str | None,
    kind: str | None,
    from_: date | None,
    to: date | None,
    limit: int,
    offset: int,
    text: str = "",
) -> Select[Reservation]:
    query = matching(within(select(Reservation), from_, to), text)
    if kind:
        query = query.where(Reservation.kind == kind)
    if status:
        query = query.where(Reservation.status == status)
    return query.order_by(Reservation.check_in, Reservation.id).limit(limit).offset(offset)


async def accommodation(session: AsyncSession, accommodation_id: int) -> Accommodation:
    """The unit; AccommodationNotFound (404) when there is none."""
    unit = await session.get(Accommodation, accommodation_id)
    if unit is None:
        raise no_unit(accommodation_id)
    return unit


def no_unit(accommodation_id: int) -> AccommodationNotFound:
    return AccommodationNotFound(f"there is no unit {accommodation_id}", accommodation_id=accommodation_id)


async def get(session: AsyncSession, code: str) -> Reservation:
    """The reservation with its timeline loaded; ReservationNotFound (404) when there is none."""
    found = await session.scalar(with_events(code))
    if found is None:
        raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
    return found
