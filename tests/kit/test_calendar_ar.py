"""The Argentine rest-day calendar (nlu_conventions.md section 6): runs, anchors, occurrences, next week.

Expected dates were read off the `holidays` package 0.109 tables (the version the conventions name);
the properties at the end check the definitions themselves on any day the package covers.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alojamientos.kit import calendar_ar
from alojamientos.kit.calendar_ar import Run


def d(iso: str) -> date:
    return date.fromisoformat(iso)


def run(first: str, last: str) -> Run:
    return Run(d(first), d(last))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-11-30", None),  # a Monday that is no holiday
        ("2026-02-15", run("2026-02-14", "2026-02-17")),  # carnival: Sat-Tue
        ("2026-03-23", run("2026-03-21", "2026-03-24")),  # bridge day Monday 23 March
        ("2026-07-10", run("2026-07-09", "2026-07-12")),  # bridge day Friday 10 July
        ("2026-12-07", run("2026-12-05", "2026-12-08")),  # bridge day Monday 7 December
        ("2026-04-02", run("2026-04-02", "2026-04-05")),  # Maundy Thursday and Malvinas on one day
        ("2026-06-15", run("2026-06-13", "2026-06-15")),  # 17 June moved to Monday 15
        ("2026-06-20", run("2026-06-20", "2026-06-21")),  # a holiday on a Saturday: no long weekend
        ("2027-05-25", run("2027-05-25", "2027-05-25")),  # a Tuesday holiday alone
        ("2027-01-02", run("2027-01-01", "2027-01-03")),  # New Year: Fri-Sun
        ("2028-12-31", run("2028-12-30", "2029-01-01")),  # across the year: Sat 30 Dec - Mon 1 Jan
        ("2027-03-26", run("2027-03-24", "2027-03-28")),  # 24 March + Easter: Wed-Sun, 5 days
        ("2028-02-29", run("2028-02-26", "2028-02-29")),  # carnival ending on a 29 February
    ],
)
def test_run_of(day: str, expected: Run | None) -> None:
    assert calendar_ar.run_of(d(day)) == expected


def test_long_weekends_of_2026_from_the_package() -> None:
    assert calendar_ar.long_weekends(d("2026-01-01"), d("2027-01-01")) == [
        run("2026-02-14", "2026-02-17"),
        run("2026-03-21", "2026-03-24"),
        run("2026-04-02", "2026-04-05"),
        run("2026-05-01", "2026-05-03"),
        run("2026-05-23", "2026-05-25"),
        run("2026-06-13", "2026-06-15"),
        run("2026-07-09", "2026-07-12"),
        run("2026-08-15", "2026-08-17"),
        run("2026-10-10", "2026-10-12"),
        run("2026-11-07", "2026-11-09"),
        run("2026-11-21", "2026-11-23"),
        run("2026-12-05", "2026-12-08"),
        run("2026-12-25", "2026-12-27"),
    ]


def test_long_weekends_across_the_year() -> None:
    assert calendar_ar.long_weekends(d("2028-12-20"), d("2029-01-05")) == [
        run("2028-12-23", "2028-12-25"),
        run("2028-12-30", "2029-01-01"),
    ]


@pytest.mark.parametrize(
    ("anchor", "today", "check_in", "check_out"),
    [
        ("carnaval", "2026-12-28", "2027-02-05", "2027-02-09"),
        ("carnaval", "2026-01-10", "2026-02-13", "2026-02-17"),
        ("carnaval", "2026-02-13", "2026-02-13", "2026-02-17"),  # today is the evening before
        ("carnaval", "2027-02-07", "2027-02-07", "2027-02-09"),  # today inside the run
        ("carnaval", "2026-02-18", "2027-02-05", "2027-02-09"),  # this year's run is over
        ("carnaval", "2027-06-01", "2028-02-25", "2028-02-29"),  # ends on a 29 February
        ("semana_santa", "2026-11-30", "2027-03-23", "2027-03-28"),
        ("semana_santa", "2026-04-03", "2026-04-03", "2026-04-05"),
        ("navidad", "2026-11-30", "2026-12-24", "2026-12-27"),
        ("navidad", "2026-12-28", "2027-12-24", "2027-12-26"),  # a Saturday: Sat-Sun run
        ("navidad", "2028-01-15", "2028-12-22", "2028-12-25"),  # a Monday: Sat-Mon run
        ("ano_nuevo", "2026-12-01", "2026-12-31", "2027-01-03"),
        ("ano_nuevo", "2027-01-02", "2027-01-02", "2027-01-03"),
        ("ano_nuevo", "2027-03-10", "2027-12-31", "2028-01-02"),
        ("ano_nuevo", "2028-02-01", "2028-12-29", "2029-01-01"),  # the run starts in December
    ],
)
def test_named_period_occurrence(
    anchor: calendar_ar.Anchor, today: str, check_in: str, check_out: str
) -> None:
    window = calendar_ar.named_period(anchor, d(today))
    assert window is not None
    assert (window.check_in, window.check_out) == (d(check_in), d(check_out))


def test_named_period_on_the_last_day_of_its_run_leaves_no_night() -> None:
    window = calendar_ar.named_period("carnaval", d("2026-02-17"))
    assert window is not None
    assert (window.check_in, window.check_out, window.nights) == (d("2026-02-17"), d("2026-02-17"), 0)


@pytest.mark.parametrize(
    ("day", "month", "year", "observed"),
    [
        (17, 6, 2026, "2026-06-15"),  # Wednesday -> previous Monday
        (17, 6, 2027, "2027-06-21"),  # Thursday -> next Monday
        (17, 8, 2026, "2026-08-17"),  # already a Monday
        (17, 8, 2027, "2027-08-16"),  # Tuesday -> previous Monday
        (20, 11, 2026, "2026-11-23"),  # Friday -> next Monday
        (12, 10, 2027, "2027-10-11"),
        (9, 7, 2026, "2026-07-09"),  # fixed holiday
        (10, 7, 2026, "2026-07-10"),  # bridge day
        (18, 6, 2026, None),  # no holiday that date
        (31, 2, 2026, None),  # no such date
    ],
)
def test_observed_holiday(day: int, month: int, year: int, observed: str | None) -> None:
    assert calendar_ar.observed_holiday(day, month, year) == (d(observed) if observed else None)


@pytest.mark.parametrize(
    ("day", "month", "today", "check_in", "check_out"),
    [
        (17, 6, "2026-05-20", "2026-06-12", "2026-06-15"),
        (17, 6, "2026-07-01", "2027-06-18", "2027-06-21"),
        (17, 8, "2026-11-30", "2027-08-13", "2027-08-16"),
        (9, 7, "2026-07-10", "2026-07-10", "2026-07-12"),
        (25, 5, "2027-03-01", "2027-05-24", "2027-05-25"),  # one-day run: one night
        (8, 12, "2026-11-10", "2026-12-04", "2026-12-08"),
    ],
)
def test_holiday_period(day: int, month: int, today: str, check_in: str, check_out: str) -> None:
    window = calendar_ar.holiday_period(day, month, d(today))
    assert window is not None
    assert (window.check_in, window.check_out) == (d(check_in), d(check_out))


def test_holiday_period_of_a_day_without_holiday_is_none() -> None:
    assert calendar_ar.holiday_period(18, 6, d("2026-05-20")) is None


@pytest.mark.parametrize(
    ("month", "today", "first", "last"),
    [
        (4, "2026-10-01", "2027-04-02", "2027-04-04"),  # Easter 2027 starts in March: not April's
        (4, "2026-01-15", "2026-04-02", "2026-04-05"),
        (3, "2026-12-10", "2027-03-24", "2027-03-28"),
        (12, "2026-11-30", "2026-12-05", "2026-12-08"),
        (2, "2026-11-30", "2027-02-06", "2027-02-09"),
        (11, "2026-11-10", "2028-11-18", "2028-11-20"),  # November 2026's first one began; 2027 has none
    ],
)
def test_long_weekend_of_month(month: int, today: str, first: str, last: str) -> None:
    window = calendar_ar.long_weekend_of_month(month, d(today))
    assert window is not None
    assert window.run == run(first, last)
    assert window.check_in == d(first) - timedelta(days=1)


@pytest.mark.parametrize(
    ("today", "check_in", "check_out"),
    [
        ("2027-01-10", "2027-02-05", "2027-02-09"),
        ("2026-11-30", "2026-12-04", "2026-12-08"),
        ("2026-12-04", "2026-12-04", "2026-12-08"),  # the run starts tomorrow
        ("2026-12-06", "2026-12-24", "2026-12-27"),  # inside a run: the next one
        ("2026-05-01", "2026-05-22", "2026-05-25"),
        ("2028-12-26", "2028-12-29", "2029-01-01"),  # across the year
    ],
)
def test_next_long_weekend(today: str, check_in: str, check_out: str) -> None:
    window = calendar_ar.next_long_weekend(d(today))
    assert window is not None
    assert (window.check_in, window.check_out) == (d(check_in), d(check_out))


@pytest.mark.parametrize(
    ("today", "monday"),
    [
        ("2026-11-30", "2026-12-07"),  # Monday
        ("2026-12-02", "2026-12-07"),  # Wednesday
        ("2026-12-05", "2026-12-07"),  # Saturday
        ("2026-12-06", "2026-12-07"),  # Sunday: the next week starts tomorrow
        ("2026-12-28", "2027-01-04"),  # across the year
    ],
)
def test_next_week_monday(today: str, monday: str) -> None:
    assert calendar_ar.next_week_monday(d(today)) == d(monday)


def test_weekday_of_next_week() -> None:
    assert calendar_ar.weekday_of_next_week(3, d("2026-11-30")) == d("2026-12-10")
    assert calendar_ar.weekday_of_next_week(6, d("2026-12-06")) == d("2026-12-13")
    assert calendar_ar.weekday_of_next_week(0, date.max) is None


@pytest.mark.parametrize("today", [date.min, date(1900, 1, 1), date(2101, 1, 1), date.max])
def test_outside_the_package_years_no_period_is_placed(today: date) -> None:
    assert calendar_ar.named_period("carnaval", today) is None
    assert calendar_ar.holiday_period(9, 7, today) is None
    assert calendar_ar.long_weekend_of_month(4, today) is None
    assert calendar_ar.next_long_weekend(today) is None


covered_days = st.dates(min_value=date(1958, 1, 1), max_value=date(2099, 12, 31))


@settings(max_examples=200, deadline=None, database=None)
@given(day=covered_days)
def test_a_run_is_maximal_and_all_rest(day: date) -> None:
    found = calendar_ar.run_of(day)
    if found is None:
        assert not calendar_ar.is_rest_day(day)
        return
    assert found.first <= day <= found.last
    assert all(calendar_ar.is_rest_day(found.first + timedelta(n)) for n in range(found.days))
    assert not calendar_ar.is_rest_day(found.first - timedelta(1))
    assert not calendar_ar.is_rest_day(found.last + timedelta(1))


@settings(max_examples=100, deadline=None, database=None)
@given(today=covered_days)
def test_next_long_weekend_is_the_first_after_today(today: date) -> None:
    window = calendar_ar.next_long_weekend(today)
    assert window is not None
    assert window.run.first > today and window.run.is_long_weekend
    assert window.check_out > window.check_in >= today
    assert calendar_ar.long_weekends(today + timedelta(1), window.run.first) == []


@settings(max_examples=100, deadline=None, database=None)
@given(today=covered_days)
def test_next_week_starts_on_the_monday_after_this_week(today: date) -> None:
    monday = calendar_ar.next_week_monday(today)
    assert monday is not None
    assert monday.weekday() == 0 and 1 <= (monday - today).days <= 7
