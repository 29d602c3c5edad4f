"""Pure pricing: a stay, a unit's prices and the complex's rules in, a quote out. No I/O, no clock.

A night is the date it starts on. Its base is the unit's base price, or, when seasons cover it, the
highest price any of them gives (a season sets a price or multiplies the unit's base): taking the
maximum makes the result independent of the order rules are listed in. Friday and Saturday nights,
and the night before an Argentine national holiday, are weekend nights and get the weekend
multiplier. Guests above the unit's base occupancy pay the extra-guest fee per night. Each night is
rounded to the centavo once; the total is the sum of the nights, and the deposit is a percentage of
the total, rounded once.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from alojamientos.kit.money import round_money

FRIDAY, SATURDAY = 4, 5


@dataclass(frozen=True, slots=True)
class UnitPricing:
    base_price: Decimal
    base_occupancy: int


@dataclass(frozen=True, slots=True)
class SeasonRule:
    """Covers nights in `[start, end)`; exactly one of `price` and `multiplier` is set."""

    name: str
    start: date
    end: date
    price: Decimal | None = None
    multiplier: Decimal | None = None
    min_nights: int | None = None

    def covers(self, night: date) -> bool:
        return self.start <= night < self.end

    def night_base(self, unit: UnitPricing) -> Decimal:
        if self.price is not None:
            return self.price
        assert self.multiplier is not None
        return unit.base_price * self.multiplier


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
    min_nights, min_nights_season = min_nights_rule(check_in, rules)
    return Quote(
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        nights=tuple(nights),
        total=total,
        deposit_percent=rules.deposit_percent,
        deposit=round_money(total * rules.deposit_percent / 100),
        min_nights=min_nights,
        min_nights_season=min_nights_season,
    )
