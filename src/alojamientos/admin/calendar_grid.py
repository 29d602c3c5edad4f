"""Units × days: who is in each cabin each night, so gaps and overlaps are visible at a glance."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range

from alojamientos.admin.forms import parse_date
from alojamientos.admin.templating import render
from alojamientos.db import SessionDep
from alojamientos.kit.clock import local_today
from alojamientos.pricing.service import pricing
from alojamientos.reservations.models import Accommodation, Reservation, ReservationStatus

router = APIRouter()

DAYS = 14
SHOWN = (ReservationStatus.pre_reserved, ReservationStatus.confirmed, ReservationStatus.completed)


@router.get("/calendario")
async def calendar_view(request: Request, session: SessionDep, desde: str = "") -> Response:
    today = local_today(await pricing.timezone(session))
    start = parse_date(desde) or today
    days = [start + timedelta(days=i) for i in range(DAYS)]
    units = list(
        await session.scalars(select(Accommodation).where(Accommodation.active).order_by(Accommodation.name))
    )
    stays = await session.scalars(
        select(Reservation).where(
            Reservation.status.in_(SHOWN),
            Reservation.period.overlaps(Range(start, start + timedelta(days=DAYS), bounds="[)")),
        )
    )
    nights: dict[tuple[int, date], Reservation] = {}
    for stay in stays:
        night = max(stay.check_in, start)
        while night < min(stay.check_out, start + timedelta(days=DAYS)):
            nights[(stay.accommodation_id, night)] = stay
            night += timedelta(days=1)
    context = {
        "today": today,
        "days": days,
        "units": units,
        "nights": nights,
        "previous": (start - timedelta(days=DAYS)).isoformat(),
        "following": (start + timedelta(days=DAYS)).isoformat(),
    }
    return render(request, "admin/calendar.html", context)
