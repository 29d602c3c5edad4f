"""The pure quote: tables of known stays, then properties over random rules and stays."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alojamientos.pricing.rules import PricingRules, SeasonRule, UnitPricing, quote
from alojamientos.pricing.service import argentine_holidays

UNIT = UnitPricing(base_price=Decimal("50000"), base_occupancy=2)
NO_HOLIDAYS: frozenset[date] = frozenset()


def q(
    check_in: date,
    nights: int,
    guests: int = 2,
    rules: PricingRules | None = None,
    holidays: frozenset[date] | object = NO_HOLIDAYS,
):
    return quote(
        check_in=check_in,
        check_out=check_in + timedelta(days=nights),
        guests=guests,
        unit=UNIT,
        rules=rules or PricingRules(weekend_multiplier=Decimal("1.2")),
        holidays=holidays,  # type: ignore[arg-type]
    )


def test_weekday_nights_cost_the_base_price() -> None:
    result = q(date(2027, 3, 8), 3)  # Monday..Thursday
    assert [n.amount for n in result.nights] == [Decimal("50000.00")] * 3
    assert result.total == Decimal("150000.00")
    assert result.deposit == Decimal("45000.00")


def test_friday_and_saturday_nights_are_weekend() -> None:
    result = q(date(2027, 3, 11), 4)  # Thursday..Monday
    assert [(n.date.strftime("%a"), n.weekend) for n in result.nights] == [
        ("Thu", False),
        ("Fri", True),
        ("Sat", True),
        ("Sun", False),
    ]
    assert result.total == Decimal("50000") * 2 + Decimal("60000") * 2


def test_the_night_before_a_national_holiday_is_a_weekend_night() -> None:
    # 9 July (Independence Day) 2027 is a Friday; 25 May 2027 (Revolution Day) is a Tuesday.
    result = q(date(2027, 5, 24), 2, holidays=argentine_holidays())
    assert [n.weekend for n in result.nights] == [True, False]
    assert date(2027, 7, 9) in argentine_holidays()


def test_extra_guests_pay_the_fee_every_night() -> None:
    rules = PricingRules(weekend_multiplier=Decimal("1"), extra_guest_fee=Decimal("8000"))
    result = q(date(2027, 3, 8), 2, guests=4, rules=rules)
    assert [n.extra_guests for n in result.nights] == [2, 2]
    assert result.total == Decimal("2") * (Decimal("50000") + Decimal("16000"))


def test_seasons_by_price_or_multiplier_and_highest_wins() -> None:
    rules = PricingRules(
        weekend_multiplier=Decimal("1"),
        seasons=(
            SeasonRule("Verano", date(2027, 1, 1), date(2027, 3, 1), multiplier=Decimal("1.5")),
            SeasonRule("Carnaval", date(2027, 2, 6), date(2027, 2, 10), price=Decimal("100000")),
            SeasonRule("Baja", date(2027, 1, 1), date(2027, 12, 31), price=Decimal("1000")),
        ),
    )
    result = q(date(2027, 2, 5), 2, rules=rules)
    assert [(n.season, n.amount) for n in result.nights] == [
        ("Verano", Decimal("75000.00")),
        ("Carnaval", Decimal("100000.00")),
    ]


def test_minimum_nights_follow_the_check_in_season() -> None:
    rules = PricingRules(
        default_min_nights=2,
        seasons=(
            SeasonRule("Alta", date(2027, 1, 1), date(2027, 2, 1), multiplier=Decimal("1"), min_nights=5),
        ),
    )
    assert q(date(2027, 1, 10), 3, rules=rules).min_nights == 5
    assert not q(date(2027, 1, 10), 3, rules=rules).meets_min_nights
    assert q(date(2026, 12, 28), 5, rules=rules).min_nights == 2


def test_rounding_is_once_per_night_to_the_centavo() -> None:
    rules = PricingRules(weekend_multiplier=Decimal("1.333"), deposit_percent=Decimal("33.33"))
    unit = UnitPricing(base_price=Decimal("1000.01"), base_occupancy=2)
    result = quote(
        check_in=date(2027, 3, 12),
        check_out=date(2027, 3, 13),
        guests=1,
        unit=unit,
        rules=rules,
        holidays=NO_HOLIDAYS,
    )
    assert result.nights[0].amount == Decimal("1333.01")  # 1333.013... half-up to centavos
    assert result.deposit == Decimal("444.29")


@pytest.mark.parametrize("nights", [0, -1])
def test_empty_stays_are_refused(nights: int) -> None:
    with pytest.raises(ValueError, match="after check_in"):
        q(date(2027, 3, 8), nights)


money = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)
multipliers = st.decimals(min_value=Decimal("0.1"), max_value=5, places=3)
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def seasons(draw: st.DrawFn) -> SeasonRule:
    start = draw(days)
    by_price = draw(st.booleans())
    return SeasonRule(
        name=draw(st.text(alphabet="abcxyz", min_size=1, max_size=5)),
        start=start,
        end=start + timedelta(days=draw(st.integers(1, 120))),
        price=draw(money) if by_price else None,
        multiplier=None if by_price else draw(multipliers),
        min_nights=draw(st.none() | st.integers(1, 7)),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    capacity = draw(st.integers(1, 10))
    return {
        "check_in": draw(days),
        "nights": draw(st.integers(1, 30)),
        "guests": draw(st.integers(1, capacity)),
        "unit": UnitPricing(base_price=draw(money), base_occupancy=draw(st.integers(1, capacity))),
        "rules": PricingRules(
            weekend_multiplier=draw(multipliers),
            extra_guest_fee=draw(money),
            deposit_percent=draw(st.decimals(min_value=0, max_value=100, places=2)),
            default_min_nights=draw(st.integers(1, 5)),
            seasons=tuple(draw(st.lists(seasons(), max_size=6))),
        ),
    }


def _quote(s: dict[str, object], rules: PricingRules | None = None):
    check_in = s["check_in"]
    assert isinstance(check_in, date)
    return quote(
        check_in=check_in,
        check_out=check_in + timedelta(days=s["nights"]),  # type: ignore[arg-type]
        guests=s["guests"],  # type: ignore[arg-type]
        unit=s["unit"],  # type: ignore[arg-type]
        rules=rules or s["rules"],  # type: ignore[arg-type]
        holidays=argentine_holidays(),
    )


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_total_is_the_sum_of_nights_and_never_negative(s: dict[str, object]) -> None:
    result = _quote(s)
    assert len(result.nights) == s["nights"]
    assert result.total == sum(n.amount for n in result.nights)
    assert all(n.amount >= 0 for n in result.nights)
    assert all(n.amount.as_tuple().exponent == -2 for n in result.nights)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_deposit_follows_the_percentage_setting(s: dict[str, object]) -> None:
    result = _quote(s)
    rules = s["rules"]
    assert isinstance(rules, PricingRules)
    expected = (result.total * rules.deposit_percent / 100).quantize(Decimal("0.01"))
    assert abs(result.deposit - expected) <= Decimal("0.01")
    assert Decimal(0) <= result.deposit <= result.total


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_order_of_season_rules_does_not_change_the_price(s: dict[str, object], rnd: random.Random) -> None:
    rules = s["rules"]
    assert isinstance(rules, PricingRules)
    shuffled = list(rules.seasons)
    rnd.shuffle(shuffled)
    reordered = PricingRules(
        weekend_multiplier=rules.weekend_multiplier,
        extra_guest_fee=rules.extra_guest_fee,
        deposit_percent=rules.deposit_percent,
        default_min_nights=rules.default_min_nights,
        seasons=tuple(shuffled),
    )
    assert _quote(s) == _quote(s, reordered)


def test_each_night_names_its_reasons_and_they_add_up_to_its_amount() -> None:
    rules = PricingRules(
        weekend_multiplier=Decimal("1.2"),
        extra_guest_fee=Decimal("8000"),
        seasons=(SeasonRule("Finde largo", date(2027, 5, 22), date(2027, 5, 23), price=Decimal("70000")),),
    )
    # Thursday 20 May, Friday 21, Saturday 22 (season), Sunday 23, Monday 24 (eve of 25 May).
    result = q(date(2027, 5, 20), 5, guests=3, rules=rules, holidays=argentine_holidays())
    assert [
        (n.base, n.season, n.weekend, n.holiday, n.weekend_surcharge, n.extra_guest_fee, n.amount)
        for n in result.nights
    ] == [
        (Decimal("50000.00"), None, False, None, Decimal("0.00"), Decimal("8000.00"), Decimal("58000.00")),
        (Decimal("50000.00"), None, True, None, Decimal("10000.00"), Decimal("8000.00"), Decimal("68000.00")),
        (Decimal("70000.00"), "Finde largo", True, None, Decimal("14000.00"), Decimal("8000.00"), Decimal("92000.00")),
        (Decimal("50000.00"), None, False, None, Decimal("0.00"), Decimal("8000.00"), Decimal("58000.00")),
        (Decimal("50000.00"), None, True, "Día de la Revolución de Mayo", Decimal("10000.00"),
         Decimal("8000.00"), Decimal("68000.00")),
    ]  # fmt: skip
    for n in result.nights:
        assert n.base + n.weekend_surcharge + n.extra_guest_fee == n.amount


def test_the_minimum_names_the_season_that_sets_it() -> None:
    seasons = (
        SeasonRule("Invierno", date(2027, 7, 1), date(2027, 8, 1), multiplier=Decimal("1"), min_nights=3),
        SeasonRule("Receso", date(2027, 7, 10), date(2027, 7, 20), multiplier=Decimal("1"), min_nights=4),
    )
    rules = PricingRules(default_min_nights=2, seasons=seasons)
    assert (
        q(date(2027, 7, 5), 1, rules=rules).min_nights,
        q(date(2027, 7, 5), 1, rules=rules).min_nights_season,
    ) == (
        3,
        "Invierno",
    )
    assert q(date(2027, 7, 12), 1, rules=rules).min_nights_season == "Receso"  # the stricter one
    june = q(date(2027, 6, 5), 1, rules=rules)
    assert (june.min_nights, june.min_nights_season, june.meets_min_nights) == (2, None, False)
