"""The booking conversation: an explicit state machine per guest, driven by NLU and taps.

States (persisted in `conversations.state`, with what was gathered in `conversations.context`):

    idle ──dates/party──▶ collecting ──all known, units free──▶ choosing_unit ──unit──▶ asking_name
      ▲                      │  ▲                                   │                      │ name
      │                      │  └──────── new dates or party size at any point ───────────┘
      │                      └─ nothing free: alternatives (list of nearby dates)          ▼
      └─────────────────────────────────────────────────── held ◀── (choosing_payment) ◀──┘
    awaiting_code ──code──▶ confirming_cancel ──yes/no──▶ idle

Every state decides what it still needs and asks only for that. "Hablar con una persona" pauses
the bot (handoff) from any state; repeated misunderstanding offers a person instead of looping.

Where a reply comes from: `table` (state × event → handler) picks the handler of a text or a tap;
the handlers live with their states —

    asking      collecting: the stay, one missing piece at a time; the menu and list taps
    offering    the free units (→ choosing_unit), a minimum stay to meet, nearby free dates
    holding     choosing_unit → asking_name → choosing_payment → held
    cancelling  awaiting_code → confirming_cancel → idle
    questions   price, services, location, check-in, payment; an email after the hold
    periods     named periods and calendar questions (the knowledge is `calendar_talk`)
    talk        free text no row claims: questions, stay details, greetings, a nod, "no te entendí"
    handoff     a person, and "no te entendí"
    non_text    receipts, the welcome, orders, forms, voice notes and other kinds
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation.engine import non_text, table
from alojamientos.conversation.engine.context import Ctx, Turn
from alojamientos.conversation.messages import Inbound
from alojamientos.conversation.models import Conversation
from alojamientos.conversation.service import conversations
from alojamientos.kit.clock import local_today, utc_now
from alojamientos.pricing.service import pricing

__all__ = ["Turn", "handle"]


async def handle(
    session: AsyncSession,
    inbound: Inbound,
    *,
    mercadopago: bool = False,
    now: datetime | None = None,
    conversation: Conversation | None = None,
) -> Turn:
    """One guest message in, the bot's replies out; the caller records and delivers them.

    `mercadopago`: whether a payment link can be offered (configured and its flag on).
    `conversation`: the guest's, already locked and stamped with the message's arrival
    (`conversations.arrive`); opened here when not given.
    """
    if conversation is None:
        conversation = await conversations.open(session, inbound.phone, inbound.profile_name)
        conversation.last_inbound_at = now or utc_now()
    turn = Turn(conversation)
    if conversation.bot_paused:
        return turn
    # Read once per turn: the session's identity map holds it only while someone does.
    policy = await pricing.settings(session)
    tz = ZoneInfo(policy.timezone)
    ctx = Ctx(conversation, dict(conversation.context), local_today(tz, now), tz, policy, mercadopago)
    if inbound.media:
        turn.replies = await non_text.media(session, ctx, inbound)
    elif inbound.choice_id:
        turn.replies = await table.on_choice(session, ctx, inbound.choice_id)
    elif inbound.kind in ("text", "choice"):
        turn.replies = await table.on_text(session, ctx, inbound.text)
    else:
        turn.replies = await non_text.non_verbal(session, ctx, inbound)
    # Written once, when the turn ends (the ORM flushes before every query otherwise).
    if ctx.state != conversation.state:
        conversation.state = ctx.state
    if ctx.data != conversation.context:
        conversation.context = ctx.data  # a new dict, so SQLAlchemy sees the change
    return turn
