"""Units: creating and editing them (validated before anything is assigned)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.reservations import repository
from alojamientos.reservations.errors import (
    AccommodationExists,
    InvalidAccommodation,
    InvalidPhotoUrl,
)
from alojamientos.reservations.models import Accommodation
from alojamientos.reservations.schemas import MAX_PHOTOS, photo_url
from alojamientos.reservations.types import MAX_CAPACITY, UnitFields


async def create_accommodation(session: AsyncSession, fields: UnitFields) -> Accommodation:
    values = _checked_unit(fields, None)
    if "name" not in values:
        raise InvalidAccommodation("a unit needs a name", field="name")
    await _name_free(session, values["name"], None)
    unit = Accommodation(**values)
    await _save_unit(session, unit)
    await session.refresh(unit)  # the export token and defaults are made by the database
    return unit


async def update_accommodation(
    session: AsyncSession, accommodation_id: int, fields: UnitFields
) -> Accommodation:
    unit = await repository.accommodation(session, accommodation_id)
    values = _checked_unit(fields, unit)
    if "name" in values:
        await _name_free(session, values["name"], unit.id)
    for key, value in values.items():
        setattr(unit, key, value)
    await _save_unit(session, unit)
    return unit


async def _name_free(session: AsyncSession, name: str, unit_id: int | None) -> None:
    query = select(Accommodation.id).where(Accommodation.name == name)
    if unit_id is not None:
        query = query.where(Accommodation.id != unit_id)
    if await session.scalar(query) is not None:
        raise AccommodationExists(f"a unit named {name!r} already exists", field="name")


async def _save_unit(session: AsyncSession, unit: Accommodation) -> None:
    try:
        async with session.begin_nested():
            session.add(unit)
            await session.flush()
    except IntegrityError:  # a concurrent save took the name
        raise AccommodationExists(f"a unit named {unit.name!r} already exists", field="name") from None


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
