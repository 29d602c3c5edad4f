"""The day at a glance: arrivals, departures, holds about to expire, the month's numbers, open problems."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin import labels
from alojamientos.admin.deps import PREFIX, CurrentAdmin
from alojamientos.admin.templating import render
from alojamientos.db import SessionDep
from alojamientos.jobs.models import Job
from alojamientos.kit.clock import local_today, utc_now
from alojamientos.kit.inputs import BigId
from alojamientos.notifications import alerts
from alojamientos.notifications.models import OperatorAlert
from alojamientos.pricing.service import payment_gaps, pricing
from alojamientos.reservations.models import OCCUPYING, Accommodation, Reservation, ReservationStatus

router = APIRouter()

# Nights of confirmed or finished stays and other channels' bookings inside the month, active units only
# (our own maintenance blocks are closed nights, not occupancy).
_OCCUPIED_NIGHTS = text(
    """
    SELECT COALESCE(SUM(upper(r.period * m.range) - lower(r.period * m.range)), 0)
    FROM reservations r
    JOIN accommodations a ON a.id = r.accommodation_id
    CROSS JOIN (SELECT daterange(:start, :end, '[)') AS range) m
    WHERE a.active AND r.status IN ('confirmed', 'completed') AND r.period && m.range
      AND NOT (r.kind = 'block' AND r.source = 'admin')  -- our own maintenance blocks are not guests
    """
)
# Each confirmed or finished guest stay's total, spread evenly over its nights; the month's share.
_REVENUE = text(
    """
    SELECT COALESCE(ROUND(SUM(
        r.total_amount * (upper(r.period * m.range) - lower(r.period * m.range))
        / (r.check_out - r.check_in)), 2), 0)
    FROM reservations r
    CROSS JOIN (SELECT daterange(:start, :end, '[)') AS range) m
    WHERE r.kind = 'stay' AND r.status IN ('confirmed', 'completed') AND r.period && m.range
    """
)


@dataclass(frozen=True, slots=True)
class MonthFigures:
    first_day: date
    units: int
    days: int
    occupied_nights: int
    revenue: Decimal

    @property
    def available_nights(self) -> int:
        return self.units * self.days

    @property
    def occupancy_percent(self) -> int:
        if not self.available_nights:
            return 0
        return round(100 * self.occupied_nights / self.available_nights)


async def month_figures(session: AsyncSession, today: date) -> MonthFigures:
    start = today.replace(day=1)
    days = calendar.monthrange(today.year, today.month)[1]
    end = start + timedelta(days=days)
    params = {"start": start, "end": end}
    units = await session.scalar(select(func.count()).select_from(Accommodation).where(Accommodation.active))
    nights = await session.scalar(_OCCUPIED_NIGHTS, params)
    revenue = await session.scalar(_REVENUE, params)
    return MonthFigures(start, units or 0, days, int(nights or 0), Decimal(revenue or 0))


@router.get("/")
async def dashboard(request: Request, session: SessionDep, hecho: str = "", error: str = "") -> Response:
    today = local_today(await pricing.timezone(session))
    now = utc_now()
    units = {u.id: u.name for u in await session.scalars(select(Accommodation))}
    arrivals = await session.scalars(
        select(Reservation)
        .where(Reservation.kind == "stay", Reservation.check_in == today, Reservation.status.in_(OCCUPYING))
        .order_by(Reservation.accommodation_id)
    )
    departures = await session.scalars(
        select(Reservation)
        .where(
            Reservation.kind == "stay",
            Reservation.check_out == today,
            Reservation.status.in_((ReservationStatus.confirmed, ReservationStatus.completed)),
        )
        .order_by(Reservation.accommodation_id)
    )
    holds = await session.scalars(
        select(Reservation)
        .where(Reservation.kind == "stay", Reservation.status == ReservationStatus.pre_reserved)
        .order_by(Reservation.expires_at.nulls_last(), Reservation.id)
        .limit(50)
    )
    alerts = await session.scalars(
        select(OperatorAlert)
        .where(OperatorAlert.resolved_at.is_(None))
        .order_by(OperatorAlert.created_at.desc())
        .limit(50)
    )
    dead_jobs = await session.scalars(
        select(Job).where(Job.status == "dead").order_by(Job.finished_at.desc().nulls_last()).limit(20)
    )
    context = {
        "today": today,
        "now": now,
        "units": units,
        "arrivals": list(arrivals),
        "departures": list(departures),
        "holds": list(holds),
        "month": await month_figures(session, today),
        "alerts": list(alerts),
        "dead_jobs": list(dead_jobs),
        "payment_gaps": payment_gaps(await pricing.settings(session)),
        "done": labels.DONE.get(hecho, ""),
        "error": labels.error_message(error) if error else "",
    }
    return render(request, "admin/dashboard.html", context)


@router.post("/avisos/{alert_id}/resolver")
async def resolve_alert(alert_id: BigId, session: SessionDep, admin: CurrentAdmin) -> Response:
    """The same as POST /api/v1/alerts/{id}/resolve: off the "needs attention" list."""
    await alerts.resolve_alert(session, alert_id, actor=admin.actor)
    return RedirectResponse(f"{PREFIX}/?hecho=resuelto", status_code=303)
