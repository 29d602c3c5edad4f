"""From a verified webhook to the guest's replies: store, de-duplicate, run the engine, queue the sends."""

from __future__ import annotations

import logging
from dataclasses import asdict

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.channels.whatsapp.payloads import STATUS_ORDER, InboundEvent, StatusEvent
from alojamientos.config import Settings
from alojamientos.conversation import engine
from alojamientos.conversation.messages import QUIET_KINDS, Inbound
from alojamientos.conversation.models import Conversation, ConversationMessage
from alojamientos.conversation.service import conversations
from alojamientos.db import Database
from alojamientos.jobs.queue import enqueue
from alojamientos.kit.clock import utc_now
from alojamientos.observability.metrics import ERRORS
from alojamientos.ops.flags import flags

log = logging.getLogger(__name__)

PROCESS_INBOUND = "whatsapp.process_inbound"
DOWNLOAD_MEDIA = "whatsapp.download_media"


async def receive_inbound(db: Database, settings: Settings, event: InboundEvent) -> bool:
    """Stores one inbound message and answers it in one transaction: the message, the conversation's
    new state and the replies' delivery jobs commit together, or none of them does; False for a
    redelivery (Meta retries anything not acknowledged in time, and may repeat a delivery anyway).

    When answering fails, the message is stored on its own with a job that answers it later (the
    worker retries it), so the guest is answered exactly once either way.
    """
    recorded = False
    try:
        async with db.session_scope() as session:
            stored = await _store(session, event, processed=True)
            if stored is None:
                raise _Redelivery
            recorded = True
            await _answer(session, settings, *stored, event.inbound)
            return True
    except _Redelivery:
        log.info("whatsapp.inbound.duplicate", extra={"wamid": event.wamid})
        return False
    except Exception:
        if not recorded:  # nothing stored: no 200, so Meta delivers it again later
            raise
        # Rolled back whole; stored below with its job, which retries. Meta gets its 200 regardless.
        ERRORS.labels("whatsapp.process_inbound").inc()
        log.exception("whatsapp.inbound.processing_failed", extra={"wamid": event.wamid})
    return await store_inbound(db, event) is not None


async def store_inbound(db: Database, event: InboundEvent) -> int | None:
    """Commits the message unanswered, with a job that answers it (`process_inbound`); None for a
    redelivery."""
    async with db.session_scope() as session:
        stored = await _store(session, event, processed=False)
        if stored is None:
            log.info("whatsapp.inbound.duplicate", extra={"wamid": event.wamid})
            return None
        message_id = stored[1]
        await enqueue(session, PROCESS_INBOUND, {"message_id": message_id}, dedupe_key=_job_key(message_id))
        return message_id


async def process_inbound(db: Database, settings: Settings, message_id: int) -> bool:
    """Answers one stored message exactly once (the worker's job); False when it was already answered."""
    async with db.session_scope() as session:
        conversation_id = await session.scalar(
            select(ConversationMessage.conversation_id).where(ConversationMessage.id == message_id)
        )
        if conversation_id is None:
            return False
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == conversation_id).with_for_update()
        )
        assert conversation is not None
        # Read under the conversation's lock, so two runs cannot both find it unanswered.
        unanswered = await session.scalar(
            update(ConversationMessage)
            .where(ConversationMessage.id == message_id, ConversationMessage.processed_at.is_(None))
            .values(processed_at=utc_now())
            .returning(ConversationMessage.payload)
        )
        if unanswered is None:
            return False
        await _answer(session, settings, conversation, message_id, Inbound(**unanswered["inbound"]))
        return True


class _Redelivery(Exception):
    """Rolls back what a redelivered message touched (its conversation's arrival stamp)."""


async def _store(
    session: AsyncSession, event: InboundEvent, *, processed: bool
) -> tuple[Conversation, int] | None:
    """The guest's conversation (locked) and the stored message's id; None for a redelivery."""
    return await conversations.arrive(
        session,
        event.inbound,
        event.body,
        wamid=event.wamid,
        payload={"inbound": asdict(event.inbound), "raw": event.raw},
        processed=processed,
        referral=event.referral,
    )


async def _answer(
    session: AsyncSession, settings: Settings, conversation: Conversation, message_id: int, inbound: Inbound
) -> None:
    """Runs the engine on the guest's message and queues its replies, in the caller's transaction."""
    if inbound.kind == "number_changed":  # nothing to say to the old number: follow the guest
        await conversations.change_number(session, conversation, inbound.detail.get("new_phone"))
    elif await flags.enabled(session, "whatsapp_auto_replies"):
        turn = await engine.handle(
            session, inbound, mercadopago=settings.configured("mercadopago"), conversation=conversation
        )
        await conversations.send_all(session, conversation, turn.replies)
    elif inbound.kind not in QUIET_KINDS:
        await conversations.await_operator(session, conversation)
    if inbound.media and inbound.media_id:  # an image or document: perhaps a receipt
        key = f"wa-media:{message_id}"
        await enqueue(session, DOWNLOAD_MEDIA, {"message_id": message_id}, dedupe_key=key)


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
