"""The calendar in the conversation: named periods said in dates, corrections read against them,
and questions about the calendar itself (issue 15). The calendar knowledge is `calendar_talk`."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import calendar_talk as cal
from alojamientos.conversation.engine.asking import advance, merge
from alojamientos.conversation.engine.context import Ctx, Said
from alojamientos.conversation.messages import Reply
from alojamientos.conversation.nlu import Parsed


def read_correction(ctx: Ctx, parsed: Parsed, text: str) -> Parsed:
    """ "llegamos el sábado" after a named period: that Saturday of the period, departure kept."""
    understood = cal.Understood.from_json(ctx.data.get("period"))
    check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
    if understood is None or check_in is None or check_out is None:
        return parsed
    return cal.corrected(parsed, text, understood, check_in, check_out)


def note_period(ctx: Ctx, parsed: Parsed, changed: bool) -> None:
    """Remembers the period the stay came from (to say it, and to read corrections against it)."""
    if changed:
        ctx.data["asked"] = None  # the guest answered something: a repeated question is not stuck
    check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
    if parsed.period is not None and check_in == parsed.check_in and check_in and check_out:
        understood = replace(
            cal.Understood.from_period(parsed.period), check_in=check_in, check_out=check_out
        )
        ctx.data["period"] = understood.as_json()
        ctx.announce = understood
        return
    kept = cal.Understood.from_json(ctx.data.get("period"))
    if changed and kept is not None and not kept.near(check_in, check_out):
        ctx.data["period"] = None  # a stay unrelated to the period: corrections no longer refer to it


def announced(ctx: Ctx, replies: list[Reply]) -> list[Reply]:
    """The first reply about a stay just resolved from a period opens by saying it in dates."""
    if ctx.announce is None or not replies:
        return replies
    first, ctx.announce = cal.announce(replies[0], ctx.announce), None
    return [first, *replies[1:]]


async def on_question(session: AsyncSession, ctx: Ctx, said: Said) -> list[Reply]:
    return await calendar_answer(session, ctx, said.parsed, said.question or "upcoming")


async def calendar_answer(
    session: AsyncSession, ctx: Ctx, parsed: Parsed, question: cal.Question
) -> list[Reply]:
    """ "¿Cuándo es el próximo finde largo?": the next long weekends with their free units;
    "¿cuándo es carnaval?": that period, kept as the stay so "somos 2" goes on to the offer."""
    ctx.data["misses"] = 0
    if question == "single" and parsed.period is not None:
        merge(ctx, parsed)
        note_period(ctx, parsed, True)
        stays = [ctx.announce] if ctx.announce else []
        ctx.announce = None
        ctx.state = "collecting"
    else:
        merge(ctx, replace(parsed, check_in=None, check_out=None, nights=None))
        stays = cal.upcoming(ctx.today)
    if not stays:
        return await advance(session, ctx)
    return [await cal.weekends_reply(session, stays, ctx.data.get("guests"))]
