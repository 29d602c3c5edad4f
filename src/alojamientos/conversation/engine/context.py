"""One turn's working state, and the few things every state reads: the guest's own reservations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import calendar_talk as cal
from alojamientos.conversation import replies as r
from alojamientos.conversation.messages import Button, Reply
from alojamientos.conversation.models import Conversation
from alojamientos.conversation.nlu import Parsed
from alojamientos.pricing.models import PriceSettings
from alojamientos.reservations import repository
from alojamientos.reservations.models import OCCUPYING, Reservation


@dataclass
class Turn:
    conversation: Conversation
    replies: list[Reply] = field(default_factory=list)


@dataclass
class Ctx:
    """One turn's working state: the conversation's context dict plus what the turn needs."""

    conversation: Conversation
    data: dict[str, Any]
    today: date
    tz: ZoneInfo
    policy: PriceSettings
    """The operator's settings (Ajustes), read once per turn."""
    mercadopago: bool = False
    announce: cal.Understood | None = None
    """A period this turn's stay was resolved from, said in dates before the first reply about it."""
    state: str = field(init=False)
    """The conversation's state as this turn moves it; stored with `data` when the turn ends, so the
    row is written once per turn."""

    def __post_init__(self) -> None:
        self.state = self.conversation.state

    def get_date(self, key: str) -> date | None:
        value = self.data.get(key)
        return date.fromisoformat(value) if value else None

    def set_date(self, key: str, value: date | None) -> None:
        self.data[key] = value.isoformat() if value else None


@dataclass(frozen=True)
class Said:
    """A text message as the transition table reads it (`table.read`)."""

    text: str
    parsed: Parsed
    """The NLU's reading, a named period's correction already applied."""
    intents: frozenset[str]
    code: str | None
    """A reservation code in the text (`find_code`)."""
    email: str | None
    question: cal.Question | None
    """A question about the calendar itself ("¿cuándo es el próximo finde largo?")."""


def menu() -> tuple[Button, ...]:
    return (
        Button("menu:availability", r.button("availability")),
        Button("menu:price", r.button("prices")),
        Button("menu:human", r.button("human")),
    )


async def welcome(session: AsyncSession, ctx: Ctx) -> list[Reply]:
    """The greeting with the guest's first name, the complex's name (Ajustes) and the menu."""
    name = ctx.conversation.profile_name
    complex_name = ctx.policy.complex_name
    return [Reply(r.say("welcome", name=name.split()[0] if name else None, complex=complex_name), menu())]


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def guest_reservation(session: AsyncSession, ctx: Ctx, code: str) -> Reservation | None:
    """Only the guest's own occupying reservation: a code alone is not enough to cancel."""
    return await session.scalar(
        repository.by_code(code).where(
            Reservation.guest_phone == ctx.conversation.phone, Reservation.status.in_(OCCUPYING)
        )
    )


async def active_hold(session: AsyncSession, ctx: Ctx) -> Reservation | None:
    code = ctx.data.get("hold_code")
    return await guest_reservation(session, ctx, code) if code else None
