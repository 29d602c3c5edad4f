"""Yearly seasons and the long-weekend minimum in the pure quote: known dates across New Year and the
29th of February, then properties checked against a second, independent statement of each rule."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alojamientos.kit import calendar_ar
from alojamientos.pricing.rules import (
    WHOLE_RUN,
    LongWeekendMinimum,
    PricingRules,
    SeasonRule,
    UnitPricing,
    YearlyDates,
    quote,
)
from alojamientos.pricing.service import argentine_holidays

UNIT = UnitPricing(base_price=Decimal("50000"), base_occupancy=2)
SUMMER_PRICE = Decimal("90000")
SUMMER = SeasonRule("Verano", price=SUMMER_PRICE, yearly=YearlyDates(first=(12, 15), last=(2, 29)))
"""15 December to the end of February, every year: the operator's example."""


def q(check_in: date, check_out: date, rules: PricingRules):
    return quote(
        check_in=check_in,
        check_out=check_out,
        guests=2,
        unit=UNIT,
        rules=rules,
        holidays=frozenset(),  # no weekend surcharge: prices show only the season
    )


def prices(check_in: date, check_out: date, *seasons: SeasonRule) -> list[Decimal]:
    return [n.amount for n in q(check_in, check_out, PricingRules(seasons=seasons)).nights]


# Yearly seasons: known dates.


def test_a_summer_season_crosses_new_year() -> None:
    nights = prices(date(2026, 12, 13), date(2027, 1, 3), SUMMER)
    assert nights[:2] == [Decimal("50000.00")] * 2  # 13 and 14 December
    assert nights[2:] == [Decimal("90000.00")] * 19  # 15 December to 2 January


@pytest.mark.parametrize(
    ("year", "last_night"),
    [
        (2027, date(2027, 2, 28)),
        (2028, date(2028, 2, 29)),
        (2100, date(2100, 2, 28)),
        (2000, date(2000, 2, 29)),
    ],
)
def test_ending_on_29_february_means_the_end_of_february(year: int, last_night: date) -> None:
    nights = q(date(year, 2, 26), date(year, 3, 3), PricingRules(seasons=(SUMMER,))).nights
    assert [n.season for n in nights if n.date <= last_night] == ["Verano"] * (last_night.day - 25)
    assert [n.season for n in nights if n.date > last_night] == [None] * (len(nights) - last_night.day + 25)


def test_a_season_of_29_february_alone_is_the_28th_in_common_years() -> None:
    leap_day = SeasonRule("Bisiesto", price=Decimal("1"), yearly=YearlyDates(first=(2, 29), last=(2, 29)))
    assert [
        n.date
        for n in q(date(2027, 2, 27), date(2027, 3, 2), PricingRules(seasons=(leap_day,))).nights
        if n.season
    ] == [date(2027, 2, 28)]
    assert [
        n.date
        for n in q(date(2028, 2, 27), date(2028, 3, 2), PricingRules(seasons=(leap_day,))).nights
        if n.season
    ] == [date(2028, 2, 29)]


def test_a_yearly_season_sets_the_minimum_for_arrivals_inside_it_every_year() -> None:
    summer = SeasonRule("Verano", multiplier=Decimal("1.5"), min_nights=5, yearly=SUMMER.yearly)
    rules = PricingRules(seasons=(summer,))
    assert q(date(2031, 1, 10), date(2031, 1, 12), rules).min_nights == 5
    assert q(date(2031, 1, 10), date(2031, 1, 12), rules).minimum.name == "Verano"  # type: ignore[union-attr]
    assert q(date(2031, 3, 1), date(2031, 3, 3), rules).min_nights == 1


# Yearly seasons: properties.


def _bound(year: int, month: int, day: int) -> tuple[int, int]:
    return month, min(day, calendar.monthrange(year, month)[1])


def covered_by_reference(night: date, first: tuple[int, int], last: tuple[int, int]) -> bool:
    """The rule said another way: compare (month, day) with this year's bounds, wrapping at New Year."""
    low, high = _bound(night.year, *first), _bound(night.year, *last)
    here = (night.month, night.day)
    return low <= here <= high if first <= last else (here >= low or here <= high)


day_months = st.dates(date(2028, 1, 1), date(2028, 12, 31)).map(lambda d: (d.month, d.day))  # 2028: leap


@settings(max_examples=300, deadline=None)
@given(
    first=day_months,
    last=day_months,
    check_in=st.dates(date(1999, 1, 1), date(2101, 12, 31)),
    nights=st.integers(1, 40),
)
def test_a_yearly_season_prices_the_nights_it_covers_in_any_year(
    first: tuple[int, int], last: tuple[int, int], check_in: date, nights: int
) -> None:
    season = SeasonRule("Anual", price=SUMMER_PRICE, yearly=YearlyDates(first=first, last=last))
    result = q(check_in, check_in + timedelta(days=nights), PricingRules(seasons=(season,)))
    for night in result.nights:
        expected = SUMMER_PRICE if covered_by_reference(night.date, first, last) else UNIT.base_price
        assert night.amount == expected, (night.date, first, last)
    assert result.total == sum((n.amount for n in result.nights), Decimal(0))


@settings(max_examples=100, deadline=None)
@given(first=day_months, last=day_months, year=st.integers(1999, 2100))
def test_every_occurrence_is_one_unbroken_run_of_nights(
    first: tuple[int, int], last: tuple[int, int], year: int
) -> None:
    yearly = YearlyDates(first=first, last=last)
    start, end = yearly.occurrence(year)
    assert start <= end
    assert (end - start).days < 366
    assert all(yearly.covers(start + timedelta(days=i)) for i in range((end - start).days + 1))


# The long-weekend minimum: known dates (2027 carnaval runs Saturday 6 to Tuesday 9 February; Año
# Nuevo 2027 Friday 1 to Sunday 3 January; carnaval 2028 Saturday 26 to Tuesday 29 February).


def minimum(check_in: date, check_out: date, wanted: LongWeekendMinimum, default: int = 1):
    rules = PricingRules(default_min_nights=default, long_weekend_min_nights=wanted)
    return q(check_in, check_out, rules)


@pytest.mark.parametrize(
    ("check_in", "check_out", "wanted", "expected", "rule"),
    [
        (date(2027, 2, 6), date(2027, 2, 8), 3, 3, "long_weekend"),  # two nights inside
        (date(2027, 2, 5), date(2027, 2, 6), 3, 3, "long_weekend"),  # the evening before counts
        (date(2027, 2, 8), date(2027, 2, 9), WHOLE_RUN, 4, "long_weekend"),  # the last night
        (date(2027, 2, 9), date(2027, 2, 11), 3, 1, "default"),  # the run's last day: no night on it
        (date(2027, 2, 3), date(2027, 2, 5), 3, 1, "default"),  # leaves the evening before
        (date(2027, 2, 1), date(2027, 2, 12), 3, 3, "long_weekend"),  # longer than needed: met
        (date(2026, 12, 31), date(2027, 1, 1), 3, 3, "long_weekend"),  # New Year's Eve
        (date(2026, 12, 31), date(2027, 1, 2), WHOLE_RUN, 3, "long_weekend"),  # Fri 1 to Sun 3
        (date(2028, 2, 28), date(2028, 3, 1), WHOLE_RUN, 4, "long_weekend"),  # through 29 February
        (date(2028, 2, 29), date(2028, 3, 2), WHOLE_RUN, 1, "default"),  # 29 Feb is the last day
        (date(2027, 2, 6), date(2027, 2, 8), None, 1, "default"),  # no rule set
    ],
)
def test_a_stay_with_a_night_on_a_long_weekend_needs_its_minimum(
    check_in: date, check_out: date, wanted: LongWeekendMinimum, expected: int, rule: str
) -> None:
    result = minimum(check_in, check_out, wanted)
    assert (result.min_nights, result.minimum.kind) == (expected, rule)  # type: ignore[union-attr]
    assert result.meets_min_nights == ((check_out - check_in).days >= expected)


def test_the_long_weekend_rule_names_its_run() -> None:
    rule = minimum(date(2027, 2, 7), date(2027, 2, 8), WHOLE_RUN).minimum
    assert rule is not None
    assert (rule.first, rule.last, rule.nights) == (date(2027, 2, 6), date(2027, 2, 9), 4)


def test_a_stricter_default_or_season_wins_over_the_long_weekend() -> None:
    assert minimum(date(2027, 2, 6), date(2027, 2, 8), 3, default=5).minimum.kind == "default"  # type: ignore[union-attr]
    high = SeasonRule(
        "Carnaval", start=date(2027, 2, 1), end=date(2027, 2, 15), multiplier=Decimal(1), min_nights=6
    )
    rules = PricingRules(seasons=(high,), long_weekend_min_nights=WHOLE_RUN)
    result = q(date(2027, 2, 6), date(2027, 2, 8), rules)
    assert (result.min_nights, result.minimum.name) == (6, "Carnaval")  # type: ignore[union-attr]


# The long-weekend minimum: properties, against the calendar's own list of long weekends.


def long_weekend_windows(check_in: date, check_out: date) -> list[calendar_ar.Run]:
    """Long weekends whose stay window (evening before the run to its last day) meets the stay."""
    runs = calendar_ar.long_weekends(check_in - timedelta(days=20), check_out + timedelta(days=2))
    return [r for r in runs if r.first - timedelta(days=1) < check_out and check_in < r.last]


@settings(max_examples=200, deadline=None)
@given(
    check_in=st.dates(date(2024, 1, 1), date(2035, 12, 20)),
    nights=st.integers(1, 10),
    wanted=st.one_of(st.none(), st.integers(1, 7), st.just(WHOLE_RUN)),
    default=st.integers(1, 4),
)
def test_the_minimum_is_the_strictest_rule_the_stay_touches(
    check_in: date, nights: int, wanted: LongWeekendMinimum, default: int
) -> None:
    check_out = check_in + timedelta(days=nights)
    runs = long_weekend_windows(check_in, check_out) if wanted is not None else []
    needed = [r.days if wanted == WHOLE_RUN else int(wanted) for r in runs]  # type: ignore[arg-type]
    result = minimum(check_in, check_out, wanted, default=default)
    assert result.min_nights == max([default, *needed])
    assert result.meets_min_nights == (nights >= result.min_nights)
    if needed and max(needed) >= default:
        assert result.minimum.kind == "long_weekend"  # type: ignore[union-attr]


@settings(max_examples=50, deadline=None)
@given(check_in=st.dates(date(2024, 1, 1), date(2035, 12, 20)), nights=st.integers(1, 10))
def test_the_long_weekend_rule_changes_no_price(check_in: date, nights: int) -> None:
    check_out = check_in + timedelta(days=nights)
    holidays = argentine_holidays()
    plain = quote(
        check_in=check_in, check_out=check_out, guests=3, unit=UNIT, rules=PricingRules(), holidays=holidays
    )
    ruled = quote(
        check_in=check_in,
        check_out=check_out,
        guests=3,
        unit=UNIT,
        rules=PricingRules(long_weekend_min_nights=WHOLE_RUN),
        holidays=holidays,
    )
    assert (plain.nights, plain.total, plain.deposit) == (ruled.nights, ruled.total, ruled.deposit)
