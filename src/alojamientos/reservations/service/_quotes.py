"""Quotes and availability: the pure pricing rules applied to stored units, seasons and holidays."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.kit.clock import local_today
from alojamientos.pricing.rules import Quote, UnitPricing
from alojamientos.pricing.rules import quote as priced
from alojamientos.pricing.service import argentine_holidays, pricing
from alojamientos.reservations import repository
from alojamientos.reservations.errors import (
    MinimumStay,
    PastDates,
    TooManyGuests,
)
from alojamientos.reservations.models import (
    Accommodation,
)
from alojamientos.reservations.service._common import (
    UnitQuote,
)

if TYPE_CHECKING:
    from alojamientos.reservations.service import ReservationService


async def quote(
    self: ReservationService,
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
    return priced(
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        unit=UnitPricing(base_price=unit.base_price, base_occupancy=unit.base_occupancy),
        rules=rules,
        holidays=argentine_holidays(),
    )


async def checked_quote(
    self: ReservationService,
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
    self: ReservationService,
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


async def _not_in_past(self: ReservationService, session: AsyncSession, check_in: date) -> None:
    today = local_today(await pricing.timezone(session))
    if check_in < today:
        raise PastDates(
            f"check_in {check_in.isoformat()} is before today ({today.isoformat()})",
            today=today.isoformat(),
        )
