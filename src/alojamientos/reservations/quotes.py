"""Quotes and availability: the pure pricing rules applied to stored units, seasons and holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Literal, TypeVar

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    RowMapping,
    Select,
    String,
    bindparam,
    func,
    or_,
    select,
    true,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from alojamientos.kit.clock import local_today
from alojamientos.pricing.models import CatalogVersion, PriceSettings, Season
from alojamientos.pricing.rules import Quote, UnitPricing
from alojamientos.pricing.rules import quote as priced
from alojamientos.pricing.service import (
    PricingFacts,
    argentine_holidays,
    keep_settings,
    pricing,
    season_applies,
)
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


async def facts(session: AsyncSession, accommodation_id: int, within: tuple[date, date]) -> PricingFacts:
    """The settings and the unit's seasons for nights in `within`, in one statement."""
    known, _ = await _read(session, _reading("unit"), {"unit_id": accommodation_id}, within)
    return known


def catalog_version() -> ColumnElement[int]:
    """The version of what quotes read, in SQL (0 when no row: nothing changed since it was emptied)."""
    current = select(CatalogVersion.version).where(CatalogVersion.id == 1).scalar_subquery()
    return func.coalesce(current, 0)


@dataclass(frozen=True)
class _Kept:
    known: PricingFacts  # every season of the unit (dated or yearly): good for any range
    unit: Accommodation


_Row = TypeVar("_Row", PriceSettings, Accommodation, Season)
_kept: dict[int, _Kept] = {}  # every entry read at `_kept_version`
_kept_version = 0
_KEPT_UNITS = 1_000  # a complex has tens of units: far past this, something else is asking


async def booking_facts(
    session: AsyncSession, accommodation_id: int, *, fresh: bool = False
) -> tuple[PricingFacts, Accommodation | None, int, bool]:
    """What a hold reads (the settings, the unit or None, the unit's seasons) and the catalog version
    it is good for, from this process's memory when it holds them (unless `fresh`).

    The rows kept may be stale: the statement that books checks the version (`catalog_version()`) and
    refuses when another process or the panel changed a unit, a price or a season since; the caller
    then reads again with `fresh` (a new version drops every row kept at the old one). Nothing checks
    a refusal (a stay rule, an inactive unit), so the caller reads again before refusing on kept rows:
    the fourth value says they were kept. The kept rows belong to no session: read them, never change
    them.
    """
    kept = None if fresh else _kept.get(accommodation_id)
    if kept is not None:
        return kept.known, kept.unit, _kept_version, True
    rows = (await session.execute(_any_range(), {"unit_id": accommodation_id})).mappings().all()
    if not rows:  # the settings row was deleted: recreated with defaults, then read again
        await pricing.settings(session)
        rows = (await session.execute(_any_range(), {"unit_id": accommodation_id})).mappings().all()
    version: int = rows[0]["catalog_version"]
    seasons = tuple(_built(Season, "n_", row) for row in rows if row["n_id"] is not None)
    known = PricingFacts(_built(PriceSettings, "s_", rows[0]), seasons)
    if rows[0]["u_id"] is None:
        return known, None, version, False
    unit = _built(Accommodation, "u_", rows[0])
    _keep(accommodation_id, _Kept(known, unit), version)
    return known, unit, version, False


def _built(model: type[_Row], prefix: str, row: RowMapping) -> _Row:
    """An instance of `model` from its columns in `row` (labelled `prefix` + name) that no session
    owns: nothing expires it or refreshes it, and no session's own copy, read earlier in a longer
    transaction, is taken for the current row."""
    mapper = sa_inspect(model)
    return model(**{attr.key: row[prefix + attr.columns[0].name] for attr in mapper.column_attrs})


def _keep(accommodation_id: int, kept: _Kept, version: int) -> None:
    global _kept_version
    if version != _kept_version or len(_kept) >= _KEPT_UNITS:
        _kept.clear()
        _kept_version = version
    _kept[accommodation_id] = kept


async def free_facts(
    session: AsyncSession, within: tuple[date, date], guests: int, *, besides: str | None = None
) -> tuple[PricingFacts, list[Accommodation]]:
    """The settings, the active units with room for `guests` and no occupying stay in `within`
    (`besides`: a stay being moved, whose nights do not count), by capacity then id, and the seasons
    that may price them: everything availability reads, in one statement."""
    if besides is None:
        return await _read(session, _reading("free"), {"guests": guests}, within)
    return await _read(
        session, _reading("free_besides"), {"guests": guests, "besides": besides.upper()}, within
    )


async def _read(
    session: AsyncSession,
    query: Select[PriceSettings, Accommodation, Season],
    params: dict[str, Any],
    within: tuple[date, date],
) -> tuple[PricingFacts, list[Accommodation]]:
    start, end = within
    params = {**params, "stay_start": start, "stay_end": max(start, end)}  # an inverted range is refused
    rows = (await session.execute(query, params)).all()  # by the stay limits, after this read
    if not rows:  # the settings row was deleted: recreated with defaults, then read again
        await pricing.settings(session)
        rows = (await session.execute(query, params)).all()
    policy = keep_settings(session, rows[0][0])
    found = list(dict.fromkeys(row[1] for row in rows if row[1] is not None))
    seasons = tuple(dict.fromkeys(row[2] for row in rows if row[2] is not None))
    return PricingFacts(policy, seasons), found


@cache
def _reading(units: Literal["unit", "free", "free_besides"]) -> Select[PriceSettings, Accommodation, Season]:
    """Settings, units and seasons in one statement, built once per shape; bound at execution:
    `stay_start`, `stay_end`, and `unit_id` ("unit") or `guests` (and `besides`) for free units.

    One row per (unit, season that may price it): the settings row joined to each unit, and each unit
    to its seasons. Few units and seasons, so the repetition costs less than a round trip.
    """
    start, end = bindparam("stay_start", type_=Date), bindparam("stay_end", type_=Date)
    if units == "unit":
        listed = select(Accommodation).where(Accommodation.id == bindparam("unit_id")).subquery()
    else:
        besides = bindparam("besides", type_=String) if units == "free_besides" else None
        free = repository.free_units(start, end, bindparam("guests", type_=Integer), besides=besides)
        listed = free.order_by(None).subquery()
    unit = aliased(Accommodation, listed)
    return (
        select(PriceSettings, unit, Season)
        .select_from(PriceSettings)
        .outerjoin(unit, true())
        .outerjoin(Season, season_applies(unit.id, (start, end)))
        .where(PriceSettings.id == 1)
        .order_by(unit.capacity, unit.id, Season.id)
    )


@cache
def _any_range() -> Select[*tuple[Any, ...]]:
    """The settings, the unit (`unit_id`) and its every season (the complex's and its own, any range),
    with the catalog version, as plain columns (`s_`, `u_`, `n_` + name): what `booking_facts` keeps.
    Columns, not ORM entities, so the session's identity map never answers with rows it read before."""
    settings, units, seasons = PriceSettings.__table__, Accommodation.__table__, Season.__table__
    return (
        select(
            *(c.label(f"s_{c.name}") for c in settings.c),
            *(c.label(f"u_{c.name}") for c in units.c),
            *(c.label(f"n_{c.name}") for c in seasons.c),
            catalog_version().label("catalog_version"),
        )
        .select_from(
            settings.outerjoin(units, units.c.id == bindparam("unit_id", type_=Integer)).outerjoin(
                seasons, or_(seasons.c.accommodation_id.is_(None), seasons.c.accommodation_id == units.c.id)
            )
        )
        .where(settings.c.id == 1)
        .order_by(seasons.c.id)
    )


def price(known: PricingFacts, unit: Accommodation, check_in: date, check_out: date, guests: int) -> Quote:
    """The list price of a stay in `unit`; TooManyGuests (422) past its capacity."""
    if guests > unit.capacity:
        raise TooManyGuests(
            f"{unit.name} takes at most {unit.capacity} guests",
            capacity=unit.capacity,
            guests=guests,
        )
    return priced(
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        unit=UnitPricing(base_price=unit.base_price, base_occupancy=unit.base_occupancy),
        rules=known.rules_for(unit.id),
        holidays=argentine_holidays(),
    )


async def quote(
    session: AsyncSession,
    unit: Accommodation,
    check_in: date,
    check_out: date,
    guests: int,
) -> Quote:
    return price(await facts(session, unit.id, (check_in, check_out)), unit, check_in, check_out, guests)


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
    known = await facts(session, unit.id, (check_in, check_out))
    return bookable(known, unit, check_in, check_out, guests, override_reason=override_reason)


def bookable(
    known: PricingFacts,
    unit: Accommodation,
    check_in: date,
    check_out: date,
    guests: int,
    *,
    override_reason: str | None = None,
) -> tuple[Quote, dict[str, Any] | None]:
    """`bookable_quote` with the settings and seasons already read."""
    within_limits(known, check_in, check_out)
    result = price(known, unit, check_in, check_out, guests)
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
    One statement reads the settings, the free units and their seasons.
    """
    known, units = await free_facts(session, (check_in, check_out), guests, besides=besides)
    within_limits(known, check_in, check_out)
    offers = []
    for unit in units:
        unit_quote = price(known, unit, check_in, check_out, guests)
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
    """`within_limits` with the settings read from the session."""
    within_limits(PricingFacts(await pricing.settings(session), ()), check_in, check_out)


def within_limits(known: PricingFacts, check_in: date, check_out: date) -> None:
    """Raises unless the stay is within the operator's limits (`pricing.rules.StayLimits`): not past,
    not empty, at most `max_nights`, ending within the booking horizon. Cheap: nothing is priced yet."""
    today = local_today(known.timezone)
    limits = known.stay_limits
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
