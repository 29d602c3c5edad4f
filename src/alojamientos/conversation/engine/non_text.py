"""Messages that are not text: receipts (images, documents), the welcome, orders, forms, voice notes..."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import replies as r
from alojamientos.conversation.engine.context import Ctx, active_hold, welcome
from alojamientos.conversation.messages import QUIET_KINDS, Inbound, Reply
from alojamientos.conversation.service import conversations


async def media(session: AsyncSession, ctx: Ctx, inbound: Inbound) -> list[Reply]:
    """An image or a document: the only kinds that can be a receipt."""
    held = await active_hold(session, ctx)
    if held:  # the channel downloads it and attaches it to the hold as a receipt
        return [Reply(r.say("receipt_attached", code=held.code))]
    await conversations.alert(
        session, "guest_media", f"{inbound.phone} mandó un archivo", phone=inbound.phone
    )
    return [Reply(r.say("media_received"))]


async def non_verbal(session: AsyncSession, ctx: Ctx, inbound: Inbound) -> list[Reply]:
    """What a person at the desk would answer to something that is not text: often nothing.

    Never "no te entendí": the guest did nothing wrong. Voice notes and videos cannot be read
    (and are never receipts); the guest is asked to write what they need.
    """
    if inbound.kind in QUIET_KINDS:
        return []
    held = await active_hold(session, ctx)
    code = held.code if held else None
    if inbound.kind == "welcome":
        return await welcome(session, ctx)
    if inbound.kind in ("order", "form"):
        await conversations.alert(
            session,
            f"guest_{inbound.kind}",
            f"{ctx.conversation.profile_name or inbound.phone} mandó "
            + ("un pedido" if inbound.kind == "order" else "un formulario completo"),
            phone=inbound.phone,
        )
        return [Reply(r.say(f"{inbound.kind}_received"))]
    if inbound.kind in ("audio", "video", "location", "contacts"):
        return [Reply(r.say(f"{inbound.kind}_received", code=code))]
    return [Reply(r.say("unsupported_received", code=code))]
