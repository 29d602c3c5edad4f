"""WhatsApp threads: what the bot is doing with each guest, and taking over to answer as a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin import labels
from alojamientos.admin.deps import PREFIX, CurrentAdmin
from alojamientos.admin.forms import EmptyReply
from alojamientos.admin.paging import paginate
from alojamientos.admin.templating import render
from alojamientos.conversation import repository
from alojamientos.conversation.messages import Reply
from alojamientos.conversation.models import Conversation, ConversationMessage
from alojamientos.conversation.service import conversations
from alojamientos.db import SessionDep
from alojamientos.reservations.models import Reservation

router = APIRouter(prefix="/conversaciones")

LIST_LIMIT = 50  # per page
THREAD_LIMIT = 200


def _thread_url(phone: str, done: str) -> str:
    return f"{PREFIX}/conversaciones/{phone}?hecho={done}"


async def _names(session: AsyncSession, rows: list[Conversation]) -> dict[str, str]:
    """What to call each guest: their WhatsApp profile name, else the name on their latest stay.
    A phone with neither is left out: the page then shows the number once, as the title."""
    names = {c.phone: c.profile_name for c in rows if c.profile_name}
    unnamed = [c.phone for c in rows if not c.profile_name]
    if unnamed:
        booked = await session.execute(
            select(Reservation.guest_phone, Reservation.guest_name)
            .where(Reservation.guest_phone.in_(unnamed), Reservation.guest_name != "")
            .distinct(Reservation.guest_phone)
            .order_by(Reservation.guest_phone, Reservation.created_at.desc())
        )
        names.update({phone: name for phone, name in booked.tuples() if phone})
    return names


@router.get("")
async def conversation_list(
    request: Request,
    session: SessionDep,
    pausadas: str = "",
    q: Annotated[str, Query(max_length=100)] = "",
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    query = select(Conversation)
    if pausadas:
        query = query.where(Conversation.bot_paused)
    query = repository.matching(query, q)
    listed = await paginate(
        session,
        query.order_by(Conversation.last_inbound_at.desc().nulls_last(), Conversation.id.desc()),
        page=pagina,
        size=LIST_LIMIT,
        kept={"q": q, "pausadas": pausadas},
    )
    rows = listed.rows
    last: dict[int, ConversationMessage] = {}
    if rows:
        latest_ids = (
            select(ConversationMessage.id)
            .where(ConversationMessage.conversation_id.in_([c.id for c in rows]))
            .distinct(ConversationMessage.conversation_id)
            .order_by(ConversationMessage.conversation_id, ConversationMessage.id.desc())
        )
        for message in await session.scalars(
            select(ConversationMessage).where(ConversationMessage.id.in_(latest_ids))
        ):
            last[message.conversation_id] = message
    context = {
        "conversations": rows,
        "names": await _names(session, rows),
        "last": last,
        "only_paused": bool(pausadas),
        "q": q,
        **listed.context(),
    }
    return render(request, "admin/conversations/list.html", context)


@router.get("/{phone}")
async def conversation_detail(
    request: Request, phone: str, session: SessionDep, hecho: str = "", error: str = ""
) -> Response:
    conversation = await conversations.get(session, phone)
    messages = await conversations.thread(session, conversation.id, latest=THREAD_LIMIT)
    bookings = await session.scalars(
        select(Reservation)
        .where(Reservation.guest_phone == conversation.phone)
        .order_by(Reservation.check_in.desc())
        .limit(10)
    )
    context = {
        "c": conversation,
        "name": (await _names(session, [conversation])).get(conversation.phone),
        "messages": messages,
        "bookings": list(bookings),
        "done": labels.DONE.get(hecho, ""),
        "error": labels.error_message(error) if error else "",
    }
    return render(request, "admin/conversations/detail.html", context)


@router.post("/{phone}/tomar")
async def take_over(phone: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    conversation = await conversations.take_over(session, phone)
    return RedirectResponse(_thread_url(conversation.phone, "tomada"), status_code=303)


@router.post("/{phone}/responder")
async def reply(
    request: Request,
    phone: str,
    session: SessionDep,
    admin: CurrentAdmin,
    texto: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    if not texto.strip():
        raise EmptyReply("the reply is empty")
    conversation = await conversations.get(session, phone, lock=True)
    await conversations.send(session, conversation, Reply(texto.strip()), author=admin.actor)
    done = "enviado" if request.app.state.settings.whatsapp_configured else "guardado"
    return RedirectResponse(_thread_url(conversation.phone, done), status_code=303)


@router.post("/{phone}/devolver")
async def release(phone: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    conversation = await conversations.release(session, phone)
    return RedirectResponse(_thread_url(conversation.phone, "devuelta"), status_code=303)
