"""Questions answered in any state (price, services, location, check-in, payment), and what a guest
with a hold sends afterwards (an email for the confirmation)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import replies as r
from alojamientos.conversation.engine.context import Ctx, Said, active_hold
from alojamientos.conversation.engine.handoff import not_understood
from alojamientos.conversation.messages import Reply
from alojamientos.conversation.service import conversations
from alojamientos.jobs.queue import enqueue
from alojamientos.reservations.models import Accommodation

QUESTION_INTENTS = ("price", "services", "location", "checkin_info", "payment")
EMAIL_LATER = "reservation.email"  # handled in notifications.tasks
SERVICE_TOPICS = {
    "wifi": ("wifi", "wi-fi", "internet", "clave"),
    "mascotas": ("mascota", "perro", "perra", "gato", "perrito", "pet"),
    "estacionamiento": ("estacionamiento", "estacionar", "cochera", "auto", "garage"),
}


async def on_price_button(session: AsyncSession, ctx: Ctx, value: str) -> list[Reply]:
    return [await answer(session, ctx, "price", "")]


async def on_email(session: AsyncSession, ctx: Ctx, said: Said) -> list[Reply]:
    return await save_email(session, ctx, said.email or "")


async def answer(session: AsyncSession, ctx: Ctx, intent: str, text: str) -> Reply:
    """One of QUESTION_INTENTS, answered from the settings and the operator's answers."""
    policy = ctx.policy
    answers = await conversations.answers(session)
    if intent == "price":
        cheapest = await session.scalar(
            select(Accommodation.base_price).where(Accommodation.active).order_by(Accommodation.base_price)
        )
        return Reply(r.say("price_general", from_price=cheapest or 0))
    if intent == "payment":
        if re.search(r"\b(ya )?(te )?(pagu|transfer[ií]|deposit)", text, re.IGNORECASE):
            await conversations.alert(
                session,
                "payment_claimed",
                f"{ctx.conversation.phone} dice que ya pagó la seña",
                phone=ctx.conversation.phone,
                code=ctx.data.get("hold_code"),
            )
            return Reply(r.say("payment_claimed"))
        held = await active_hold(session, ctx)
        return Reply(
            r.say(
                "payment_info",
                percent=_percent(policy.deposit_percent),
                transfer=True,
                code=held.code if held else None,
                deposit=held.deposit_amount if held else 0,
            )
        )
    if intent == "checkin_info":
        return Reply(
            r.say(
                "checkin_info",
                check_in_time=policy.check_in_time,
                check_out_time=policy.check_out_time,
                extra=answers.get("checkin", ""),
            )
        )
    if intent == "location":
        return Reply(r.say("answer", text=answers.get("ubicacion", "")))
    lowered = text.lower()
    for topic, words in SERVICE_TOPICS.items():
        if any(w in lowered for w in words) and topic in answers:
            return Reply(r.say("answer", text=answers[topic]))
    return Reply(r.say("answer", text=answers.get("servicios", "")))


async def save_email(session: AsyncSession, ctx: Ctx, email: str) -> list[Reply]:
    """An email after the hold: kept on the reservation, and the hold's email sent to it."""
    held = await active_hold(session, ctx)
    if held is None:
        return not_understood(ctx)
    held.guest_email = email.lower()
    await enqueue(
        session,
        EMAIL_LATER,
        {"code": held.code, "template": "hold_created"},
        dedupe_key=f"email-later:{held.code}:{email.lower()}",
    )
    return [Reply(r.say("email_saved", email=email.lower()))]


def _percent(value: Any) -> str:
    return f"{value:f}".rstrip("0").rstrip(".")
