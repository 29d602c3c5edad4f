"""What every e-mail template receives about a reservation (see templates/email/)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.config import Settings
from alojamientos.conversation.models import BotAnswer
from alojamientos.pricing.service import pricing
from alojamientos.reservations.models import Accommodation, Reservation


async def base_context(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    policy = await pricing.settings(session)
    return {
        "complex_name": policy.complex_name,
        "public_base_url": settings.public_base_url.rstrip("/"),
        "check_in_time": policy.check_in_time,
        "check_out_time": policy.check_out_time,
        "bank_details": policy.bank_transfer_details.strip(),
        "cancellation_policy": policy.cancellation_policy.strip(),
        "code": "",
        "guest_name": "",
        "guest_phone": None,
        "guest_email": None,
        "unit_name": "",
        "check_in": None,
        "check_out": None,
        "nights": 0,
        "guests": 0,
        "total": Decimal(0),
        "deposit": Decimal(0),
        "paid": Decimal(0),
        "due": Decimal(0),
        "expires_at": None,
        "check_in_instructions": "",
        "address": "",
        "payment_link": None,
        "reason": None,
        "payment_amount": None,
        "payment_method": None,
        "payment_status": None,
    }


async def reservation_context(
    session: AsyncSession, settings: Settings, reservation: Reservation, **extra: Any
) -> dict[str, Any]:
    context = await base_context(session, settings)
    unit = await session.get_one(Accommodation, reservation.accommodation_id)
    tz = await pricing.timezone(session)
    address = await session.get(BotAnswer, "ubicacion")
    context.update(
        code=reservation.code,
        guest_name=reservation.guest_name,
        guest_phone=reservation.guest_phone,
        guest_email=reservation.guest_email,
        unit_name=unit.name,
        check_in=reservation.check_in,
        check_out=reservation.check_out,
        nights=(reservation.check_out - reservation.check_in).days,
        guests=reservation.guests,
        total=reservation.total_amount,
        deposit=reservation.deposit_amount,
        paid=reservation.paid_amount,
        due=max(Decimal(0), reservation.total_amount - reservation.paid_amount),
        expires_at=reservation.expires_at.astimezone(tz) if reservation.expires_at else None,
        check_in_instructions=unit.check_in_instructions.strip(),
        address=address.text if address else "",
        payment_link=reservation.payment_link,
    )
    context.update(extra)
    return context
