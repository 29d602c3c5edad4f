"""Units: creating and editing them (validated before anything is assigned), and reading rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.reservations import repository
from alojamientos.reservations.errors import (
    AccommodationExists,
    AccommodationNotFound,
    InvalidAccommodation,
    ReservationNotFound,
)
from alojamientos.reservations.models import (
    Accommodation,
    Reservation,
)
from alojamientos.reservations.service._common import (
    UnitFields,
    _checked_unit,
)

if TYPE_CHECKING:
    from alojamientos.reservations.service import ReservationService


async def create_accommodation(
    self: ReservationService, session: AsyncSession, fields: UnitFields
) -> Accommodation:
    values = _checked_unit(fields, None)
    if "name" not in values:
        raise InvalidAccommodation("a unit needs a name", field="name")
    await self._name_free(session, values["name"], None)
    unit = Accommodation(**values)
    await self._save_unit(session, unit)
    await session.refresh(unit)  # the export token and defaults are made by the database
    return unit


async def update_accommodation(
    self: ReservationService, session: AsyncSession, accommodation_id: int, fields: UnitFields
) -> Accommodation:
    unit = await self.accommodation(session, accommodation_id)
    values = _checked_unit(fields, unit)
    if "name" in values:
        await self._name_free(session, values["name"], unit.id)
    for key, value in values.items():
        setattr(unit, key, value)
    await self._save_unit(session, unit)
    return unit


async def _name_free(self: ReservationService, session: AsyncSession, name: str, unit_id: int | None) -> None:
    query = select(Accommodation.id).where(Accommodation.name == name)
    if unit_id is not None:
        query = query.where(Accommodation.id != unit_id)
    if await session.scalar(query) is not None:
        raise AccommodationExists(f"a unit named {name!r} already exists", field="name")


async def _save_unit(self: ReservationService, session: AsyncSession, unit: Accommodation) -> None:
    try:
        async with session.begin_nested():
            session.add(unit)
            await session.flush()
    except IntegrityError:  # a concurrent save took the name
        raise AccommodationExists(f"a unit named {unit.name!r} already exists", field="name") from None


async def accommodation(
    self: ReservationService, session: AsyncSession, accommodation_id: int
) -> Accommodation:
    unit = await session.get(Accommodation, accommodation_id)
    if unit is None:
        raise AccommodationNotFound(f"there is no unit {accommodation_id}", accommodation_id=accommodation_id)
    return unit


async def get(self: ReservationService, session: AsyncSession, code: str) -> Reservation:
    found = await session.scalar(repository.with_events(code))
    if found is None:
        raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
    return found
