"""`alojamientos chat`: the WhatsApp bot in a terminal, with the same engine and the same records."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import engine
from alojamientos.conversation.messages import Inbound, Reply
from alojamientos.conversation.service import conversations
from alojamientos.db import Database
from alojamientos.kit.clock import utc_now

EXIT_WORDS = {"/salir", "/exit", "/quit"}
MAX_TEXT = 4096


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


async def exchange(
    session: AsyncSession,
    phone: str,
    text: str,
    options: list[str],
    *,
    profile_name: str | None = None,
    choice_id: str | None = None,
    mercadopago: bool = False,
) -> tuple[list[Reply], bool]:
    """One guest line in the caller's transaction: a number picks one of the last options (or
    `choice_id` is the option tapped, `text` its title); returns the replies (recorded as shown, not
    sent by WhatsApp) and whether a person has the conversation."""
    choice = choice_id
    if choice is None and text.isdigit() and 0 < int(text) <= len(options):
        choice = options[int(text) - 1]
    inbound = Inbound(phone=phone, text=text, choice_id=choice, profile_name=profile_name)
    conversation = await conversations.open(session, phone, profile_name)
    await conversations.record_inbound(session, conversation, text)
    result = await engine.handle(session, inbound, mercadopago=mercadopago, now=utc_now())
    for reply in result.replies:
        await conversations.send(session, conversation, reply, channel="terminal")
    return result.replies, conversation.bot_paused


async def turn(
    db: Database, phone: str, text: str, options: list[str], *, mercadopago: bool = False
) -> tuple[list[Reply], bool]:
    """One guest line in its own transaction (see `exchange`)."""
    async with db.session_scope() as session:
        return await exchange(session, phone, text, options, mercadopago=mercadopago)


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
        # As the webhook does: a NUL cannot be stored, and WhatsApp caps a text at 4,096 characters.
        text = line.replace("\x00", "").strip()[:MAX_TEXT]
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
