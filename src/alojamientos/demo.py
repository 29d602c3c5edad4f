"""Demo data for a first `make run`: three cabins, a summer season and a few stays."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.kit.clock import local_today
from alojamientos.pricing.models import Season
from alojamientos.pricing.service import pricing
from alojamientos.reservations.models import Accommodation, ReservationSource, ReservationStatus
from alojamientos.reservations.service import NewStay
from alojamientos.reservations.service import reservation as reservation_service

UNITS = [
    {
        "name": "Cabaña del Bosque",
        "capacity": 4,
        "base_occupancy": 2,
        "base_price": Decimal("65000"),
        "description": "Cabaña de madera entre los pinos, con parrilla y deck.",
        "amenities": ["wifi", "parrilla", "estacionamiento", "ropa de cama"],
        "check_in_instructions": "Retirá la llave en recepción a partir de las 14 h.",
    },
    {
        "name": "Cabaña del Lago",
        "capacity": 6,
        "base_occupancy": 4,
        "base_price": Decimal("90000"),
        "description": "Dos dormitorios, vista al lago, hogar a leña.",
        "amenities": ["wifi", "hogar", "parrilla", "estacionamiento", "se aceptan mascotas"],
        "check_in_instructions": "El código del candado de la llave te llega el día de llegada.",
    },
    {
        "name": "Monoambiente Sierra",
        "capacity": 2,
        "base_occupancy": 2,
        "base_price": Decimal("45000"),
        "description": "Monoambiente para parejas, cama matrimonial y kitchenette.",
        "amenities": ["wifi", "aire acondicionado"],
        "check_in_instructions": "Retirá la llave en recepción a partir de las 14 h.",
    },
]


async def load_demo(session: AsyncSession) -> bool:
    """Loads the demo once: returns False when the database already has units."""
    if await session.scalar(select(func.count()).select_from(Accommodation)):
        return False
    units = [Accommodation(**data) for data in UNITS]
    session.add_all(units)
    today = local_today(await pricing.timezone(session))
    summer_start = today.replace(month=12, day=15)
    if summer_start < today - timedelta(days=60):
        summer_start = summer_start.replace(year=today.year + 1)
    session.add(
        Season(
            name="Temporada alta de verano",
            start_date=summer_start,
            end_date=summer_start.replace(year=summer_start.year + 1, month=3, day=1),
            multiplier=Decimal("1.4"),
            min_nights=3,
        )
    )
    await session.flush()
    stays = [
        (units[0], 7, 3, 2, "Lucía Fernández", "+5492944123456", ReservationStatus.confirmed),
        (units[1], 10, 4, 5, "Martín Gómez", "+5491145678901", ReservationStatus.pre_reserved),
        (units[2], 3, 2, 2, "Sofía Ramírez", "+5493514567890", ReservationStatus.confirmed),
    ]
    for unit, offset, nights, guests, name, phone, status in stays:
        check_in = today + timedelta(days=offset)
        await reservation_service.hold(
            session,
            NewStay(
                accommodation_id=unit.id,
                check_in=check_in,
                check_out=check_in + timedelta(days=nights),
                guests=guests,
                guest_name=name,
                guest_phone=phone,
                source=ReservationSource.admin,
                status=status,
            ),
            actor="system:demo",
        )
    return True
