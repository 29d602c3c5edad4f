"""The operator's side of conversations: read threads, take over, reply, release; bot answers; alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from alojamientos.auth.deps import CurrentOperator
from alojamientos.conversation import repository
from alojamientos.conversation.messages import Reply
from alojamientos.conversation.models import BotAnswer, Conversation, ConversationMessage
from alojamientos.conversation.service import conversations
from alojamientos.db import SessionDep
from alojamientos.errors import InvalidInput
from alojamientos.kit.inputs import BigId
from alojamientos.kit.phone import InvalidPhone, to_e164
from alojamientos.notifications import alerts
from alojamientos.notifications.models import OperatorAlert

router = APIRouter(prefix="/api/v1", tags=["conversations"])
PhonePath = Annotated[str, Path(description="the guest's number, E.164 (+549…) or as written")]


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    direction: str
    author: str
    kind: str  # what the guest sent: text, choice, image, audio, location, reaction, … (messages.KINDS)
    body: str
    delivery_status: str | None
    delivery_error: str | None
    created_at: datetime


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    phone: str
    profile_name: str | None
    state: str
    bot_paused: bool
    paused_at: datetime | None
    last_inbound_at: datetime | None
    context: dict[str, Any]
    referral: dict[str, Any] | None  # Meta's click-to-WhatsApp ad referral, with `received_at`


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class OperatorMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1000)


class AnswerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    topic: str
    text: str


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    message: str
    data: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None


def _phone(raw: str) -> str:
    try:
        return to_e164(raw if raw.startswith("+") else f"+{raw}")
    except InvalidPhone as exc:
        raise InvalidInput(f"{raw!r} is not a phone number") from exc


@router.get("/conversations", response_model=list[ConversationOut])
async def list_conversations(
    session: SessionDep,
    operator: CurrentOperator,
    paused: bool | None = None,
    q: Annotated[str, Query(max_length=100, description="name (any case or accents) or phone digits")] = "",
) -> list[Conversation]:
    query = select(Conversation).order_by(Conversation.last_inbound_at.desc().nulls_last()).limit(200)
    if paused is not None:
        query = query.where(Conversation.bot_paused == paused)
    query = repository.matching(query, q)
    return list(await session.scalars(query))


@router.get("/conversations/{phone}", response_model=ConversationDetail)
async def get_conversation(
    phone: PhonePath, session: SessionDep, operator: CurrentOperator
) -> dict[str, Any]:
    conversation = await conversations.get(session, _phone(phone))
    messages = await conversations.thread(session, conversation.id)
    return {**ConversationOut.model_validate(conversation).model_dump(), "messages": messages}


@router.post("/conversations/{phone}/takeover", response_model=ConversationOut)
async def take_over(phone: PhonePath, session: SessionDep, operator: CurrentOperator) -> Conversation:
    """The bot goes silent for this guest; the operator answers."""
    return await conversations.take_over(session, _phone(phone))


@router.post("/conversations/{phone}/release", response_model=ConversationOut)
async def release(phone: PhonePath, session: SessionDep, operator: CurrentOperator) -> Conversation:
    """The bot answers this guest again; open handoff alerts are resolved."""
    return await conversations.release(session, _phone(phone))


@router.post("/conversations/{phone}/messages", status_code=202, response_model=MessageOut)
async def reply(
    phone: PhonePath, body: OperatorMessage, session: SessionDep, operator: CurrentOperator
) -> ConversationMessage:
    """A message from the operator to the guest, delivered through the outbox."""
    conversation = await conversations.get(session, _phone(phone), lock=True)
    return await conversations.send(
        session, conversation, Reply(body.text), author=f"operator:{operator.email}"
    )


@router.get("/bot/answers", response_model=list[AnswerOut])
async def list_answers(session: SessionDep, operator: CurrentOperator) -> list[BotAnswer]:
    return await conversations.answer_list(session)


@router.put("/bot/answers/{topic}", response_model=AnswerOut)
async def put_answer(
    topic: Annotated[
        str,
        Path(
            max_length=80,
            description="the topic as you name it (Wi-Fi, Mascotas, Ubicación); the bot answers from "
            "servicios, wifi, mascotas, estacionamiento, ubicacion and checkin",
        ),
    ],
    body: AnswerIn,
    session: SessionDep,
    operator: CurrentOperator,
) -> BotAnswer:
    return await conversations.set_answer(session, topic, body.text)


@router.get("/alerts", response_model=list[AlertOut])
async def list_alerts(
    session: SessionDep, operator: CurrentOperator, open_only: Annotated[bool, Query(alias="open")] = True
) -> list[OperatorAlert]:
    query = select(OperatorAlert).order_by(OperatorAlert.id.desc()).limit(200)
    if open_only:
        query = query.where(OperatorAlert.resolved_at.is_(None))
    return list(await session.scalars(query))


@router.post("/alerts/{alert_id}/resolve", response_model=AlertOut)
async def resolve_alert(alert_id: BigId, session: SessionDep, operator: CurrentOperator) -> OperatorAlert:
    return await alerts.resolve_alert(session, alert_id, actor=f"operator:{operator.email}")
