"""Worker jobs for WhatsApp: process a stored inbound message, deliver an outbound one."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from alojamientos.channels.whatsapp.client import WhatsAppClient, WindowClosed, download_media
from alojamientos.channels.whatsapp.payloads import outbound, template
from alojamientos.channels.whatsapp.service import DOWNLOAD_MEDIA, PROCESS_INBOUND, process_inbound
from alojamientos.conversation.messages import Reply
from alojamientos.conversation.models import Conversation, ConversationMessage
from alojamientos.conversation.service import WHATSAPP_SEND, conversations
from alojamientos.jobs.queue import release_held
from alojamientos.jobs.worker import GiveUp, Held, JobContext, Worker, every, handler
from alojamientos.kit.clock import utc_now
from alojamientos.notifications.alerts import raise_alert
from alojamientos.payments.models import Attachment
from alojamientos.reservations.models import Reservation

log = logging.getLogger(__name__)
SERVICE_WINDOW = timedelta(hours=24)


@handler(PROCESS_INBOUND)
async def process_inbound_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    await process_inbound(ctx.db, ctx.settings, int(payload["message_id"]))


@handler(WHATSAPP_SEND)
async def send_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delivers one queued outbound message; a message that already has a wamid is never sent again."""
    async with ctx.db.session_scope() as session:
        found = (
            await session.execute(
                select(ConversationMessage, Conversation.phone, Conversation.last_inbound_at)
                .join(Conversation, Conversation.id == ConversationMessage.conversation_id)
                .where(ConversationMessage.id == int(payload["message_id"]))
            )
        ).one_or_none()
        if found is None:
            return
        message, phone, last_inbound = found
        # A wamid means Meta accepted it: never again. "failed" without one is our own give-up,
        # which the operator may retry from the dead-letter list.
        if message.wamid is not None or message.delivery_status not in ("queued", "failed", "held"):
            return
        configured = ctx.settings.whatsapp_configured
        if not configured:
            # A setting, not an incident: the message waits in its conversation, shown as not sent.
            message.delivery_status = "held"
        reply = Reply.from_json(message.payload)
    if not configured:
        raise Held("WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN")
    settings = ctx.settings
    window_open = last_inbound is not None and utc_now() - last_inbound < SERVICE_WINDOW
    body = (
        outbound(phone, reply)
        if window_open
        else template(phone, reply.text, settings.whatsapp_template_name, settings.whatsapp_template_language)
    )
    client = WhatsAppClient(settings, ctx.http)
    try:
        try:
            wamid = await client.send(body)
        except WindowClosed:
            if not window_open:
                raise
            # Meta's known issue: the window can close early. The template always may go.
            log.info("whatsapp.window_closed_fallback", extra={"message_id": message.id})
            wamid = await client.send(
                template(
                    phone, reply.text, settings.whatsapp_template_name, settings.whatsapp_template_language
                )
            )
    except GiveUp as exc:
        async with ctx.db.session_scope() as session:
            await session.execute(
                update(ConversationMessage)
                .where(ConversationMessage.id == message.id)
                .values(delivery_status="failed", delivery_error=str(exc)[:500])
            )
            await conversations.alert(
                session,
                "whatsapp_failed",
                f"No se pudo enviar un mensaje de WhatsApp a {phone}",
                phone=phone,
                message_id=message.id,
                error=str(exc)[:300],
            )
        raise
    async with ctx.db.session_scope() as session:
        await session.execute(
            update(ConversationMessage)
            .where(ConversationMessage.id == message.id, ConversationMessage.wamid.is_(None))
            .values(wamid=wamid, delivery_status="sent")
        )


@every(60, "whatsapp.release_held")
async def release_held_messages(worker: Worker, now: datetime) -> None:
    """Once WhatsApp is configured, messages held meanwhile go out (those of the last 24 hours: the
    service window; older news would mislead, and stays in its conversation as not sent)."""
    if not worker.settings.whatsapp_configured:
        return
    async with worker.db.session_scope() as session:
        await release_held(session, WHATSAPP_SEND, newer_than=now - SERVICE_WINDOW)


@handler(DOWNLOAD_MEDIA)
async def download_media_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """A guest's file (usually a transfer receipt), kept with their current hold for the operator."""
    async with ctx.db.session_scope() as session:
        message = await session.get(ConversationMessage, int(payload["message_id"]))
        if message is None:
            return
        if await session.scalar(
            select(Attachment.id).where(Attachment.conversation_message_id == message.id)
        ):
            return
        conversation = await session.get_one(Conversation, message.conversation_id)
        inbound = message.payload.get("inbound") or {}
        media_id, caption = inbound.get("media_id"), inbound.get("text") or ""
        code = conversation.context.get("hold_code")
    if not media_id:
        return
    content, mime, _ = await download_media(WhatsAppClient(ctx.settings, ctx.http), str(media_id))
    async with ctx.db.session_scope() as session:
        reservation_id = (
            await session.scalar(select(Reservation.id).where(Reservation.code == code)) if code else None
        )
        session.add(
            Attachment(
                reservation_id=reservation_id,
                conversation_message_id=message.id,
                media_id=str(media_id),
                mime_type=mime[:100],
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
                caption=caption,
            )
        )
        if reservation_id is not None:
            await raise_alert(
                session,
                "receipt_received",
                f"Llegó un comprobante para la reserva {code}",
                code=code,
                phone=conversation.phone,
            )
        await ctx.complete_in(session)
