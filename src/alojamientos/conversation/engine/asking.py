"""State `collecting`: gathering the stay (arrival, departure, party size), one missing piece at a time."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import replies as r
from alojamientos.conversation.engine import offering
from alojamientos.conversation.engine.context import Ctx
from alojamientos.conversation.engine.handoff import hand_off, not_understood, offer_person
from alojamientos.conversation.messages import Reply
from alojamientos.conversation.nlu import Parsed
from alojamientos.pricing.service import pricing

log = logging.getLogger(__name__)


async def on_menu(session: AsyncSession, ctx: Ctx, value: str) -> list[Reply]:
    """ "Ver disponibilidad", or "seguir con el bot" after a person was offered."""
    ctx.data.update(misses=0, asked=None)
    return await advance(session, ctx)


async def on_alternative_row(session: AsyncSession, ctx: Ctx, value: str) -> list[Reply]:
    """A nearby stay tapped in the "nothing free" list: `2027-03-11:2027-03-14`."""
    stay = _parse_stay(value)
    if stay is None:
        return not_understood(ctx)
    ctx.set_date("check_in", stay[0])
    ctx.set_date("check_out", stay[1])
    ctx.data["nights"] = None
    return await advance(session, ctx)


async def on_nights_button(session: AsyncSession, ctx: Ctx, value: str) -> list[Reply]:
    """ "Buscar 3 noches": the unit's minimum stay from the same arrival."""
    check_in = ctx.get_date("check_in")
    if not value.isdigit() or check_in is None:
        return not_understood(ctx)
    ctx.set_date("check_out", check_in + timedelta(days=int(value)))
    return await advance(session, ctx)


def merge(ctx: Ctx, parsed: Parsed) -> bool:
    """Folds new dates and party size into what we know; True when the stay changed."""
    before = (ctx.data.get("check_in"), ctx.data.get("check_out"), ctx.data.get("guests"))
    if parsed.check_in:
        ctx.set_date("check_in", parsed.check_in)
        ctx.set_date("check_out", parsed.check_out)  # a new arrival invalidates the old departure
        ctx.data["nights"] = parsed.nights if not parsed.check_out else None
    elif parsed.check_out:
        ctx.set_date("check_out", parsed.check_out)
    elif parsed.nights:
        ctx.data["nights"] = parsed.nights
        check_in = ctx.get_date("check_in")
        if check_in:
            ctx.set_date("check_out", check_in + timedelta(days=parsed.nights))
    if parsed.guests:
        ctx.data["guests"] = parsed.guests
    after = (ctx.data.get("check_in"), ctx.data.get("check_out"), ctx.data.get("guests"))
    return after != before


def stay_known(ctx: Ctx) -> bool:
    return bool(ctx.data.get("check_in") and ctx.data.get("check_out") and ctx.data.get("guests"))


async def advance(session: AsyncSession, ctx: Ctx) -> list[Reply]:
    """Ask for the first missing piece, or offer what is free for the stay (`offering.offer`)."""
    check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
    guests, nights = ctx.data.get("guests"), ctx.data.get("nights")
    if check_in and not check_out and nights:
        check_out = check_in + timedelta(days=nights)
        ctx.set_date("check_out", check_out)
    if check_out and not check_in and nights:
        check_in = check_out - timedelta(days=nights)
        ctx.set_date("check_in", check_in)
    ctx.state = "collecting"
    if check_in and check_in < ctx.today:
        ctx.data.update(check_in=None, check_out=None)
        return [Reply(r.say("past_dates"))]
    if check_in and check_out and check_out <= check_in:
        ctx.data.update(check_in=None, check_out=None)
        return [Reply(r.say("bad_range"))]
    limits = await pricing.stay_limits(session)
    asked = (check_out - check_in).days if check_in and check_out else nights
    if asked and asked > limits.max_nights:
        ctx.data.update(check_out=None, nights=None)
        return [Reply(r.say("stay_too_long", nights=asked, max_nights=limits.max_nights))]
    last = limits.last_check_out(ctx.today)
    if (check_in and check_in >= last) or (check_out and check_out > last):
        ctx.data.update(check_in=None, check_out=None)
        return [Reply(r.say("beyond_horizon", last=last))]
    if not check_in and not check_out:
        return await ask(session, ctx, "dates", Reply(r.say("ask_dates" if guests else "ask_everything")))
    if not check_in:
        return await ask(session, ctx, "check_in", Reply(r.say("ask_check_in", nights=nights)))
    if not check_out:
        return await ask(session, ctx, "check_out", Reply(r.say("ask_check_out", check_in=check_in)))
    if not guests:
        return await ask(session, ctx, "guests", Reply(r.say("ask_guests")))
    return await offering.offer(session, ctx, check_in, check_out, guests)


async def ask(session: AsyncSession, ctx: Ctx, topic: str, question: Reply) -> list[Reply]:
    """Asks for `topic` (dates, check_in, check_out, guests), never a third time in a row.

    The third time the bot offers a person instead (the "hablar con alguien" buttons); if the
    guest still answers nothing new, it hands off (the operator is alerted, the bot pauses).
    """
    asked = ctx.data.get("asked") or {}
    times = int(asked.get("times") or 0) + 1 if asked.get("topic") == topic else 1
    ctx.data["asked"] = {"topic": topic, "times": times}
    if times < 3:
        return [question]
    log.info("conversation.same_question", extra={"topic": topic, "times": times})
    ctx.announce = None  # the offer of a person is not about the period
    if times > 3:
        return await hand_off(session, ctx, "el bot preguntó lo mismo tres veces sin poder resolverlo")
    return [Reply(r.say("same_question_again"), offer_person())]


def _parse_stay(value: str) -> tuple[date, date] | None:
    """`2027-03-11:2027-03-14` from a list row id; None for anything else (ids come from outside)."""
    arrival, _, departure = value.partition(":")
    try:
        return date.fromisoformat(arrival), date.fromisoformat(departure)
    except ValueError:
        return None
