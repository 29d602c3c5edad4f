"""The bot's answers to common questions, one per topic: the same service the JSON API uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin.deps import CurrentAdmin
from alojamientos.admin.settings._common import done, page, text
from alojamientos.conversation.service import conversations
from alojamientos.db import SessionDep
from alojamientos.errors import AppError

router = APIRouter()
Topic = Annotated[str, Path(max_length=80)]


async def _page(
    request: Request, session: AsyncSession, typed: dict[str, str] | None = None, **kwargs: object
) -> Response:
    answers = await conversations.answer_list(session)
    texts = {a.topic: a.text for a in answers} | (typed or {})
    context = {"sub": "respuestas", "answers": answers, "texts": texts}
    return page(request, "answers.html", context, **kwargs)  # type: ignore[arg-type]


@router.get("/respuestas")
async def answers_page(request: Request, session: SessionDep, hecho: str = "", error: str = "") -> Response:
    return await _page(request, session, hecho=hecho, error=error)


@router.post("/respuestas/{topic}")
async def set_answer(
    topic: Topic,
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    texto: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        async with session.begin_nested():  # a refusal undoes only this
            await conversations.set_answer(session, topic, text(texto))
    except AppError as exc:
        return await _page(request, session, {topic: texto}, error=exc)
    return done("/respuestas", "respuesta")
