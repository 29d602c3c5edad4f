"""Pure pricing: a stay, a unit's prices and the complex's rules in, a quote out. No I/O, no clock.

A night is the date it starts on. Its base is the unit's base price, or, when seasons cover it, the
highest price any of them gives (a season sets a price or multiplies the unit's base): taking the
maximum makes the result independent of the order rules are listed in. A season is dated (nights
`[start, end)`) or yearly (first to last night by day and month, every year, crossing New Year when
the last comes before the first; a day past its month's end, such as 29 February in a common year,
is the month's last day). Friday and Saturday nights, and the night before an Argentine national
holiday, are weekend nights and get the weekend multiplier. Guests above the unit's base occupancy
pay the extra-guest fee per night. Each night is rounded to the centavo once; the total is the sum
of the nights, and the deposit is a percentage of the total, rounded once.

The minimum stay is the strictest of the default, the seasons covering the check-in night and, for a
stay with a night on a long weekend (a night whose next day is in a run of 3 or more rest days, so the
evening before the run counts: `kit.calendar_ar`), the long-weekend minimum: a number of nights or the
whole run (as many nights as the run has days, e.g. 4 for carnaval's Saturday to Tuesday).
"""

from __future__ import annotations

import calendar
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from alojamientos.kit import calendar_ar
from alojamientos.kit.money import round_money

FRIDAY, SATURDAY = 4, 5


@dataclass(frozen=True, slots=True)
class UnitPricing:
    base_price: Decimal
    base_occupancy: int


def day_in_year(year: int, month: int, day: int) -> date:
    """`day`/`month` of `year`, a day past the month's end being its last day (29/2 in 2027: 28/2)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class YearlyDates:
    """Nights from `first` to `last` (month, day), both included, every year.

    When `last` comes before `first` in the calendar the season crosses New Year: (12, 15)-(2, 29) is
    15 December to the end of February, 29 February included in leap years.
    """

    first: tuple[int, int]
    last: tuple[int, int]

    @property
    def crosses_new_year(self) -> bool:
        return self.last < self.first

    def occurrence(self, year: int) -> tuple[date, date]:
        """First and last night of the occurrence that starts in `year`."""
        end_year = year + 1 if self.crosses_new_year else year
        return day_in_year(year, *self.first), day_in_year(end_year, *self.last)

    def covers(self, night: date) -> bool:
        for year in (night.year - 1, night.year):  # an occurrence starting last year may run into this one
            try:
                first, last = self.occurrence(year)
            except ValueError:  # year 0 or 10000: outside what `date` represents
                continue
            if first <= night <= last:
                return True
        return False


@dataclass(frozen=True, slots=True)
class SeasonRule:
    """Covers nights in `[start, end)`, or every year's `yearly` nights when that is set.

    Exactly one of `price` and `multiplier` is set.
    """

    name: str
    start: date | None = None
    end: date | None = None
    price: Decimal | None = None
    multiplier: Decimal | None = None
    min_nights: int | None = None
    yearly: YearlyDates | None = None

    def covers(self, night: date) -> bool:
        if self.yearly is not None:
            return self.yearly.covers(night)
        assert self.start is not None and self.end is not None
        return self.start <= night < self.end

    def night_base(self, unit: UnitPricing) -> Decimal:
        if self.price is not None:
            return self.price
        assert self.multiplier is not None
        return unit.base_price * self.multiplier


WHOLE_RUN: Literal["whole_run"] = "whole_run"
LongWeekendMinimum = int | Literal["whole_run"] | None
"""Nights a stay touching a long weekend needs: a number, the whole run, or None (no rule)."""


@dataclass(frozen=True, slots=True)
class StayLimits:
    """The operator's bounds on any stay: at most `max_nights`, ending no later than `horizon_days` after
    today. Checked before anything is priced, so no request makes us price thousands of nights."""

    max_nights: int = 60
    horizon_days: int = 730

    def last_check_out(self, today: date) -> date:
        return today + timedelta(days=self.horizon_days)

    def problem(self, check_in: date, check_out: date, today: date) -> str | None:
        """None for a bookable stay, else why not: `past`, `empty`, `too_long` or `beyond_horizon`."""
        if check_in < today:
            return "past"
        if check_out <= check_in:
            return "empty"
        if (check_out - check_in).days > self.max_nights:
            return "too_long"
        if check_out > self.last_check_out(today):
            return "beyond_horizon"
        return None


@dataclass(frozen=True, slots=True)
class PricingRules:
    weekend_multiplier: Decimal = Decimal("1")
    extra_guest_fee: Decimal = Decimal("0")
    deposit_percent: Decimal = Decimal("30")
    default_min_nights: int = 1
    seasons: Sequence[SeasonRule] = ()
    long_weekend_min_nights: LongWeekendMinimum = None


@dataclass(frozen=True, slots=True)
class MinimumRule:
    """Which rule sets a stay's minimum: the default, a season (`name`) or a long weekend.

    For a long weekend, `first` and `last` are the run's first and last rest day.
    """

    nights: int
    kind: Literal["default", "season", "long_weekend"]
    name: str | None = None
    first: date | None = None
    last: date | None = None


@dataclass(frozen=True, slots=True)
class Night:
    """One night's price and its reasons: `base` (the unit's, or `season`'s), the weekend surcharge
    (`weekend`: a Friday or Saturday, or the eve of the national holiday `holiday`), and the fee
    for `extra_guests`. `amount` = round(base × weekend multiplier + extra_guest_fee)."""

    date: date
    base: Decimal
    season: str | None
    weekend: bool
    extra_guests: int
    extra_guest_fee: Decimal
    amount: Decimal
    holiday: str | None = None  # the holiday the next day is, when that makes this a weekend night
    weekend_surcharge: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Quote:
    check_in: date
    check_out: date
    guests: int
    nights: tuple[Night, ...]
    total: Decimal
    deposit_percent: Decimal
    deposit: Decimal
    min_nights: int
    min_nights_season: str | None = None  # the season whose minimum applies; None: the default
    minimum: MinimumRule | None = None
    """The rule that sets `min_nights`: default, season or long weekend (None only for hand-built quotes)."""

    @property
    def meets_min_nights(self) -> bool:
        return len(self.nights) >= self.min_nights


def stay_nights(check_in: date, check_out: date) -> Iterable[date]:
    night = check_in
    while night < check_out:
        yield night
        night += timedelta(days=1)


def is_weekend_night(night: date, holidays: Container[date]) -> bool:
    return night.weekday() in (FRIDAY, SATURDAY) or (night + timedelta(days=1)) in holidays


def min_nights_for(check_in: date, rules: PricingRules) -> int:
    """The stricter of the default and every season covering the check-in night."""
    return min_nights_rule(check_in, rules)[0]


def min_nights_rule(check_in: date, rules: PricingRules) -> tuple[int, str | None]:
    """The minimum for a stay starting on `check_in`, and the season that sets it (None: the default,
    when no season covering the check-in night asks for more)."""
    strictest: tuple[int, str | None] = (rules.default_min_nights, None)
    for s in sorted(rules.seasons, key=lambda s: s.name):
        if s.min_nights and s.covers(check_in) and s.min_nights > strictest[0]:
            strictest = (s.min_nights, s.name)
    return strictest


def _holiday_name(day: date, holidays: Container[date]) -> str | None:
    if day not in holidays:
        return None
    if isinstance(holidays, Mapping):
        return str(holidays.get(day) or "feriado")
    return "feriado"


def long_weekends_touched(check_in: date, check_out: date) -> list[calendar_ar.Run]:
    """Long weekends with a night in the stay: a night counts when its next day is in the run."""
    runs: list[calendar_ar.Run] = []
    for night in stay_nights(check_in, check_out):
        run = calendar_ar.run_of(night + timedelta(days=1))
        if run is not None and run.is_long_weekend and run not in runs:
            runs.append(run)
    return runs


def minimum_stay(check_in: date, check_out: date, rules: PricingRules) -> MinimumRule:
    """The strictest minimum for the stay and the rule that sets it.

    Seasons as in `min_nights_rule`; the long weekend wins a tie with them, so the guest is told the
    reason that matters.
    """
    nights, season = min_nights_rule(check_in, rules)
    best = MinimumRule(nights, "season", season) if season else MinimumRule(nights, "default")
    wanted = rules.long_weekend_min_nights
    if wanted is not None:
        for run in long_weekends_touched(check_in, check_out):
            nights = run.days if wanted == WHOLE_RUN else int(wanted)
            if nights >= best.nights:
                best = MinimumRule(nights, "long_weekend", first=run.first, last=run.last)
    return best


def quote(
    *,
    check_in: date,
    check_out: date,
    guests: int,
    unit: UnitPricing,
    rules: PricingRules,
    holidays: Container[date],
) -> Quote:
    if check_out <= check_in:
        raise ValueError("check_out must be after check_in")
    if guests < 1:
        raise ValueError("guests must be at least 1")
    extra_guests = max(0, guests - unit.base_occupancy)
    extra_fee = rules.extra_guest_fee * extra_guests
    nights = []
    for night in stay_nights(check_in, check_out):
        covering = [s for s in rules.seasons if s.covers(night)]
        base, season = unit.base_price, None
        for s in covering:
            candidate = s.night_base(unit)
            # Highest price wins; the name breaks exact ties so the result never depends on order.
            if season is None or (candidate, s.name) > (base, season):
                base, season = candidate, s.name
        weekend = is_weekend_night(night, holidays)
        multiplier = rules.weekend_multiplier if weekend else Decimal(1)
        amount = round_money(base * multiplier + extra_fee)
        holiday = _holiday_name(night + timedelta(days=1), holidays) if weekend else None
        nights.append(
            Night(
                date=night,
                base=round_money(base),
                season=season,
                weekend=weekend,
                extra_guests=extra_guests,
                extra_guest_fee=round_money(extra_fee),
                amount=amount,
                holiday=holiday,
                # What is left once base and fee are taken out, so the parts add up to the amount.
                weekend_surcharge=amount - round_money(base) - round_money(extra_fee)
                if weekend
                else Decimal("0.00"),
            )
        )
    total = sum((n.amount for n in nights), Decimal("0.00"))
    minimum = minimum_stay(check_in, check_out, rules)
    return Quote(
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        nights=tuple(nights),
        total=total,
        deposit_percent=rules.deposit_percent,
        deposit=round_money(total * rules.deposit_percent / 100),
        min_nights=minimum.nights,
        min_nights_season=minimum.name if minimum.kind == "season" else None,
        minimum=minimum,
    )
