"""Units × days: each stay a bar, each free night a place to start a booking; on a phone, an agenda.

The page opens on a window that starts a few days before today and runs four weeks ahead (operators
look forward); `?desde=YYYY-MM-DD` moves the window and `?mes=YYYY-MM` shows a whole month.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

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
DAYS_BEFORE_TODAY = 3  # who just left and what was paid stay in view
WINDOW_DAYS = 31  # as wide as a month, so a window fits a desk screen like a month does
WINDOW_STEP = 28  # whole weeks, so each weekday keeps its column when moving forward or back


@dataclass(frozen=True, slots=True)
class Cell:
    """One run of a unit's row: a stay's nights inside the range (a bar), or one free night."""

    day: date
    span: int = 1
    stay: Reservation | None = None
    continues_before: bool = False  # the stay began before the first day shown
    continues_after: bool = False  # and goes on after the last

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)


class Happening(StrEnum):
    arrival = "arrival"
    departure = "departure"
    staying = "staying"  # arrived before the agenda's first day
    free = "free"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a unit's agenda: an arrival or departure (with its stay), or a run of free nights.

    For a free run, `until` is the day it stops being free (the check-out of a booking that fills
    it), and `open_end` says the run reaches the end of the range shown and may go on after it.
    """

    day: date
    kind: Happening
    stay: Reservation | None = None
    until: date | None = None
    open_end: bool = False

    @property
    def nights(self) -> int:
        end = self.until if self.until is not None else (self.stay.check_out if self.stay else self.day)
        return (end - self.day).days

    @property
    def booking_end(self) -> date:
        """The check-out to offer from a free run: the whole gap, or one night when it is open-ended."""
        if self.until is None or self.open_end:
            return self.day + timedelta(days=1)
        return self.until


@dataclass(frozen=True, slots=True)
class Span:
    """The nights shown, `[first, end)`; `month` when it is a calendar month rather than a window."""

    first: date
    end: date
    month: bool

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.end - self.first).days)]

    @property
    def focus(self) -> date:
        """The day month navigation counts from: the month itself, or the window's 'today'."""
        return self.first if self.month else self.first + timedelta(days=DAYS_BEFORE_TODAY)


def month_of(raw: str, today: date) -> date:
    """`2026-12` → 1 December 2026; anything else → this month."""
    try:
        year, month = (int(part) for part in raw.split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def span_of(mes: str, desde: str, today: date) -> Span:
    """`mes=2026-12` → December; `desde=2026-12-05` → a window from that day; neither (or nonsense) →
    the window that starts `DAYS_BEFORE_TODAY` days before today."""
    if mes:
        first = month_of(mes, today)
        return Span(first, first + timedelta(days=calendar.monthrange(first.year, first.month)[1]), True)
    try:
        first = date.fromisoformat(desde)
    except ValueError:
        first = today - timedelta(days=DAYS_BEFORE_TODAY)
    return Span(first, first + timedelta(days=WINDOW_DAYS), False)


def row(stays: list[Reservation], first: date, end: date) -> list[Cell]:
    """The nights `[first, end)` for one unit, left to right; overlapping rows (never expected) clip."""
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


def agenda(stays: list[Reservation], first: date, end: date) -> list[Entry]:
    """What happens to one unit over `[first, end)`, in order: arrivals, departures and free runs.

    A departure sorts before an arrival on the same day (the cabin turns over); a departure on `end`
    itself is outside the range. Stays that overlap each other (never expected) are shown as they are.
    """
    entries: list[Entry] = []
    night = first
    for stay in sorted(stays, key=lambda r: (r.check_in, r.id)):
        if stay.check_out <= first or stay.check_in >= end:
            continue
        if stay.check_in > night:
            entries.append(Entry(night, Happening.free, until=stay.check_in))
        if stay.check_in >= first:
            entries.append(Entry(stay.check_in, Happening.arrival, stay))
        else:
            entries.append(Entry(first, Happening.staying, stay))
        if stay.check_out < end:
            entries.append(Entry(stay.check_out, Happening.departure, stay))
        night = max(night, stay.check_out)
    if night < end:
        entries.append(Entry(night, Happening.free, until=end, open_end=True))
    order = {Happening.departure: 0, Happening.staying: 1, Happening.arrival: 1, Happening.free: 2}
    return sorted(entries, key=lambda e: (e.day, order[e.kind]))


@router.get("/calendario")
async def calendar_view(request: Request, session: SessionDep, mes: str = "", desde: str = "") -> Response:
    today = local_today(await pricing.timezone(session))
    span = span_of(mes, desde, today)
    units = list(
        await session.scalars(select(Accommodation).where(Accommodation.active).order_by(Accommodation.name))
    )
    stays = await session.scalars(
        select(Reservation).where(
            Reservation.status.in_(SHOWN),
            Reservation.period.overlaps(Range(span.first, span.end, bounds="[)")),
        )
    )
    by_unit: dict[int, list[Reservation]] = {u.id: [] for u in units}
    for stay in stays:
        by_unit.setdefault(stay.accommodation_id, []).append(stay)
    # The agenda looks forward: from today when today is shown, else the whole range.
    agenda_first = today if span.first <= today < span.end else span.first
    focus = span.focus.replace(day=1)
    previous = (focus - timedelta(days=1)).replace(day=1)
    following = (focus + timedelta(days=32)).replace(day=1)
    context = {
        "today": today,
        "span": span,
        "first": span.first,
        "last": span.end - timedelta(days=1),
        "days": span.days,
        "rows": [(u, row(by_unit[u.id], span.first, span.end)) for u in units],
        "agendas": [(u, agenda(by_unit[u.id], agenda_first, span.end)) for u in units],
        "agenda_first": agenda_first,
        "previous": f"{previous:%Y-%m}",
        "following": f"{following:%Y-%m}",
        "this_month": f"{today:%Y-%m}",
        "earlier": span.first - timedelta(days=WINDOW_STEP),
        "later": span.first + timedelta(days=WINDOW_STEP),
        "weeks": WINDOW_STEP // 7,
    }
    return render(request, "admin/calendar.html", context)
