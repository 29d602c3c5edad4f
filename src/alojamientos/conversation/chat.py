"""`alojamientos chat`: the WhatsApp bot in a terminal, with the same engine and the same records."""

from __future__ import annotations

from collections.abc import Callable

from alojamientos.conversation.engine import engine
from alojamientos.conversation.messages import Inbound, Reply
from alojamientos.conversation.service import conversations
from alojamientos.db import Database
from alojamientos.kit.clock import utc_now

EXIT_WORDS = {"/salir", "/exit", "/quit"}


def render(reply: Reply) -> tuple[str, list[str]]:
    """The reply as terminal text, and the choice ids its numbered options stand for."""
    lines = [reply.text]
    ids: list[str] = []
    for n, button in enumerate(reply.buttons, 1):
        lines.append(f"  [{n}] {button.title}")
        ids.append(button.id)
    for n, row in enumerate(reply.rows, 1):
        lines.append(f"  [{n}] {row.title}" + (f" — {row.description}" if row.description else ""))
        ids.append(row.id)
    return "\n".join(lines), ids


async def turn(
    db: Database, phone: str, text: str, options: list[str], *, mercadopago: bool = False
) -> tuple[list[Reply], bool]:
    """One guest line: a number picks one of the last options; returns the replies and whether paused."""
    choice = options[int(text) - 1] if text.isdigit() and 0 < int(text) <= len(options) else None
    inbound = Inbound(phone=phone, text=text, choice_id=choice, profile_name=None)
    async with db.session_scope() as session:
        conversation = await conversations.open(session, phone)
        await conversations.record_inbound(session, conversation, text)
        result = await engine.handle(session, inbound, mercadopago=mercadopago, now=utc_now())
        for reply in result.replies:
            await conversations.send(session, conversation, reply, channel="terminal")
        return result.replies, conversation.bot_paused


async def run(
    db: Database,
    phone: str,
    read: Callable[[], str | None],
    write: Callable[[str], None],
    *,
    mercadopago: bool = False,
) -> None:
    write(f"Chat con el bot como {phone}. Escribí como un huésped; /salir para terminar.")
    options: list[str] = []
    while (line := read()) is not None:
        text = line.strip()
        if text in EXIT_WORDS:
            break
        if not text:
            continue
        replies, paused = await turn(db, phone, text, options, mercadopago=mercadopago)
        if paused and not replies:
            write("(el bot está en pausa: una persona atiende esta conversación)")
        options = []
        for reply in replies:
            rendered, ids = render(reply)
            write(f"bot> {rendered}")
            options = ids or options
