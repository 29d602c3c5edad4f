"""States `awaiting_code` and `confirming_cancel`: a guest cancels their own reservation by code."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import replies as r
from alojamientos.conversation.engine.context import Ctx, Said, guest_reservation
from alojamientos.conversation.engine.handoff import not_understood
from alojamientos.conversation.messages import Button, Reply
from alojamientos.reservations import repository, transitions
from alojamientos.reservations.errors import InvalidTransition

YES = re.compile(r"^\s*(s[ií]|dale|confirm\w*|de una|ok|okey|listo)\b", re.IGNORECASE)
NO = re.compile(r"^\s*(no|nop|mejor no|dejalo)\b", re.IGNORECASE)


async def on_code(session: AsyncSession, ctx: Ctx, said: Said) -> list[Reply]:
    """ "Quiero cancelar" (with or without a code), or the code asked for."""
    return await start_cancel(session, ctx, said.code)


async def on_yes_or_no(session: AsyncSession, ctx: Ctx, said: Said) -> list[Reply]:
    return await answer_cancel(session, ctx, ctx.data.get("cancel_code"), bool(YES.match(said.text)))


async def on_yes_button(session: AsyncSession, ctx: Ctx, code: str) -> list[Reply]:
    return await answer_cancel(session, ctx, code, True)


async def on_no_button(session: AsyncSession, ctx: Ctx, code: str) -> list[Reply]:
    return await answer_cancel(session, ctx, code, False)


async def start_cancel(session: AsyncSession, ctx: Ctx, code: str | None) -> list[Reply]:
    """Asks for the code if none is known, else asks to confirm (yes/no buttons)."""
    code = code or (ctx.data.get("hold_code") if ctx.state == "held" else None)
    if not code:
        ctx.state = "awaiting_code"
        return [Reply(r.say("cancel_ask_code"))]
    found = await guest_reservation(session, ctx, code)
    if found is None:
        ctx.state = "idle"
        return [Reply(r.say("cancel_not_found", code=code))]
    unit = await repository.accommodation(session, found.accommodation_id)
    ctx.state = "confirming_cancel"
    ctx.data["cancel_code"] = code
    buttons = (
        Button(f"cancel_yes:{code}", r.button("cancel_yes")),
        Button(f"cancel_no:{code}", r.button("cancel_no")),
    )
    return [
        Reply(
            r.say(
                "cancel_confirm",
                code=code,
                unit=unit.name,
                check_in=found.check_in,
                check_out=found.check_out,
            ),
            buttons,
        )
    ]


async def answer_cancel(session: AsyncSession, ctx: Ctx, code: str | None, yes: bool) -> list[Reply]:
    ctx.state = "idle"
    ctx.data["cancel_code"] = None
    if not code:
        return not_understood(ctx)
    if not yes:
        return [Reply(r.say("cancel_kept", code=code))]
    if not await cancel_if_held(session, ctx, code, reason="the guest cancelled on WhatsApp"):
        return [Reply(r.say("cancel_not_found", code=code))]
    if ctx.data.get("hold_code") == code:
        ctx.data["hold_code"] = None
    policy = ctx.policy.cancellation_policy.strip()
    return [Reply(r.say("cancelled", code=code, policy=policy))]


async def cancel_if_held(session: AsyncSession, ctx: Ctx, code: str, *, reason: str) -> bool:
    if await guest_reservation(session, ctx, code) is None:
        return False
    try:
        await transitions.cancel(session, code, actor="guest:whatsapp", reason=reason)
    except InvalidTransition:
        return False
    return True
