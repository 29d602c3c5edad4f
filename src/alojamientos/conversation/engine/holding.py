"""States `asking_name` and `choosing_payment`, ending in `held`: a unit chosen, the guest's name,
how they will pay, and the hold itself (`holds.hold`)."""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import replies as r
from alojamientos.conversation.engine.asking import advance, stay_known
from alojamientos.conversation.engine.cancelling import cancel_if_held
from alojamientos.conversation.engine.context import Ctx, Said
from alojamientos.conversation.engine.handoff import not_understood
from alojamientos.conversation.messages import Button, Reply
from alojamientos.conversation.nlu import Parsed
from alojamientos.conversation.service import conversations
from alojamientos.errors import AppError
from alojamientos.jobs.queue import enqueue
from alojamientos.ops.flags import flags
from alojamientos.reservations import holds, quotes, repository
from alojamientos.reservations.errors import DatesUnavailable
from alojamientos.reservations.models import ReservationSource
from alojamientos.reservations.types import NewStay

log = logging.getLogger(__name__)

CREATE_PREFERENCE = "payments.create_preference"  # handled in payments.tasks
_NAME_PREFIX = re.compile(
    r"^\s*(?:(?:hola|buenas)[,!.\s]+)?(?:a nombre de|me llamo|mi nombre es|soy|es|de)\s+", re.IGNORECASE
)


async def on_name(session: AsyncSession, ctx: Ctx, said: Said) -> list[Reply]:
    return await named(session, ctx, clean_name(said.text))


async def on_payment_method(session: AsyncSession, ctx: Ctx, said: Said) -> list[Reply]:
    """ "Por transferencia" or "con tarjeta" typed instead of tapped."""
    return await hold(session, ctx, ctx.data.get("name") or "", payment_method(said.text) or "transfer")


async def on_unit_row(session: AsyncSession, ctx: Ctx, value: str) -> list[Reply]:
    if not value.isdigit():
        return not_understood(ctx)
    return await choose_unit(session, ctx, int(value))


async def on_pay_button(session: AsyncSession, ctx: Ctx, value: str) -> list[Reply]:
    if value not in ("mercadopago", "transfer"):
        return not_understood(ctx)
    return await hold(session, ctx, ctx.data.get("name") or "", value)


async def reserve_from_offer(session: AsyncSession, ctx: Ctx) -> list[Reply]:
    """ "Quiero reservar" after an offer: the only unit offered, or which one."""
    offers = ctx.data.get("offers") or []
    if len(offers) == 1:
        return await choose_unit(session, ctx, offers[0])
    return [Reply(r.say("which_unit"))] + await advance(session, ctx)


async def choose_unit(session: AsyncSession, ctx: Ctx, unit_id: int) -> list[Reply]:
    if not stay_known(ctx):
        return await advance(session, ctx)
    ctx.data["unit_id"] = unit_id
    ctx.state = "asking_name"
    try:
        summary = await chosen_summary(session, ctx)
    except AppError:
        return await advance(session, ctx)
    return [Reply(r.say("ask_name", **summary))]


async def chosen_summary(session: AsyncSession, ctx: Ctx) -> dict[str, Any]:
    unit = await repository.accommodation(session, ctx.data["unit_id"])
    check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
    assert check_in and check_out
    quote = await quotes.quote(session, unit, check_in, check_out, ctx.data["guests"])
    return {"unit": unit.name, "check_in": check_in, "check_out": check_out, "total": quote.total}


async def named(session: AsyncSession, ctx: Ctx, name: str) -> list[Reply]:
    """With a name, hold now (transfer only) or first ask how they will pay."""
    if not ctx.mercadopago or not await flags.enabled(session, "mercadopago"):
        return await hold(session, ctx, name, "transfer")
    ctx.data["name"] = name
    ctx.state = "choosing_payment"
    buttons = (
        Button("pay:mercadopago", r.button("pay_mercadopago")),
        Button("pay:transfer", r.button("pay_transfer")),
    )
    return [Reply(r.say("ask_payment_method"), buttons)]


async def hold(session: AsyncSession, ctx: Ctx, name: str, method: str) -> list[Reply]:
    check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
    unit_id, guests = ctx.data.get("unit_id"), ctx.data.get("guests")
    if not (check_in and check_out and unit_id and guests):
        return await advance(session, ctx)
    stay = NewStay(
        accommodation_id=unit_id,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        guest_name=name,
        guest_phone=ctx.conversation.phone,
        source=ReservationSource.whatsapp,
        payment_method=method,
    )
    unit = await repository.accommodation(session, unit_id)
    try:
        held = await holds.hold(session, stay, actor="guest:whatsapp")
    except DatesUnavailable:
        log.info("conversation.hold_lost_race", extra={"unit": unit_id})
        return [Reply(r.say("taken", unit=unit.name))] + await advance(session, ctx)
    except AppError as exc:
        log.info("conversation.hold_refused", extra={"code": exc.code})
        return await advance(session, ctx)
    replies = [
        Reply(
            r.say(
                "held",
                name=name.split()[0],
                unit=unit.name,
                check_in=check_in,
                check_out=check_out,
                guests=guests,
                code=held.code,
                total=held.total_amount,
                deposit=held.deposit_amount,
                expires_at=held.expires_at.astimezone(ctx.tz) if held.expires_at else None,
                payment=await _payment_text(session, ctx, method),
            )
        )
    ]
    if method == "mercadopago":
        await enqueue(session, CREATE_PREFERENCE, {"code": held.code}, dedupe_key=f"preference:{held.code}")
    previous = ctx.data.get("hold_code")
    if previous and await cancel_if_held(session, ctx, previous, reason=f"replaced by {held.code}"):
        replies.append(Reply(r.say("replaced", code=previous)))
    ctx.data.update(hold_code=held.code, name=name, offers=None, unit_id=None)
    ctx.state = "held"
    return replies


async def _payment_text(session: AsyncSession, ctx: Ctx, method: str) -> str:
    if method == "mercadopago":
        return r.say("pay_mercadopago")
    details = ctx.policy.bank_transfer_details.strip()
    if details:
        return r.say("pay_transfer", details=details)
    await conversations.alert(
        session,
        "missing_bank_details",
        "Un huésped necesita los datos para transferir y no están cargados en Ajustes",
        phone=ctx.conversation.phone,
    )
    return r.say("pay_transfer_pending")


def looks_like_name(parsed: Parsed, text: str) -> bool:
    words = clean_name(text).split()
    return (
        0 < len(words) <= 5
        and not (parsed.check_in or parsed.check_out or parsed.guests)
        and set(parsed.intents) <= {"other", "greeting", "thanks"}
        and all(w.replace("-", "").replace("'", "").isalpha() for w in words)
    )


def clean_name(text: str) -> str:
    name = _NAME_PREFIX.sub("", text.strip()).strip(" .,!¡")
    return " ".join(w if any(c.isupper() for c in w) else w.capitalize() for w in name.split())


def payment_method(text: str) -> str | None:
    lowered = text.lower()
    if "mercado" in lowered or "link" in lowered or "tarjeta" in lowered:
        return "mercadopago"
    if "transfer" in lowered or "cbu" in lowered or "alias" in lowered:
        return "transfer"
    return None
