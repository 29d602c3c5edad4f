"""Units × days for a month: each stay a bar, each free night a place to start a booking."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range

from alojamientos.admin.templating import render
from alojamientos.db import SessionDep
from alojamientos.kit.clock import local_today
from alojamientos.pricing.service import pricing
from alojamientos.reservations.models import Accommodation, Reservation, ReservationStatus

router = APIRouter()

SHOWN = (ReservationStatus.pre_reserved, ReservationStatus.confirmed, ReservationStatus.completed)


@dataclass(frozen=True, slots=True)
class Cell:
    """One run of a unit's row: a stay's nights inside the month (a bar), or one free night."""

    day: date
    span: int = 1
    stay: Reservation | None = None
    continues_before: bool = False  # the stay began in the previous month
    continues_after: bool = False  # and goes on into the next

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)


def month_of(raw: str, today: date) -> date:
    """`2026-12` → 1 December 2026; anything else → this month."""
    try:
        year, month = (int(part) for part in raw.split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def row(stays: list[Reservation], first: date, end: date) -> list[Cell]:
    """The month `[first, end)` for one unit, left to right; overlapping rows (never expected) clip."""
    cells: list[Cell] = []
    night = first
    pending = sorted(stays, key=lambda r: (r.check_in, r.id))
    while night < end:
        stay = next((s for s in pending if s.check_in <= night < s.check_out), None)
        if stay is None:
            cells.append(Cell(night))
            night += timedelta(days=1)
            continue
        last = min(stay.check_out, end)
        cells.append(
            Cell(
                night,
                span=(last - night).days,
                stay=stay,
                continues_before=stay.check_in < night,
                continues_after=stay.check_out > end,
            )
        )
        pending.remove(stay)
        night = last
    return cells


@router.get("/calendario")
async def calendar_view(request: Request, session: SessionDep, mes: str = "") -> Response:
    today = local_today(await pricing.timezone(session))
    first = month_of(mes, today)
    length = calendar.monthrange(first.year, first.month)[1]
    end = first + timedelta(days=length)
    units = list(
        await session.scalars(select(Accommodation).where(Accommodation.active).order_by(Accommodation.name))
    )
    stays = await session.scalars(
        select(Reservation).where(
            Reservation.status.in_(SHOWN), Reservation.period.overlaps(Range(first, end, bounds="[)"))
        )
    )
    by_unit: dict[int, list[Reservation]] = {u.id: [] for u in units}
    for stay in stays:
        by_unit.setdefault(stay.accommodation_id, []).append(stay)
    previous = (first - timedelta(days=1)).replace(day=1)
    context = {
        "today": today,
        "first": first,
        "days": [first + timedelta(days=i) for i in range(length)],
        "rows": [(u, row(by_unit[u.id], first, end)) for u in units],
        "previous": f"{previous:%Y-%m}",
        "following": f"{end:%Y-%m}",
        "this_month": f"{today:%Y-%m}",
    }
    return render(request, "admin/calendar.html", context)
