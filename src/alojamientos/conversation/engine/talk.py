"""Free text that is no command: questions, stay details in any state, greetings, thanks, a nod,
and "no te entendí" when nothing in it could be read."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import calendar_talk as cal
from alojamientos.conversation import replies as r
from alojamientos.conversation.engine import holding, periods, questions
from alojamientos.conversation.engine.asking import advance, ask, merge, stay_known
from alojamientos.conversation.engine.context import Ctx, Said, welcome
from alojamientos.conversation.engine.handoff import not_understood
from alojamientos.conversation.messages import Reply

# Bare acknowledgements ("ok", "dale", "genial", an emoji): answered with a nod, not "no te entendí".
ACK = re.compile(
    r"^[\s!.]*(ok+|okey|oka|dale|s[ií]|bueno|buen[ií]simo|perfecto|genial|listo|joya|b[aá]rbaro|de una|"
    r"entendido|claro|espectacular|excelente|[^\w\s]{1,6})[\s!.]*$",
    re.IGNORECASE,
)


async def talk(session: AsyncSession, ctx: Ctx, said: Said) -> list[Reply]:
    """Answers every question asked, then moves the stay on (`asking.advance`) if the text touched it."""
    parsed, intents, text = said.parsed, said.intents, said.text
    replies: list[Reply] = []
    changed = merge(ctx, parsed)
    periods.note_period(ctx, parsed, changed)
    vague = None if parsed.check_in or parsed.check_out else cal.vague_period(text)
    for intent in questions.QUESTION_INTENTS:
        if intent in intents and not (intent == "price" and stay_known(ctx)):
            replies.append(await questions.answer(session, ctx, intent, text))
    # "¿podés ofrecer 31 noches?": a length alone is a stay question too (answered with the limits).
    wants_stay = changed or parsed.nights or intents & {"availability", "reserve", "modify"}
    if "price" in intents and stay_known(ctx):
        wants_stay = True
    if vague:
        replies += await ask(session, ctx, "dates", cal.vague_question(vague, ctx.today))
    elif wants_stay:
        if ctx.state == "choosing_unit" and not changed and "reserve" in intents:
            replies += await holding.reserve_from_offer(session, ctx)
        else:
            replies += periods.announced(ctx, await advance(session, ctx))
    if replies:
        ctx.data["misses"] = 0
        return replies
    if "thanks" in intents:
        return [Reply(r.say("thanks"))]
    if "greeting" in intents:
        ctx.data["misses"] = 0
        return await welcome(session, ctx)
    if intents == {"other"} and ACK.match(text):
        if ctx.state == "asking_name":
            return [Reply(r.say("ask_name", **await holding.chosen_summary(session, ctx)))]
        return [Reply(r.say("ack"))]
    return not_understood(ctx)
