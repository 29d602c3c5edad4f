"""Demo data for a first `make run`: three cabins, a summer season, a few stays, and one guest's
WhatsApp thread from first message to hold, played through the real conversation engine."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import format as fmt
from alojamientos.conversation.chat import exchange
from alojamientos.conversation.messages import Reply
from alojamientos.kit.clock import local_today
from alojamientos.pricing.models import Season
from alojamientos.pricing.service import pricing
from alojamientos.reservations import holds
from alojamientos.reservations.models import Accommodation, ReservationSource, ReservationStatus
from alojamientos.reservations.types import NewStay

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
        await holds.hold(
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
    # What an operator fills in Ajustes first; the demo guest's hold then says how to pay.
    policy = await pricing.settings(session)
    await pricing.update_booking_policy(
        session,
        hold_minutes_mercadopago=policy.hold_minutes_mercadopago,
        hold_hours_transfer=policy.hold_hours_transfer,
        cancellation_policy=policy.cancellation_policy or DEMO_CANCELLATION_POLICY,
        bank_transfer_details=policy.bank_transfer_details or DEMO_BANK_DETAILS,
    )
    await _guest_thread(session, today + timedelta(days=21), units[0].name)
    return True


DEMO_BANK_DETAILS = "Alias: CABANAS.DEMO.LAGO\nCBU: 0000003100000000000000\nTitular: Cabañas Demo SRL"
DEMO_CANCELLATION_POLICY = (
    "Cancelando hasta 15 días antes de la llegada te devolvemos la seña; después, la seña no se devuelve."
)


DEMO_GUEST = ("+5492945550101", "Carla")


async def _guest_thread(session: AsyncSession, check_in: date, unit: str) -> None:
    """A guest asks, picks a cabin, gives her name and gets a hold, as the bot would answer today."""
    check_out = check_in + timedelta(days=3)
    phone, profile = DEMO_GUEST
    lines = [
        f"¡Hola! ¿Tienen lugar para 2 personas {_range(check_in, check_out)}?",
        unit,
        "Carla Benítez",
        "¿A qué hora se puede entrar?",
        "Genial, ¡gracias!",
    ]
    offered: dict[str, str] = {}  # title -> id of the options in the bot's last list
    for line in lines:
        # A line that is an option's title is that option tapped, as on WhatsApp; others are typed.
        replies, _ = await exchange(
            session, phone, line, [], profile_name=profile, choice_id=offered.get(line)
        )
        offered = _choices(replies) or offered


def _range(check_in: date, check_out: date) -> str:
    month_in, month_out = fmt.MONTHS[check_in.month - 1], fmt.MONTHS[check_out.month - 1]
    if month_in == month_out:
        return f"del {check_in.day} al {check_out.day} de {month_out}"
    return f"del {check_in.day} de {month_in} al {check_out.day} de {month_out}"


def _choices(replies: list[Reply]) -> dict[str, str]:
    """Title -> id of the options in the last reply that offers any (empty when none does)."""
    for reply in reversed(replies):
        offered = [(b.title, b.id) for b in reply.buttons] + [(r.title, r.id) for r in reply.rows]
        if offered:
            return dict(offered)
    return {}
