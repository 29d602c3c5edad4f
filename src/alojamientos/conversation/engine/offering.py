"""State `choosing_unit` is entered here: the free units for a known stay, or why there are none
(a minimum stay to meet, nearby dates that are free)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import replies as r
from alojamientos.conversation.engine.context import Ctx, fit
from alojamientos.conversation.messages import Button, Reply, Row
from alojamientos.pricing.rules import MinimumRule
from alojamientos.pricing.service import pricing
from alojamientos.reservations import quotes, repository
from alojamientos.reservations.models import Accommodation

MAX_ALTERNATIVES = 5
ALTERNATIVE_SHIFTS = (1, -1, 2, -2, 3, -3, 7, -7, 14)


async def offer(session: AsyncSession, ctx: Ctx, check_in: date, check_out: date, guests: int) -> list[Reply]:
    """A list of the free units with their totals (state `choosing_unit`), else the reason none fits."""
    offers = await quotes.availability(session, check_in, check_out, guests)
    if not offers:  # asked only now: a party no unit takes is told so, whatever the dates
        largest = await session.scalar(
            select(Accommodation.capacity).where(Accommodation.active).order_by(Accommodation.capacity.desc())
        )
        if largest is not None and guests > largest:
            return [Reply(r.say("too_many_guests", max=largest, guests=guests))]
    nights = (check_out - check_in).days
    ctx.data["asked"] = None
    if offers:
        ctx.state = "choosing_unit"
        ctx.data["offers"] = [o.accommodation.id for o in offers]
        items = [{"name": o.accommodation.name, "total": o.quote.total} for o in offers]
        rows = tuple(
            Row(
                f"unit:{o.accommodation.id}",
                fit(o.accommodation.name, 24),
                fit(
                    r.say(
                        "offer_row",
                        "description",
                        total=o.quote.total,
                        nights=nights,
                        capacity=o.accommodation.capacity,
                    ),
                    72,
                ),
            )
            for o in offers[:10]
        )
        period, ctx.announce = (ctx.announce.says() if ctx.announce else None), None
        text = r.say(
            "offer",
            guests=guests,
            check_in=check_in,
            check_out=check_out,
            nights=nights,
            offers=items,
            period=period,
        )
        return [Reply(text, rows=rows, list_button=r.say("offer", "list_button"))]
    minimum = await _blocking_min_nights(session, check_in, check_out, guests)
    if minimum:
        min_nights = minimum.nights
        button = Button(f"nights:{min_nights}", fit(f"Buscar {min_nights} noches", 20))
        text = r.say(
            "min_nights",
            check_in=check_in,
            min_nights=min_nights,
            rule=minimum.kind,
            season=minimum.name,
            first=minimum.first,
            last=minimum.last,
        )
        return [Reply(text, (button,))]
    alternatives = await _alternatives(session, ctx, check_in, check_out, guests)
    rows = tuple(
        Row(
            f"alt:{a_in.isoformat()}:{a_out.isoformat()}",
            fit(r.say("alternative_row", "title", check_in=a_in, check_out=a_out), 24),
            fit(r.say("alternative_row", "description", count=count, total=total), 72),
        )
        for a_in, a_out, count, total in alternatives
    )
    text = r.say("none_free", guests=guests, check_in=check_in, check_out=check_out, alternatives=bool(rows))
    return [Reply(text, rows=rows, list_button=r.say("none_free", "list_button"))]


async def _blocking_min_nights(
    session: AsyncSession, check_in: date, check_out: date, guests: int
) -> MinimumRule | None:
    """When units are free but the stay is shorter than their minimum, that minimum and its rule."""
    for unit in await session.scalars(repository.free_units(check_in, check_out, guests)):
        quote = await quotes.quote(session, unit, check_in, check_out, guests)
        if not quote.meets_min_nights:
            return quote.minimum or MinimumRule(quote.min_nights, "default")
    return None


async def _alternatives(
    session: AsyncSession, ctx: Ctx, check_in: date, check_out: date, guests: int
) -> list[tuple[date, date, int, Any]]:
    nights = check_out - check_in
    limits = await pricing.stay_limits(session)
    found = []
    for shift in ALTERNATIVE_SHIFTS:
        start = check_in + timedelta(days=shift)
        if start < ctx.today or start + nights > limits.last_check_out(ctx.today):
            continue
        offers = await quotes.availability(session, start, start + nights, guests)
        if offers:
            found.append((start, start + nights, len(offers), min(o.quote.total for o in offers)))
        if len(found) == MAX_ALTERNATIVES:
            break
    return sorted(found)
