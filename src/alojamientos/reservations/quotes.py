"""Quotes and availability: the pure pricing rules applied to stored units, seasons and holidays."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.kit.clock import local_today
from alojamientos.pricing.rules import Quote, UnitPricing
from alojamientos.pricing.rules import quote as priced
from alojamientos.pricing.service import argentine_holidays, pricing
from alojamientos.reservations import repository
from alojamientos.reservations.errors import (
    BeyondHorizon,
    EmptyStay,
    InvalidOverride,
    MinimumStay,
    PastDates,
    StayRule,
    StayTooLong,
    TooManyGuests,
)
from alojamientos.reservations.models import (
    Accommodation,
)
from alojamientos.reservations.types import MAX_REASON, UnitQuote


async def quote(
    session: AsyncSession,
    unit: Accommodation,
    check_in: date,
    check_out: date,
    guests: int,
) -> Quote:
    if guests > unit.capacity:
        raise TooManyGuests(
            f"{unit.name} takes at most {unit.capacity} guests",
            capacity=unit.capacity,
            guests=guests,
        )
    rules = await pricing.rules_for(session, unit.id, within=(check_in, check_out))
    return priced(
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        unit=UnitPricing(base_price=unit.base_price, base_occupancy=unit.base_occupancy),
        rules=rules,
        holidays=argentine_holidays(),
    )


def rule_refusals(stay_quote: Quote) -> list[StayRule]:
    """Each of the complex's stay rules the quoted stay breaks, naming the rule (and only it)."""
    refusals: list[StayRule] = []
    if not stay_quote.meets_min_nights:
        season = stay_quote.min_nights_season
        rule = stay_quote.minimum
        source = f"season {season!r}" if season else "the complex's default"
        which = f"starting {stay_quote.check_in.isoformat()}"
        details: dict[str, Any] = {"rule": rule.kind} if rule else {}
        if rule and rule.kind == "long_weekend" and rule.first and rule.last:
            first, last = rule.first.isoformat(), rule.last.isoformat()
            source, which = "the long-weekend rule", f"with a night on the long weekend {first}..{last}"
            details["long_weekend"] = {"first": first, "last": last}
        refusals.append(
            MinimumStay(
                f"stays {which} need at least {stay_quote.min_nights}"
                f" nights ({source}); this one has {len(stay_quote.nights)}",
                min_nights=stay_quote.min_nights,
                nights=len(stay_quote.nights),
                season=season,
                **details,
            )
        )
    return refusals


async def checked_quote(
    session: AsyncSession,
    unit: Accommodation,
    check_in: date,
    check_out: date,
    guests: int,
) -> Quote:
    """A quote for a stay that could be booked now: within the stay limits, capacity and the stay rules."""
    result, _ = await bookable_quote(session, unit, check_in, check_out, guests)
    return result


async def bookable_quote(
    session: AsyncSession,
    unit: Accommodation,
    check_in: date,
    check_out: date,
    guests: int,
    *,
    override_reason: str | None = None,
) -> tuple[Quote, dict[str, Any] | None]:
    """`checked_quote`, or, with an operator's `override_reason`, past the stay rules it breaks.

    Returns the quote and what to record in the timeline about the rules booked past (None when no
    rule was broken). Callers check that the actor is an operator; the reason is 1..500 characters.
    """
    await check_bookable(session, check_in, check_out)
    result = await quote(session, unit, check_in, check_out, guests)
    refusals = rule_refusals(result)
    if not refusals:
        return result, None
    reason = " ".join((override_reason or "").split())
    if not reason:
        raise refusals[0]
    if len(reason) > MAX_REASON:
        raise InvalidOverride(f"the reason is limited to {MAX_REASON} characters", field="override_reason")
    return result, {
        "reason": reason,
        "rules": [{"code": r.code, "message": r.message, **r.details} for r in refusals],
    }


async def availability(
    session: AsyncSession,
    check_in: date,
    check_out: date,
    guests: int,
    *,
    besides: str | None = None,
    apply_rules: bool = True,
) -> list[UnitQuote]:
    """Active units with room for the party, no occupying stay in the range, and the stay rules met.

    `besides`: a reservation being moved, whose own nights do not count as taken. `apply_rules=False`
    (the operator's panel): free units even when a stay rule refuses the stay; `rule_refusals` says why.
    """
    await check_bookable(session, check_in, check_out)
    query = repository.free_units(check_in, check_out, guests, besides=besides)
    units = (await session.scalars(query)).all()
    offers = []
    for unit in units:
        unit_quote = await quote(session, unit, check_in, check_out, guests)
        if not apply_rules or not rule_refusals(unit_quote):
            offers.append(UnitQuote(unit, unit_quote))
    return offers


async def not_in_past(session: AsyncSession, check_in: date) -> None:
    today = local_today(await pricing.timezone(session))
    if check_in < today:
        raise PastDates(
            f"check_in {check_in.isoformat()} is before today ({today.isoformat()})",
            today=today.isoformat(),
        )


async def check_bookable(session: AsyncSession, check_in: date, check_out: date) -> None:
    """Raises unless the stay is within the operator's limits (`pricing.rules.StayLimits`): not past,
    not empty, at most `max_nights`, ending within the booking horizon. Cheap: nothing is priced yet."""
    today = local_today(await pricing.timezone(session))
    limits = await pricing.stay_limits(session)
    problem = limits.problem(check_in, check_out, today)
    if problem == "past":
        raise PastDates(
            f"check_in {check_in.isoformat()} is before today ({today.isoformat()})",
            today=today.isoformat(),
        )
    if problem == "empty":
        raise EmptyStay("check_out must be after check_in")
    if problem == "too_long":
        raise StayTooLong(
            f"stays are limited to {limits.max_nights} nights",
            max_nights=limits.max_nights,
            nights=(check_out - check_in).days,
        )
    if problem == "beyond_horizon":
        last = limits.last_check_out(today)
        raise BeyondHorizon(
            f"stays can be booked up to {last.isoformat()} ({limits.horizon_days} days ahead)",
            last_check_out=last.isoformat(),
            horizon_days=limits.horizon_days,
        )
