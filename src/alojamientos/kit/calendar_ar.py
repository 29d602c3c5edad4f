"""The Argentine rest-day calendar: runs of rest days, long weekends and the periods guests name.

Rules from `nlu_conventions.md` section 6 (v2):

- a rest day is a Saturday, a Sunday or a national holiday of the `holidays` package (bridge days
  included, movable holidays where the package observes them); no date is typed into this module;
- a run is a maximal sequence of consecutive rest days, a long weekend a run of 3 or more days;
- a named period (carnaval, Semana Santa, Navidad, Año Nuevo, "el feriado del 17 de junio") is the
  run containing its anchor holiday; the stay is `[day before the run, last day of the run)`, starting
  at `today` instead when `today` is already inside (the guests arrive the evening before);
- the next week is the Monday-Sunday week after the one containing `today`.

Every function is pure (a function of its arguments and the package's tables) and returns None
instead of raising for dates the calendar cannot reach, so callers such as the message parser never
raise whatever `today` they get.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

import holidays as holidays_lib
from holidays.countries.argentina import Argentina

LONG_WEEKEND_DAYS = 3
SATURDAY = 5
YEARS_AHEAD = 10
"""How far a period is looked for: long weekends of some months are missing for years at a time."""
MAX_RUN_DAYS = 16
"""Longer than any run of rest days the law can make; bounds the walk through the calendar."""
FIRST_YEAR, LAST_YEAR = Argentina.start_year, Argentina.end_year
"""The years the package knows Argentina's holidays for; outside them no period can be placed."""
_LANGUAGE = "en_US"
"""Names are looked up in the package's English spelling, which does not change with the locale."""

Anchor = Literal["carnaval", "semana_santa", "navidad", "ano_nuevo"]
ANCHOR_NAMES: dict[Anchor, str] = {"carnaval": "Carnival Monday", "semana_santa": "Good Friday"}
"""Holidays found by their name in the package (movable feasts: Easter decides them)."""
ANCHOR_DAYS: dict[Anchor, tuple[int, int]] = {"navidad": (12, 25), "ano_nuevo": (1, 1)}
"""Holidays fixed by law to a day and month (month, day)."""


@dataclass(frozen=True, slots=True)
class Run:
    """A maximal sequence of consecutive rest days, `first` to `last` inclusive."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def is_long_weekend(self) -> bool:
        return self.days >= LONG_WEEKEND_DAYS


@dataclass(frozen=True, slots=True)
class Window:
    """The stay a period gives: check-in (the evening before the run, or today) and check-out."""

    run: Run
    check_in: date
    check_out: date

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days


def _shift(day: date, days: int) -> date | None:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


@lru_cache(maxsize=64)
def _holidays(year: int, observed: bool) -> dict[date, tuple[str, ...]]:
    """National holidays of one year: date -> names (one date may carry two holidays)."""
    table = holidays_lib.country_holidays("AR", years=year, observed=observed, language=_LANGUAGE)
    return {day: tuple(table.get_list(day)) for day in table}


def is_holiday(day: date) -> bool:
    """Whether the day is an Argentine national holiday, where it is observed that year."""
    return day in _holidays(day.year, True)


def is_rest_day(day: date) -> bool:
    """A Saturday, a Sunday or a national holiday."""
    return day.weekday() >= SATURDAY or is_holiday(day)


def run_of(day: date) -> Run | None:
    """The run of rest days containing `day`, or None if it is a working day."""
    if not is_rest_day(day):
        return None
    first = last = day
    for _ in range(MAX_RUN_DAYS):
        before = _shift(first, -1)
        if before is None or not is_rest_day(before):
            break
        first = before
    for _ in range(MAX_RUN_DAYS):
        after = _shift(last, 1)
        if after is None or not is_rest_day(after):
            break
        last = after
    return Run(first, last)


def _run_starting(day: date) -> Run | None:
    """The run that starts on `day`, if one does."""
    before = _shift(day, -1)
    if before is None or (is_rest_day(before) and is_rest_day(day)):
        return None
    return run_of(day)


def window(run: Run, today: date) -> Window | None:
    """The stay for a run: from the evening before it (or `today` if later) to its last day."""
    evening_before = _shift(run.first, -1)
    if evening_before is None:
        return None
    return Window(run, max(evening_before, today), run.last)


def _first_ending_on_or_after(anchors: list[date | None], today: date) -> Window | None:
    """The window of the first anchor's run that has not ended before `today`."""
    for anchor in anchors:
        run = run_of(anchor) if anchor is not None else None
        if run is not None and run.last >= today:
            return window(run, today)
    return None


def _years(today: date) -> range:
    """Years to look for a period in: last year's may still be running, then the next ones."""
    return range(max(today.year - 1, FIRST_YEAR), min(today.year + YEARS_AHEAD, LAST_YEAR) + 1)


def _named_anchor(anchor: Anchor, year: int) -> date | None:
    if anchor in ANCHOR_DAYS:
        month, day = ANCHOR_DAYS[anchor]
        return date(year, month, day)
    wanted = ANCHOR_NAMES[anchor]
    return next((day for day, names in _holidays(year, True).items() if wanted in names), None)


def named_period(anchor: Anchor, today: date) -> Window | None:
    """Carnaval, Semana Santa/Pascua, Navidad/Nochebuena, Año Nuevo: the next run around the anchor.

    The occurrence is the first whose run has not ended before `today`.
    """
    return _first_ending_on_or_after([_named_anchor(anchor, year) for year in _years(today)], today)


def observed_holiday(day: int, month: int, year: int) -> date | None:
    """Where the national holiday of `day`/`month` is observed in `year` (None: no holiday that date).

    Movable holidays are where the package puts them: the holiday of 17 June 2026 is on Monday 15 June.
    """
    try:
        written = date(year, month, day)
    except ValueError:
        return None
    if written in _holidays(year, True):
        return written
    names = _holidays(year, False).get(written)
    if not names:
        return None
    moved = [d for d, those in _holidays(year, True).items() if set(names) & set(those)]
    return min(moved, key=lambda d: abs((d - written).days), default=None)


def holiday_period(day: int, month: int, today: date) -> Window | None:
    """ "El feriado del 17 de junio": the run of that holiday, next occurrence not ended before `today`."""
    return _first_ending_on_or_after([observed_holiday(day, month, year) for year in _years(today)], today)


def _first_long_weekend_starting_in(month: int, year: int) -> Run | None:
    day = date(year, month, 1)
    while day.month == month:
        run = _run_starting(day)
        if run is not None and run.is_long_weekend:
            return run
        day += timedelta(days=1)
    return None


def long_weekend_of_month(month: int, today: date) -> Window | None:
    """ "El finde largo de abril": the first long weekend starting in that month, next such on/after `today`.

    A run starting in the previous month does not count (2027: Easter starts 24 March, so the April
    long weekend is 2-4 April).
    """
    if not 1 <= month <= 12:
        return None
    for year in _years(today):
        run = _first_long_weekend_starting_in(month, year)
        if run is not None and run.first >= today:
            return window(run, today)
    return None


def next_long_weekend(today: date) -> Window | None:
    """ "El próximo finde largo": the first long weekend starting strictly after `today`."""
    if not FIRST_YEAR <= today.year <= LAST_YEAR:
        return None
    day = _shift(today, 1)
    for _ in range(366 * 2):
        if day is None:
            return None
        run = _run_starting(day)
        if run is not None and run.is_long_weekend:
            return window(run, today)
        day = _shift(run.last if run is not None else day, 1)
    return None


def long_weekends(start: date, end: date) -> list[Run]:
    """Long weekends starting in `[start, end)`, in order."""
    runs: list[Run] = []
    day: date | None = start
    while day is not None and day < end:
        run = _run_starting(day)
        if run is not None and run.is_long_weekend:
            runs.append(run)
        day = _shift(run.last if run is not None else day, 1)
    return runs


def next_week_monday(today: date) -> date | None:
    """Monday of the week after the one containing `today` (the next day when `today` is a Sunday)."""
    return _shift(today, 7 - today.weekday())


def weekday_of_next_week(weekday: int, today: date) -> date | None:
    """ "El jueves de la semana que viene": that weekday (Monday = 0) inside the next week."""
    monday = next_week_monday(today)
    return _shift(monday, weekday) if monday is not None else None
