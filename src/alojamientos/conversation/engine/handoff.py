"""Handing the guest to a person, and what the bot says when it does not understand."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import replies as r
from alojamientos.conversation.engine.context import Ctx, Said, menu
from alojamientos.conversation.messages import Button, Reply
from alojamientos.conversation.service import conversations


async def hand_off(session: AsyncSession, ctx: Ctx, reason: str) -> list[Reply]:
    """Pauses the bot for this guest and alerts the operator (`conversations.hand_off`)."""
    await conversations.hand_off(session, ctx.conversation, reason)
    ctx.data["misses"] = 0
    return [Reply(r.say("handoff"))]


async def on_request(session: AsyncSession, ctx: Ctx, said: Said) -> list[Reply]:
    """ "Quiero hablar con una persona", in any state."""
    return await hand_off(session, ctx, said.text)


async def on_button(session: AsyncSession, ctx: Ctx, value: str) -> list[Reply]:
    return await hand_off(session, ctx, "botón «hablar con alguien»")


def offer_person() -> tuple[Button, ...]:
    return (Button("menu:human", r.button("human_yes")), Button("menu:bot", r.button("keep_bot")))


def not_understood(ctx: Ctx) -> list[Reply]:
    """The menu the first time; from the second miss in a row, a person is offered instead."""
    misses = int(ctx.data.get("misses") or 0) + 1
    ctx.data["misses"] = misses
    if misses >= 2:
        return [Reply(r.say("not_understood_again"), offer_person())]
    return [Reply(r.say("not_understood"), menu())]
