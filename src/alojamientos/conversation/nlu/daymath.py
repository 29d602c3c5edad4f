"""Calendar arithmetic for the date rules: "first such date on or after / strictly after" a day.

Every function returns None instead of raising, for impossible dates (31/2) and for arithmetic
that would leave `date.min`..`date.max`, so the parser never raises whatever `today` it gets.
"""

from __future__ import annotations

from datetime import date, timedelta

FRIDAY = 4
YEARS_TO_SEARCH = 9
"""Far enough to find the next 29 February from any day."""


def shift(day: date, days: int) -> date | None:
    """Add days, or None past the calendar's limits."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def make_date(year: int, month: int, day: int) -> date | None:
    """Build a date, or None when it does not exist."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _after(candidate: date, anchor: date, strict: bool) -> bool:
    """Whether a candidate satisfies "on or after" (or "strictly after") the anchor."""
    return candidate > anchor or (not strict and candidate == anchor)


def next_day_of_month(day: int, anchor: date, *, strict: bool) -> date | None:
    """First date with this day of the month on/after (or strictly after) anchor: "el 15"."""
    if not 1 <= day <= 31:
        return None
    year, month = anchor.year, anchor.month
    for _ in range(14):
        candidate = make_date(year, month, day)
        if candidate is not None and _after(candidate, anchor, strict):
            return candidate
        month += 1
        if month == 13:
            year, month = year + 1, 1
            if year > date.max.year:
                return None
    return None


def next_day_month(day: int, month: int, anchor: date, *, strict: bool) -> date | None:
    """First date with this day and month on/after (or strictly after) anchor: "15/3"."""
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    for year in range(anchor.year, min(anchor.year + YEARS_TO_SEARCH, date.max.year) + 1):
        candidate = make_date(year, month, day)
        if candidate is not None and _after(candidate, anchor, strict):
            return candidate
    return None


def next_weekday(weekday: int, anchor: date) -> date | None:
    """First date with this weekday (Monday = 0) strictly after anchor: "el viernes"."""
    ahead = (weekday - anchor.weekday()) % 7 or 7
    return shift(anchor, ahead)


def weekend_friday(today: date) -> date | None:
    """Friday of "el finde": today if Friday, this week's if Mon-Thu, next week's if Sat/Sun."""
    weekday = today.weekday()
    ahead = FRIDAY - weekday if weekday <= FRIDAY else FRIDAY - weekday + 7
    return shift(today, ahead)


def full_year(year: int) -> int:
    """Two-digit years are 20yy."""
    return 2000 + year if year < 100 else year
