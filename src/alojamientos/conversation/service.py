"""Conversations as records: find or open a guest's thread, keep its transcript, hand it to a person."""

from __future__ import annotations

import typing
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Executable,
    String,
    Table,
    Text,
    bindparam,
    cast,
    column,
    exists,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation.messages import Inbound, Reply
from alojamientos.conversation.models import BotAnswer, Conversation, ConversationMessage
from alojamientos.errors import InvalidInput, NotFound
from alojamientos.jobs.models import Job
from alojamientos.jobs.queue import enqueue, wake_workers
from alojamientos.kit.clock import utc_now
from alojamientos.kit.inputs import key_for
from alojamientos.notifications.alerts import raise_alert
from alojamientos.notifications.models import OperatorAlert
from alojamientos.reservations import changes, repository
from alojamientos.reservations.models import OCCUPYING, Reservation

WHATSAPP_SEND = "whatsapp.send"
INBOUND_COLUMNS = (
    "conversation_id",
    "direction",
    "author",
    "kind",
    "body",
    "wamid",
    "payload",
    "processed_at",
)


# The topics the bot answers from (conversation.engine); others can be stored for later.
ANSWER_TOPICS = ("servicios", "wifi", "mascotas", "estacionamiento", "ubicacion", "checkin")
MAX_ANSWER_LENGTH = 1000


class ConversationNotFound(NotFound):
    code = "conversation_not_found"


class InvalidAnswer(InvalidInput):
    code = "invalid_answer"


class ConversationService:
    async def open(self, session: AsyncSession, phone: str, profile_name: str | None = None) -> Conversation:
        """The guest's conversation, created on first contact and locked for this transaction."""
        await session.execute(
            insert(Conversation).values(phone=phone, profile_name=profile_name).on_conflict_do_nothing()
        )
        conversation = await session.scalar(
            select(Conversation)
            .where(Conversation.phone == phone)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert conversation is not None
        if profile_name and conversation.profile_name != profile_name:
            conversation.profile_name = profile_name
        return conversation

    async def arrive(
        self,
        session: AsyncSession,
        inbound: Inbound,
        body: str,
        *,
        wamid: str,
        payload: dict[str, Any],
        processed: bool,
        referral: dict[str, Any] | None = None,
    ) -> tuple[Conversation, int] | None:
        """A WhatsApp message stored with its conversation, in one statement: the conversation is
        created on first contact, locked for this transaction and stamped with the arrival (the
        guest's profile name, the ad they came from); returns it with the message's id, or None when
        `wamid` is stored already (Meta redelivers). `processed`: answered in this transaction.

        A redelivery must not even open a conversation: after a change of number that would bring
        back an empty thread for the old one. Two deliveries racing past that check are told apart
        by the unique wamid: the second waits for the first's lock on the conversation, then
        inserts nothing.
        """
        now = utc_now()
        result = await session.execute(
            _arrival_statement(),
            {
                "phone": inbound.phone,
                "profile_name": inbound.profile_name,
                "arrived_at": now,
                "referral": {**referral, "received_at": now.isoformat()} if referral else None,
                "kind": inbound.kind,
                "body": body,
                "wamid": wamid,
                "payload": payload,
                "processed_at": now if processed else None,
            },
            execution_options={"populate_existing": True},
        )
        row = result.one_or_none()
        if row is None or row.message_id is None:
            return None
        return row.Conversation, row.message_id

    async def get(self, session: AsyncSession, phone: str, *, lock: bool = False) -> Conversation:
        query = select(Conversation).where(Conversation.phone == phone)
        if lock:
            query = query.with_for_update()
        conversation = await session.scalar(query)
        if conversation is None:
            raise ConversationNotFound(f"there is no conversation with {phone}")
        return conversation

    async def record_inbound(
        self,
        session: AsyncSession,
        conversation: Conversation,
        body: str,
        *,
        wamid: str | None = None,
        payload: dict[str, Any] | None = None,
        kind: str = "text",
    ) -> int | None:
        """Stores an inbound message and returns its id; None when this WhatsApp message id was
        already stored. `kind` is one of `messages.KINDS`."""
        statement = (
            insert(ConversationMessage)
            .values(
                conversation_id=conversation.id,
                direction="in",
                author="guest",
                kind=kind,
                body=body,
                wamid=wamid,
                payload=payload or {},
            )
            .on_conflict_do_nothing(index_elements=[ConversationMessage.wamid])
            .returning(ConversationMessage.id)
        )
        return await session.scalar(statement)

    async def change_number(
        self, session: AsyncSession, conversation: Conversation, new_phone: str | None
    ) -> Conversation:
        """The guest moved to `new_phone` (E.164): their thread, bot state and current stays follow.

        WhatsApp tells us with a `user_changed_number` system message from the old number. When the
        guest already wrote from the new one, the two threads become one (the new number's), keeping
        the new thread's booking in progress unless it has none. Open holds and confirmed stays get
        the new number, so reminders and confirmations reach the guest; the operator is told.
        """
        old_phone = conversation.phone
        if new_phone is None or new_phone == old_phone:
            await self.alert(
                session,
                "guest_number_changed",
                f"{conversation.profile_name or old_phone} cambió su número de WhatsApp,"
                " pero WhatsApp no nos dijo a cuál",
                phone=old_phone,
            )
            return conversation
        target = await session.scalar(
            select(Conversation).where(Conversation.phone == new_phone).with_for_update()
        )
        if target is None:
            conversation.phone = new_phone
            target = conversation
        else:
            await session.execute(
                update(ConversationMessage)
                .where(ConversationMessage.conversation_id == conversation.id)
                .values(conversation_id=target.id)
            )
            if not target.context.get("hold_code") and target.state == "idle":
                target.context, target.state = dict(conversation.context), conversation.state
            target.profile_name = target.profile_name or conversation.profile_name
            target.referral = target.referral or conversation.referral
            target.bot_paused = target.bot_paused or conversation.bot_paused
            target.paused_at = target.paused_at or conversation.paused_at
            await session.delete(conversation)
        await session.flush()
        # Open alerts about this guest (a handoff, a guest waiting) are resolved by phone later on.
        await session.execute(
            update(OperatorAlert)
            .where(OperatorAlert.resolved_at.is_(None), OperatorAlert.data["phone"].astext == old_phone)
            .values(data=OperatorAlert.data.op("||")(cast({"phone": new_phone}, JSONB)))
        )
        codes = await session.scalars(
            select(Reservation.code).where(
                Reservation.guest_phone == old_phone,
                Reservation.status.in_(OCCUPYING),
                Reservation.kind == "stay",
            )
        )
        moved = []
        for code in codes:
            stay = await repository.get(session, code)
            await changes.update_guest(
                session,
                code,
                name=stay.guest_name or target.profile_name or "-",
                phone=new_phone,
                email=stay.guest_email,
                actor="guest:whatsapp",
            )
            moved.append(code)
        await self.alert(
            session,
            "guest_number_changed",
            f"{target.profile_name or old_phone} cambió su número de WhatsApp: ahora es {new_phone}",
            phone=new_phone,
            old_phone=old_phone,
            codes=moved,
        )
        return target

    async def send(
        self,
        session: AsyncSession,
        conversation: Conversation,
        reply: Reply,
        *,
        author: str = "bot",
        channel: str = "whatsapp",
    ) -> ConversationMessage:
        """Records an outbound message; for WhatsApp, its delivery job commits with it."""
        message = ConversationMessage(
            conversation_id=conversation.id,
            direction="out",
            author=author,
            body=reply.text,
            payload=reply.as_json(),
            delivery_status="queued" if channel == "whatsapp" else "shown",
        )
        session.add(message)
        await session.flush()
        if channel == "whatsapp":
            await enqueue(
                session, WHATSAPP_SEND, {"message_id": message.id}, dedupe_key=f"wa-out:{message.id}"
            )
        return message

    async def send_all(self, session: AsyncSession, conversation: Conversation, replies: list[Reply]) -> None:
        """The bot's replies of one turn, in order, each with its WhatsApp delivery job, in one statement
        (the rows and the jobs together, as `send` writes them one by one)."""
        if not replies:
            return
        values = {"conversation_id": conversation.id, "replies": [reply.as_json() for reply in replies]}
        await session.execute(_replies_statement(), values)

    async def hand_off(self, session: AsyncSession, conversation: Conversation, reason: str) -> None:
        """The bot goes silent for this guest until an operator releases the conversation."""
        if conversation.bot_paused:
            return
        conversation.bot_paused = True
        conversation.paused_at = utc_now()
        await raise_alert(
            session,
            "handoff",
            f"{conversation.profile_name or conversation.phone} pide hablar con una persona",
            phone=conversation.phone,
            name=conversation.profile_name,
            reason=reason,
        )

    async def await_operator(self, session: AsyncSession, conversation: Conversation) -> None:
        """With auto-replies off, a guest message waits for a person: one open alert per guest."""
        conversation.last_inbound_at = utc_now()
        waiting = await session.scalar(
            select(OperatorAlert.id).where(
                OperatorAlert.kind == "guest_waiting",
                OperatorAlert.resolved_at.is_(None),
                OperatorAlert.data["phone"].astext == conversation.phone,
            )
        )
        if waiting is None:
            await self.alert(
                session,
                "guest_waiting",
                f"{conversation.profile_name or conversation.phone} escribió y el bot está apagado",
                phone=conversation.phone,
            )

    async def release(self, session: AsyncSession, phone: str) -> Conversation:
        conversation = await self.get(session, phone, lock=True)
        conversation.bot_paused = False
        conversation.paused_at = None
        context = dict(conversation.context)
        context["misses"] = 0
        conversation.context = context
        await session.execute(
            update(OperatorAlert)
            .where(
                OperatorAlert.kind == "handoff",
                OperatorAlert.resolved_at.is_(None),
                OperatorAlert.data["phone"].astext == phone,
            )
            .values(resolved_at=utc_now())
        )
        return conversation

    async def take_over(self, session: AsyncSession, phone: str) -> Conversation:
        """The bot goes silent for this guest until released; the operator answers."""
        conversation = await self.get(session, phone, lock=True)
        if not conversation.bot_paused:
            conversation.bot_paused = True
            conversation.paused_at = utc_now()
        return conversation

    async def thread(
        self, session: AsyncSession, conversation_id: int, *, latest: int | None = None
    ) -> list[ConversationMessage]:
        """The conversation's messages, oldest first; with `latest`, only that many of the newest."""
        query = select(ConversationMessage).where(ConversationMessage.conversation_id == conversation_id)
        if latest is None:
            return list(await session.scalars(query.order_by(ConversationMessage.id)))
        newest = await session.scalars(query.order_by(ConversationMessage.id.desc()).limit(latest))
        return list(reversed(list(newest)))

    async def answers(self, session: AsyncSession) -> dict[str, str]:
        return {a.topic: a.text for a in await session.scalars(select(BotAnswer))}

    async def answer_list(self, session: AsyncSession) -> list[BotAnswer]:
        return list(await session.scalars(select(BotAnswer).order_by(BotAnswer.topic)))

    async def set_answer(self, session: AsyncSession, topic: str, text: str) -> BotAnswer:
        """What the bot says about `topic` from the next message on (created if the topic is new).

        `topic` as the operator names it: "Wi-Fi" → wifi, "Ubicación" → ubicacion, "Check-in" → checkin.
        """
        text = text.strip()
        typed, topic = topic, key_for(topic, ANSWER_TOPICS)
        if not topic:
            raise InvalidAnswer(
                f"{typed!r}: name the topic with letters, e.g. {', '.join(ANSWER_TOPICS)}", field="topic"
            )
        if not 1 <= len(text) <= MAX_ANSWER_LENGTH:
            raise InvalidAnswer(f"an answer needs 1 to {MAX_ANSWER_LENGTH} characters", field="text")
        answer = await session.get(BotAnswer, topic)
        if answer is None:
            answer = BotAnswer(topic=topic, text=text)
            session.add(answer)
        else:
            answer.text = text
        await session.flush()
        return answer

    async def alert(self, session: AsyncSession, kind: str, message: str, **data: Any) -> None:
        await raise_alert(session, kind, message, **data)


# Statements built once: building these CTEs costs more CPU than running them (column collections).


@cache
def _arrival_statement() -> Executable:
    """`ConversationService.arrive` as one statement (bound: phone, profile_name, arrived_at,
    referral, kind, body, wamid, payload, processed_at)."""
    values = select(
        bindparam("phone", type_=String()).label("phone"),
        bindparam("profile_name", type_=String()).label("profile_name"),
        bindparam("arrived_at", type_=DateTime(timezone=True)).label("last_inbound_at"),
        bindparam("referral", type_=JSONB(none_as_null=True)).label("referral"),
    ).where(~exists().where(ConversationMessage.wamid == bindparam("wamid", type_=String())))
    columns = ["phone", "profile_name", "last_inbound_at", "referral"]
    upsert = insert(Conversation).from_select(columns, values)
    current, new = Conversation.__table__.c, upsert.excluded
    conversation = (
        upsert.on_conflict_do_update(
            index_elements=[Conversation.phone],
            set_={
                # The name the guest shows now; the ad they came from last (kept when none).
                "profile_name": func.coalesce(new.profile_name, current.profile_name),
                "referral": func.coalesce(new.referral, current.referral),
                "last_inbound_at": new.last_inbound_at,
                "updated_at": func.now(),
            },
        )
        .returning(*Conversation.__table__.c)
        .cte("conversation")
    )
    message = (
        insert(ConversationMessage)
        .from_select(
            INBOUND_COLUMNS,
            select(
                conversation.c.id,
                literal("in"),
                literal("guest"),
                bindparam("kind", type_=String()),
                bindparam("body", type_=Text()),
                bindparam("wamid", type_=String()),
                bindparam("payload", type_=JSONB()),
                bindparam("processed_at", type_=DateTime(timezone=True)),
            ),
        )
        .on_conflict_do_nothing(index_elements=[ConversationMessage.wamid])
        .returning(ConversationMessage.id)
        .cte("message")
    )
    both = select(*conversation.c, message.c.id.label("message_id")).select_from(
        conversation.outerjoin(message, true())
    )
    return select(Conversation, message.c.id.label("message_id")).from_statement(both)


@cache
def _replies_statement() -> Executable:
    """`ConversationService.send_all` as one statement (bound: conversation_id, replies).

    Core inserts (tables, not entities): with parameters, an entity's insert would be an ORM bulk
    insert. The replies come as one JSONB array, so the statement is the same however many there are; the
    rows' ids, and so their jobs' ids, follow the array's order.
    """
    given = (
        func.jsonb_array_elements(bindparam("replies", type_=JSONB))
        .table_valued(column("value", JSONB), with_ordinality="n")
        .render_derived()
    )
    messages = (
        insert(typing.cast(Table, ConversationMessage.__table__))
        .from_select(
            ["conversation_id", "direction", "author", "body", "payload", "delivery_status"],
            select(
                bindparam("conversation_id", type_=BigInteger()),
                literal("out"),
                literal("bot"),
                given.c.value.op("->>")("text"),
                given.c.value,
                literal("queued"),
            ).order_by(given.c.n),
        )
        .returning(ConversationMessage.id)
        .cte("messages")
    )
    return (
        insert(typing.cast(Table, Job.__table__))
        .from_select(
            ["kind", "payload", "dedupe_key"],
            select(
                literal(WHATSAPP_SEND, String()),
                func.jsonb_build_object("message_id", messages.c.id),
                func.concat("wa-out:", messages.c.id),
            ).order_by(messages.c.id),
        )
        .returning(Job.id, wake_workers())
    )


conversations = ConversationService()
