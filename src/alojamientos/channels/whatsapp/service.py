"""From a verified webhook to the guest's replies: store, de-duplicate, run the engine, queue the sends."""

from __future__ import annotations

import logging
from dataclasses import asdict

from sqlalchemy import case, select, update

from alojamientos.channels.whatsapp.payloads import STATUS_ORDER, InboundEvent, StatusEvent
from alojamientos.config import Settings
from alojamientos.conversation import engine
from alojamientos.conversation.messages import QUIET_KINDS, Inbound
from alojamientos.conversation.models import Conversation, ConversationMessage
from alojamientos.conversation.service import conversations
from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.jobs.queue import enqueue
from alojamientos.kit.clock import utc_now
from alojamientos.ops.flags import flags

log = logging.getLogger(__name__)

PROCESS_INBOUND = "whatsapp.process_inbound"
DOWNLOAD_MEDIA = "whatsapp.download_media"


async def store_inbound(db: Database, event: InboundEvent) -> int | None:
    """Commits the message (and a job that guarantees it gets processed); None for a redelivery."""
    async with db.session_scope() as session:
        # A redelivery must not even open a conversation: after a change of number that would
        # bring back an empty thread for the old one. The unique wamid still decides races.
        if await session.scalar(
            select(ConversationMessage.id).where(ConversationMessage.wamid == event.wamid)
        ):
            log.info("whatsapp.inbound.duplicate", extra={"wamid": event.wamid})
            return None
        conversation = await conversations.open(session, event.inbound.phone, event.inbound.profile_name)
        payload = {"inbound": asdict(event.inbound), "raw": event.raw}
        message = await conversations.record_inbound(
            session,
            conversation,
            event.body,
            wamid=event.wamid,
            payload=payload,
            kind=event.inbound.kind,
            referral=event.referral,
        )
        if message is None:
            log.info("whatsapp.inbound.duplicate", extra={"wamid": event.wamid})
            return None
        await enqueue(session, PROCESS_INBOUND, {"message_id": message.id}, dedupe_key=_job_key(message.id))
        return message.id


async def process_inbound(db: Database, settings: Settings, message_id: int) -> bool:
    """Runs the engine on one stored message exactly once; False when it was already processed."""
    async with db.session_scope() as session:
        message = await session.get(ConversationMessage, message_id)
        if message is None:
            return False
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == message.conversation_id).with_for_update()
        )
        assert conversation is not None
        await session.refresh(message)  # re-read under the conversation lock
        if message.processed_at is not None:
            return False
        inbound = Inbound(**message.payload["inbound"])
        if inbound.kind == "number_changed":  # nothing to say to the old number: follow the guest
            await conversations.change_number(session, conversation, inbound.detail.get("new_phone"))
        elif await flags.enabled(session, "whatsapp_auto_replies"):
            turn = await engine.handle(session, inbound, mercadopago=settings.configured("mercadopago"))
            for reply in turn.replies:
                await conversations.send(session, conversation, reply)
        elif inbound.kind not in QUIET_KINDS:
            await conversations.await_operator(session, conversation)
        if inbound.media and inbound.media_id:  # an image or document: perhaps a receipt
            await enqueue(
                session, DOWNLOAD_MEDIA, {"message_id": message.id}, dedupe_key=f"wa-media:{message.id}"
            )
        message.processed_at = utc_now()
        # The fast path ran it: the safety-net job has nothing left to do.
        await session.execute(
            update(Job)
            .where(Job.dedupe_key == _job_key(message_id), Job.status == "pending")
            .values(status="done", finished_at=utc_now())
        )
        return True


async def record_statuses(db: Database, statuses: list[StatusEvent]) -> None:
    """Delivery statuses move forward only (sent < delivered < read); failed is final."""
    if not statuses:
        return
    async with db.session_scope() as session:
        for status in statuses:
            if status.status == "failed":
                result = await session.execute(
                    update(ConversationMessage)
                    .where(ConversationMessage.wamid == status.wamid)
                    .values(delivery_status="failed", delivery_error=status.error)
                )
            elif status.status in STATUS_ORDER:
                rank = case(
                    *((ConversationMessage.delivery_status == s, n) for s, n in STATUS_ORDER.items()),
                    else_=99,
                )
                result = await session.execute(
                    update(ConversationMessage)
                    .where(ConversationMessage.wamid == status.wamid, rank < STATUS_ORDER[status.status])
                    .values(delivery_status=status.status)
                )
            else:
                log.info("whatsapp.status.ignored", extra={"status": status.status})
                continue
            if getattr(result, "rowcount", 0) and status.status == "failed":
                log.warning("whatsapp.delivery_failed", extra={"wamid": status.wamid, "error": status.error})


def _job_key(message_id: int) -> str:
    return f"wa-in:{message_id}"
