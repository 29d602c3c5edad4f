"""The transitions: (state, event) → handler, read top to bottom; the first row that matches answers.

`ANY` matches every state. A text's events come from `events`; a tap's event is its id ("menu:human")
or the id's kind ("unit" for "unit:3"), and its handler gets the rest of the id. A tap no row
matches is "no te entendí"; free text always ends in `talk.talk`, which answers questions and moves
the stay on (`asking.advance`: ask for what is missing, or offer).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import calendar_talk as cal
from alojamientos.conversation.engine import asking, cancelling, handoff, holding, periods, questions, talk
from alojamientos.conversation.engine.context import Ctx, Said
from alojamientos.conversation.messages import Reply
from alojamientos.conversation.nlu import parse
from alojamientos.reservations.codes import find_code

ANY = "*"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

TextHandler = Callable[[AsyncSession, Ctx, Said], Awaitable[list[Reply]]]
ChoiceHandler = Callable[[AsyncSession, Ctx, str], Awaitable[list[Reply]]]

TEXT: tuple[tuple[str, str, TextHandler], ...] = (
    # (state, event, handler)
    (ANY, "asks_for_person", handoff.on_request),
    ("confirming_cancel", "yes_or_no", cancelling.on_yes_or_no),
    (ANY, "cancel", cancelling.on_code),
    ("awaiting_code", "code", cancelling.on_code),
    ("asking_name", "name", holding.on_name),
    ("choosing_payment", "payment_method", holding.on_payment_method),
    (ANY, "email_after_hold", questions.on_email),
    (ANY, "calendar_question", periods.on_question),
    (ANY, "text", talk.talk),
)

CHOICES: tuple[tuple[str, str, ChoiceHandler], ...] = (
    # (state, event, handler)
    (ANY, "menu:human", handoff.on_button),
    (ANY, "menu:price", questions.on_price_button),
    (ANY, "menu", asking.on_menu),  # "menu:availability", or "menu:bot" (keep going with the bot)
    (ANY, "unit", holding.on_unit_row),
    (ANY, "alt", asking.on_alternative_row),
    (ANY, "nights", asking.on_nights_button),
    ("choosing_payment", "pay", holding.on_pay_button),
    (ANY, "cancel_yes", cancelling.on_yes_button),
    (ANY, "cancel_no", cancelling.on_no_button),
)


def read(ctx: Ctx, text: str) -> Said:
    parsed = periods.read_correction(ctx, parse(text, ctx.today), text)
    email = EMAIL.search(text)
    return Said(
        text=text,
        parsed=parsed,
        intents=frozenset(parsed.intents),
        code=find_code(text),
        email=email.group(0) if email else None,
        question=cal.calendar_question(text, parsed),
    )


def events(ctx: Ctx, said: Said) -> set[str]:
    """Every event the text carries; the table's order decides which one is answered."""
    found = {"text"}
    if "human" in said.intents:
        found.add("asks_for_person")
    if cancelling.YES.match(said.text) or cancelling.NO.match(said.text):
        found.add("yes_or_no")
    if "cancel" in said.intents:
        found.add("cancel")
    if said.code:
        found.add("code")
    if holding.looks_like_name(said.parsed, said.text):
        found.add("name")
    if holding.payment_method(said.text):
        found.add("payment_method")
    if said.email and ctx.data.get("hold_code"):
        found.add("email_after_hold")
    if said.question == "upcoming" or (
        said.question == "single" and not (ctx.data.get("guests") or said.parsed.guests)
    ):
        found.add("calendar_question")
    return found


async def on_text(session: AsyncSession, ctx: Ctx, text: str) -> list[Reply]:
    said = read(ctx, text)
    happened = events(ctx, said)
    handler = next(h for state, event, h in TEXT if state in (ANY, ctx.state) and event in happened)
    return await handler(session, ctx, said)


async def on_choice(session: AsyncSession, ctx: Ctx, choice: str) -> list[Reply]:
    """A tap on a button or a list row; ids come from outside, so a bad one is "no te entendí"."""
    kind, _, value = choice.partition(":")
    for state, event, handler in CHOICES:
        if state in (ANY, ctx.state) and event in (choice, kind):
            return await handler(session, ctx, value)
    return handoff.not_understood(ctx)
