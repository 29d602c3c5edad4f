"""Queries over reservations and units. Builds selects; decides nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, exists, func, select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.orm import selectinload

from alojamientos.reservations.models import OCCUPYING, Accommodation, Reservation


def overlapping(check_in: date, check_out: date) -> Select[Reservation]:
    """Occupying stays (holds, confirmed, blocks) that share a night with `[check_in, check_out)`."""
    return select(Reservation).where(
        Reservation.status.in_(OCCUPYING),
        Reservation.period.overlaps(Range(check_in, check_out, bounds="[)")),
    )


def free_units(
    check_in: date, check_out: date, guests: int, *, besides: str | None = None
) -> Select[Accommodation]:
    """`besides`: the code of a reservation being moved, whose own nights do not count as taken."""
    taken = overlapping(check_in, check_out).where(Reservation.accommodation_id == Accommodation.id)
    if besides:
        taken = taken.where(Reservation.code != besides.upper())
    return (
        select(Accommodation)
        .where(Accommodation.active, Accommodation.capacity >= guests, ~exists(taken))
        .order_by(Accommodation.capacity, Accommodation.id)
    )


def by_code(code: str) -> Select[Reservation]:
    return select(Reservation).where(Reservation.code == code.upper())


def with_events(code: str) -> Select[Reservation]:
    return by_code(code).options(selectinload(Reservation.events))


def listing(
    *, status: str | None, kind: str | None, from_: date | None, to: date | None, limit: int, offset: int
) -> Select[Reservation]:
    query = select(Reservation)
    if kind:
        query = query.where(Reservation.kind == kind)
    if status:
        query = query.where(Reservation.status == status)
    if from_ and to:
        query = query.where(Reservation.period.overlaps(Range(from_, to, bounds="[)")))
    elif from_:
        query = query.where(Reservation.check_out > from_)
    elif to:
        query = query.where(Reservation.check_in < to)
    return query.order_by(Reservation.check_in, Reservation.id).limit(limit).offset(offset)


def count_of(query: Select[Reservation]) -> Select[int]:
    return select(func.count()).select_from(query.limit(None).offset(None).order_by(None).subquery())
