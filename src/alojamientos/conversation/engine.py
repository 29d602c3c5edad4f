"""The booking conversation: an explicit state machine per guest, driven by NLU and taps.

States (persisted in `conversations.state`, with what was gathered in `conversations.context`):

    idle ──dates/party──▶ collecting ──all known, units free──▶ choosing_unit ──unit──▶ asking_name
      ▲                      │  ▲                                   │                      │ name
      │                      │  └──────── new dates or party size at any point ───────────┘
      │                      └─ nothing free: alternatives (list of nearby dates)          ▼
      └──────────────────────────────────────────────────────────────────────────────── held
    awaiting_code ──code──▶ confirming_cancel ──yes/no──▶ idle

Every state decides what it still needs and asks only for that. "Hablar con una persona" pauses
the bot (handoff) from any state; repeated misunderstanding offers a person instead of looping.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import calendar_talk as cal
from alojamientos.conversation import replies as r
from alojamientos.conversation.messages import QUIET_KINDS, Button, Inbound, Reply, Row
from alojamientos.conversation.models import Conversation
from alojamientos.conversation.nlu import Parsed, parse
from alojamientos.conversation.service import conversations
from alojamientos.errors import AppError
from alojamientos.jobs.queue import enqueue
from alojamientos.kit.clock import local_today, utc_now
from alojamientos.ops.flags import flags
from alojamientos.pricing.rules import MinimumRule
from alojamientos.pricing.service import pricing
from alojamientos.reservations import repository
from alojamientos.reservations.errors import DatesUnavailable, InvalidTransition
from alojamientos.reservations.models import OCCUPYING, Accommodation, Reservation, ReservationSource
from alojamientos.reservations.service import NewStay, find_code
from alojamientos.reservations.service import reservation as reservation_service

log = logging.getLogger(__name__)

QUESTION_INTENTS = ("price", "services", "location", "checkin_info", "payment")
BLOCKING_INTENTS = {"reserve", "modify", "cancel", "payment", "checkin_info"}
YES = re.compile(r"^\s*(s[ií]|dale|confirm\w*|de una|ok|okey|listo)\b", re.IGNORECASE)
NO = re.compile(r"^\s*(no|nop|mejor no|dejalo)\b", re.IGNORECASE)
# Bare acknowledgements ("ok", "dale", "genial", an emoji): answered with a nod, not "no te entendí".
ACK = re.compile(
    r"^[\s!.]*(ok+|okey|oka|dale|s[ií]|bueno|buen[ií]simo|perfecto|genial|listo|joya|b[aá]rbaro|de una|"
    r"entendido|claro|espectacular|excelente|[^\w\s]{1,6})[\s!.]*$",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CREATE_PREFERENCE = "payments.create_preference"  # handled in payments.tasks
EMAIL_LATER = "reservation.email"  # handled in notifications.tasks
MAX_ALTERNATIVES = 5
ALTERNATIVE_SHIFTS = (1, -1, 2, -2, 3, -3, 7, -7, 14)
SERVICE_TOPICS = {
    "wifi": ("wifi", "wi-fi", "internet", "clave"),
    "mascotas": ("mascota", "perro", "perra", "gato", "perrito", "pet"),
    "estacionamiento": ("estacionamiento", "estacionar", "cochera", "auto", "garage"),
}


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
    mercadopago: bool = False
    announce: cal.Understood | None = None
    """A period this turn's stay was resolved from, said in dates before the first reply about it."""

    def get_date(self, key: str) -> date | None:
        value = self.data.get(key)
        return date.fromisoformat(value) if value else None

    def set_date(self, key: str, value: date | None) -> None:
        self.data[key] = value.isoformat() if value else None

    @property
    def state(self) -> str:
        return self.conversation.state

    @state.setter
    def state(self, value: str) -> None:
        self.conversation.state = value


def _menu() -> tuple[Button, ...]:
    return (
        Button("menu:availability", r.button("availability")),
        Button("menu:price", r.button("prices")),
        Button("menu:human", r.button("human")),
    )


class ConversationEngine:
    async def handle(
        self,
        session: AsyncSession,
        inbound: Inbound,
        *,
        mercadopago: bool = False,
        now: datetime | None = None,
    ) -> Turn:
        """One guest message in, the bot's replies out; the caller records and delivers them.

        `mercadopago`: whether a payment link can be offered (configured and its flag on).
        """
        conversation = await conversations.open(session, inbound.phone, inbound.profile_name)
        conversation.last_inbound_at = now or utc_now()
        turn = Turn(conversation)
        if conversation.bot_paused:
            return turn
        tz = await pricing.timezone(session)
        ctx = Ctx(conversation, dict(conversation.context), local_today(tz, now), tz, mercadopago)
        if inbound.media:  # an image or a document: the only kinds that can be a receipt
            held = await self._active_hold(session, ctx)
            if held:  # the channel downloads it and attaches it to the hold as a receipt
                turn.replies = [Reply(r.say("receipt_attached", code=held.code))]
            else:
                turn.replies = [Reply(r.say("media_received"))]
                await conversations.alert(
                    session, "guest_media", f"{inbound.phone} mandó un archivo", phone=inbound.phone
                )
        elif inbound.choice_id:
            turn.replies = await self._choice(session, ctx, inbound.choice_id)
        elif inbound.kind in ("text", "choice"):
            turn.replies = await self._text(session, ctx, inbound.text)
        else:
            turn.replies = await self._non_verbal(session, ctx, inbound)
        conversation.context = ctx.data  # a new dict, so SQLAlchemy sees the change
        return turn

    async def _non_verbal(self, session: AsyncSession, ctx: Ctx, inbound: Inbound) -> list[Reply]:
        """What a person at the desk would answer to something that is not text: often nothing.

        Never "no te entendí": the guest did nothing wrong. Voice notes and videos cannot be read
        (and are never receipts); the guest is asked to write what they need.
        """
        if inbound.kind in QUIET_KINDS:
            return []
        held = await self._active_hold(session, ctx)
        code = held.code if held else None
        if inbound.kind == "welcome":
            name = ctx.conversation.profile_name
            complex_name = (await pricing.settings(session)).complex_name
            return [
                Reply(r.say("welcome", name=name.split()[0] if name else None, complex=complex_name), _menu())
            ]
        if inbound.kind in ("order", "form"):
            await conversations.alert(
                session,
                f"guest_{inbound.kind}",
                f"{ctx.conversation.profile_name or inbound.phone} mandó "
                + ("un pedido" if inbound.kind == "order" else "un formulario completo"),
                phone=inbound.phone,
            )
            return [Reply(r.say(f"{inbound.kind}_received"))]
        if inbound.kind in ("audio", "video", "location", "contacts"):
            return [Reply(r.say(f"{inbound.kind}_received", code=code))]
        return [Reply(r.say("unsupported_received", code=code))]

    # -- free text ---------------------------------------------------------------------------------

    async def _text(self, session: AsyncSession, ctx: Ctx, text: str) -> list[Reply]:
        parsed = self._read_correction(ctx, parse(text, ctx.today), text)
        intents = set(parsed.intents)
        if "human" in intents:
            return await self._hand_off(session, ctx, text)
        if ctx.state == "confirming_cancel" and (YES.match(text) or NO.match(text)):
            return await self._answer_cancel(session, ctx, ctx.data.get("cancel_code"), bool(YES.match(text)))
        code = find_code(text)
        if "cancel" in intents or (ctx.state == "awaiting_code" and code):
            return await self._start_cancel(session, ctx, code)
        if ctx.state == "asking_name" and _looks_like_name(parsed, text):
            return await self._named(session, ctx, _clean_name(text))
        if ctx.state == "choosing_payment" and (method := _payment_method(text)):
            return await self._hold(session, ctx, ctx.data.get("name") or "", method)
        email = EMAIL.search(text)
        if email and ctx.data.get("hold_code"):
            return await self._save_email(session, ctx, email.group(0))

        question = cal.calendar_question(text, parsed)
        if question == "upcoming" or (question == "single" and not (ctx.data.get("guests") or parsed.guests)):
            return await self._calendar_answer(session, ctx, parsed, question)

        replies: list[Reply] = []
        changed = self._merge(ctx, parsed)
        self._note_period(ctx, parsed, changed)
        vague = None if parsed.check_in or parsed.check_out else cal.vague_period(text)
        for intent in QUESTION_INTENTS:
            if intent in intents and not (intent == "price" and self._stay_known(ctx)):
                replies.append(await self._answer(session, ctx, intent, text))
        # "¿podés ofrecer 31 noches?": a length alone is a stay question too (answered with the limits).
        wants_stay = changed or parsed.nights or intents & {"availability", "reserve", "modify"}
        if "price" in intents and self._stay_known(ctx):
            wants_stay = True
        if vague:
            replies += await self._ask(session, ctx, "dates", cal.vague_question(vague, ctx.today))
        elif wants_stay:
            if ctx.state == "choosing_unit" and not changed and "reserve" in intents:
                replies += await self._reserve_from_offer(session, ctx)
            else:
                replies += self._announced(ctx, await self._advance(session, ctx))
        if replies:
            ctx.data["misses"] = 0
            return replies
        if "thanks" in intents:
            return [Reply(r.say("thanks"))]
        if "greeting" in intents:
            ctx.data["misses"] = 0
            name = ctx.conversation.profile_name
            complex_name = (await pricing.settings(session)).complex_name
            return [
                Reply(r.say("welcome", name=name.split()[0] if name else None, complex=complex_name), _menu())
            ]
        if intents == {"other"} and ACK.match(text):
            if ctx.state == "asking_name":
                return [Reply(r.say("ask_name", **await self._chosen_summary(session, ctx)))]
            return [Reply(r.say("ack"))]
        return self._not_understood(ctx)

    def _merge(self, ctx: Ctx, parsed: Parsed) -> bool:
        """Folds new dates and party size into what we know; True when the stay changed."""
        before = (ctx.data.get("check_in"), ctx.data.get("check_out"), ctx.data.get("guests"))
        if parsed.check_in:
            ctx.set_date("check_in", parsed.check_in)
            ctx.set_date("check_out", parsed.check_out)  # a new arrival invalidates the old departure
            ctx.data["nights"] = parsed.nights if not parsed.check_out else None
        elif parsed.check_out:
            ctx.set_date("check_out", parsed.check_out)
        elif parsed.nights:
            ctx.data["nights"] = parsed.nights
            check_in = ctx.get_date("check_in")
            if check_in:
                ctx.set_date("check_out", check_in + timedelta(days=parsed.nights))
        if parsed.guests:
            ctx.data["guests"] = parsed.guests
        after = (ctx.data.get("check_in"), ctx.data.get("check_out"), ctx.data.get("guests"))
        return after != before

    def _stay_known(self, ctx: Ctx) -> bool:
        return bool(ctx.data.get("check_in") and ctx.data.get("check_out") and ctx.data.get("guests"))

    # -- taps on buttons and list rows --------------------------------------------------------------

    async def _choice(self, session: AsyncSession, ctx: Ctx, choice: str) -> list[Reply]:
        kind, _, value = choice.partition(":")
        if kind == "menu" and value == "human":
            return await self._hand_off(session, ctx, "botón «hablar con alguien»")
        if kind == "menu" and value == "price":
            return [await self._answer(session, ctx, "price", "")]
        if kind == "menu":  # availability, or "keep going with the bot"
            ctx.data.update(misses=0, asked=None)
            return await self._advance(session, ctx)
        if kind == "unit" and value.isdigit():
            return await self._choose_unit(session, ctx, int(value))
        if kind == "alt" and (stay := _parse_stay(value)):
            ctx.set_date("check_in", stay[0])
            ctx.set_date("check_out", stay[1])
            ctx.data["nights"] = None
            return await self._advance(session, ctx)
        if kind == "nights" and value.isdigit() and (check_in := ctx.get_date("check_in")):
            ctx.set_date("check_out", check_in + timedelta(days=int(value)))
            return await self._advance(session, ctx)
        if kind == "pay" and value in ("mercadopago", "transfer") and ctx.state == "choosing_payment":
            return await self._hold(session, ctx, ctx.data.get("name") or "", value)
        if kind in ("cancel_yes", "cancel_no"):
            return await self._answer_cancel(session, ctx, value, kind == "cancel_yes")
        return self._not_understood(ctx)

    # -- availability and offers --------------------------------------------------------------------

    async def _advance(self, session: AsyncSession, ctx: Ctx) -> list[Reply]:
        """Ask for the first missing piece, or offer what is free for the stay."""
        check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
        guests, nights = ctx.data.get("guests"), ctx.data.get("nights")
        if check_in and not check_out and nights:
            check_out = check_in + timedelta(days=nights)
            ctx.set_date("check_out", check_out)
        if check_out and not check_in and nights:
            check_in = check_out - timedelta(days=nights)
            ctx.set_date("check_in", check_in)
        ctx.state = "collecting"
        if check_in and check_in < ctx.today:
            ctx.data.update(check_in=None, check_out=None)
            return [Reply(r.say("past_dates"))]
        if check_in and check_out and check_out <= check_in:
            ctx.data.update(check_in=None, check_out=None)
            return [Reply(r.say("bad_range"))]
        limits = await pricing.stay_limits(session)
        asked = (check_out - check_in).days if check_in and check_out else nights
        if asked and asked > limits.max_nights:
            ctx.data.update(check_out=None, nights=None)
            return [Reply(r.say("stay_too_long", nights=asked, max_nights=limits.max_nights))]
        last = limits.last_check_out(ctx.today)
        if (check_in and check_in >= last) or (check_out and check_out > last):
            ctx.data.update(check_in=None, check_out=None)
            return [Reply(r.say("beyond_horizon", last=last))]
        if not check_in and not check_out:
            return await self._ask(
                session, ctx, "dates", Reply(r.say("ask_dates" if guests else "ask_everything"))
            )
        if not check_in:
            return await self._ask(session, ctx, "check_in", Reply(r.say("ask_check_in", nights=nights)))
        if not check_out:
            return await self._ask(
                session, ctx, "check_out", Reply(r.say("ask_check_out", check_in=check_in))
            )
        if not guests:
            return await self._ask(session, ctx, "guests", Reply(r.say("ask_guests")))
        return await self._offer(session, ctx, check_in, check_out, guests)

    async def _offer(
        self, session: AsyncSession, ctx: Ctx, check_in: date, check_out: date, guests: int
    ) -> list[Reply]:
        largest = await session.scalar(
            select(Accommodation.capacity).where(Accommodation.active).order_by(Accommodation.capacity.desc())
        )
        if largest is not None and guests > largest:
            return [Reply(r.say("too_many_guests", max=largest, guests=guests))]
        offers = await reservation_service.availability(session, check_in, check_out, guests)
        nights = (check_out - check_in).days
        ctx.data["asked"] = None
        if offers:
            ctx.state = "choosing_unit"
            ctx.data["offers"] = [o.accommodation.id for o in offers]
            items = [{"name": o.accommodation.name, "total": o.quote.total} for o in offers]
            rows = tuple(
                Row(
                    f"unit:{o.accommodation.id}",
                    _fit(o.accommodation.name, 24),
                    _fit(
                        r.say(
                            "offer_row",
                            "description",
                            total=o.quote.total,
                            nights=nights,
                            capacity=o.accommodation.capacity,
                        ),
                        72,
                    ),
                )
                for o in offers[:10]
            )
            period, ctx.announce = (ctx.announce.says() if ctx.announce else None), None
            text = r.say(
                "offer",
                guests=guests,
                check_in=check_in,
                check_out=check_out,
                nights=nights,
                offers=items,
                period=period,
            )
            return [Reply(text, rows=rows, list_button=r.say("offer", "list_button"))]
        minimum = await self._blocking_min_nights(session, check_in, check_out, guests)
        if minimum:
            min_nights = minimum.nights
            button = Button(f"nights:{min_nights}", _fit(f"Buscar {min_nights} noches", 20))
            text = r.say(
                "min_nights",
                check_in=check_in,
                min_nights=min_nights,
                rule=minimum.kind,
                season=minimum.name,
                first=minimum.first,
                last=minimum.last,
            )
            return [Reply(text, (button,))]
        alternatives = await self._alternatives(session, ctx, check_in, check_out, guests)
        rows = tuple(
            Row(
                f"alt:{a_in.isoformat()}:{a_out.isoformat()}",
                _fit(r.say("alternative_row", "title", check_in=a_in, check_out=a_out), 24),
                _fit(r.say("alternative_row", "description", count=count, total=total), 72),
            )
            for a_in, a_out, count, total in alternatives
        )
        text = r.say(
            "none_free", guests=guests, check_in=check_in, check_out=check_out, alternatives=bool(rows)
        )
        return [Reply(text, rows=rows, list_button=r.say("none_free", "list_button"))]

    async def _blocking_min_nights(
        self, session: AsyncSession, check_in: date, check_out: date, guests: int
    ) -> MinimumRule | None:
        """When units are free but the stay is shorter than their minimum, that minimum and its rule."""
        for unit in await session.scalars(repository.free_units(check_in, check_out, guests)):
            quote = await reservation_service.quote(session, unit, check_in, check_out, guests)
            if not quote.meets_min_nights:
                return quote.minimum or MinimumRule(quote.min_nights, "default")
        return None

    async def _alternatives(
        self, session: AsyncSession, ctx: Ctx, check_in: date, check_out: date, guests: int
    ) -> list[tuple[date, date, int, Any]]:
        nights = check_out - check_in
        limits = await pricing.stay_limits(session)
        found = []
        for shift in ALTERNATIVE_SHIFTS:
            start = check_in + timedelta(days=shift)
            if start < ctx.today or start + nights > limits.last_check_out(ctx.today):
                continue
            offers = await reservation_service.availability(session, start, start + nights, guests)
            if offers:
                found.append((start, start + nights, len(offers), min(o.quote.total for o in offers)))
            if len(found) == MAX_ALTERNATIVES:
                break
        return sorted(found)

    async def _reserve_from_offer(self, session: AsyncSession, ctx: Ctx) -> list[Reply]:
        offers = ctx.data.get("offers") or []
        if len(offers) == 1:
            return await self._choose_unit(session, ctx, offers[0])
        return [Reply(r.say("which_unit"))] + await self._advance(session, ctx)

    async def _choose_unit(self, session: AsyncSession, ctx: Ctx, unit_id: int) -> list[Reply]:
        if not self._stay_known(ctx):
            return await self._advance(session, ctx)
        ctx.data["unit_id"] = unit_id
        ctx.state = "asking_name"
        try:
            summary = await self._chosen_summary(session, ctx)
        except AppError:
            return await self._advance(session, ctx)
        return [Reply(r.say("ask_name", **summary))]

    async def _chosen_summary(self, session: AsyncSession, ctx: Ctx) -> dict[str, Any]:
        unit = await reservation_service.accommodation(session, ctx.data["unit_id"])
        check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
        assert check_in and check_out
        quote = await reservation_service.quote(session, unit, check_in, check_out, ctx.data["guests"])
        return {"unit": unit.name, "check_in": check_in, "check_out": check_out, "total": quote.total}

    # -- the hold ----------------------------------------------------------------------------------

    async def _named(self, session: AsyncSession, ctx: Ctx, name: str) -> list[Reply]:
        """With a name, hold now (transfer only) or first ask how they will pay."""
        if not ctx.mercadopago or not await flags.enabled(session, "mercadopago"):
            return await self._hold(session, ctx, name, "transfer")
        ctx.data["name"] = name
        ctx.state = "choosing_payment"
        buttons = (
            Button("pay:mercadopago", r.button("pay_mercadopago")),
            Button("pay:transfer", r.button("pay_transfer")),
        )
        return [Reply(r.say("ask_payment_method"), buttons)]

    async def _save_email(self, session: AsyncSession, ctx: Ctx, email: str) -> list[Reply]:
        held = await self._active_hold(session, ctx)
        if held is None:
            return self._not_understood(ctx)
        held.guest_email = email.lower()
        await enqueue(
            session,
            EMAIL_LATER,
            {"code": held.code, "template": "hold_created"},
            dedupe_key=f"email-later:{held.code}:{email.lower()}",
        )
        return [Reply(r.say("email_saved", email=email.lower()))]

    async def _hold(self, session: AsyncSession, ctx: Ctx, name: str, method: str) -> list[Reply]:
        check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
        unit_id, guests = ctx.data.get("unit_id"), ctx.data.get("guests")
        if not (check_in and check_out and unit_id and guests):
            return await self._advance(session, ctx)
        stay = NewStay(
            accommodation_id=unit_id,
            check_in=check_in,
            check_out=check_out,
            guests=guests,
            guest_name=name,
            guest_phone=ctx.conversation.phone,
            source=ReservationSource.whatsapp,
            payment_method=method,
        )
        unit = await reservation_service.accommodation(session, unit_id)
        try:
            held = await reservation_service.hold(session, stay, actor="guest:whatsapp")
        except DatesUnavailable:
            log.info("conversation.hold_lost_race", extra={"unit": unit_id})
            return [Reply(r.say("taken", unit=unit.name))] + await self._advance(session, ctx)
        except AppError as exc:
            log.info("conversation.hold_refused", extra={"code": exc.code})
            return await self._advance(session, ctx)
        replies = [
            Reply(
                r.say(
                    "held",
                    name=name.split()[0],
                    unit=unit.name,
                    check_in=check_in,
                    check_out=check_out,
                    guests=guests,
                    code=held.code,
                    total=held.total_amount,
                    deposit=held.deposit_amount,
                    expires_at=held.expires_at.astimezone(ctx.tz) if held.expires_at else None,
                    payment=await self._payment_text(session, ctx, method),
                )
            )
        ]
        if method == "mercadopago":
            await enqueue(
                session, CREATE_PREFERENCE, {"code": held.code}, dedupe_key=f"preference:{held.code}"
            )
        previous = ctx.data.get("hold_code")
        if previous and await self._cancel_if_held(session, ctx, previous, reason=f"replaced by {held.code}"):
            replies.append(Reply(r.say("replaced", code=previous)))
        ctx.data.update(hold_code=held.code, name=name, offers=None, unit_id=None)
        ctx.state = "held"
        return replies

    async def _payment_text(self, session: AsyncSession, ctx: Ctx, method: str) -> str:
        if method == "mercadopago":
            return r.say("pay_mercadopago")
        details = (await pricing.settings(session)).bank_transfer_details.strip()
        if details:
            return r.say("pay_transfer", details=details)
        await conversations.alert(
            session,
            "missing_bank_details",
            "Un huésped necesita los datos para transferir y no están cargados en Ajustes",
            phone=ctx.conversation.phone,
        )
        return r.say("pay_transfer_pending")

    # -- questions ---------------------------------------------------------------------------------

    async def _answer(self, session: AsyncSession, ctx: Ctx, intent: str, text: str) -> Reply:
        policy = await pricing.settings(session)
        answers = await conversations.answers(session)
        if intent == "price":
            cheapest = await session.scalar(
                select(Accommodation.base_price)
                .where(Accommodation.active)
                .order_by(Accommodation.base_price)
            )
            return Reply(r.say("price_general", from_price=cheapest or 0))
        if intent == "payment":
            if re.search(r"\b(ya )?(te )?(pagu|transfer[ií]|deposit)", text, re.IGNORECASE):
                await conversations.alert(
                    session,
                    "payment_claimed",
                    f"{ctx.conversation.phone} dice que ya pagó la seña",
                    phone=ctx.conversation.phone,
                    code=ctx.data.get("hold_code"),
                )
                return Reply(r.say("payment_claimed"))
            held = await self._active_hold(session, ctx)
            return Reply(
                r.say(
                    "payment_info",
                    percent=_percent(policy.deposit_percent),
                    transfer=True,
                    code=held.code if held else None,
                    deposit=held.deposit_amount if held else 0,
                )
            )
        if intent == "checkin_info":
            return Reply(
                r.say(
                    "checkin_info",
                    check_in_time=policy.check_in_time,
                    check_out_time=policy.check_out_time,
                    extra=answers.get("checkin", ""),
                )
            )
        if intent == "location":
            return Reply(r.say("answer", text=answers.get("ubicacion", "")))
        lowered = text.lower()
        for topic, words in SERVICE_TOPICS.items():
            if any(w in lowered for w in words) and topic in answers:
                return Reply(r.say("answer", text=answers[topic]))
        return Reply(r.say("answer", text=answers.get("servicios", "")))

    # -- cancel by code ----------------------------------------------------------------------------

    async def _start_cancel(self, session: AsyncSession, ctx: Ctx, code: str | None) -> list[Reply]:
        code = code or (ctx.data.get("hold_code") if ctx.state == "held" else None)
        if not code:
            ctx.state = "awaiting_code"
            return [Reply(r.say("cancel_ask_code"))]
        found = await self._guest_reservation(session, ctx, code)
        if found is None:
            ctx.state = "idle"
            return [Reply(r.say("cancel_not_found", code=code))]
        unit = await reservation_service.accommodation(session, found.accommodation_id)
        ctx.state = "confirming_cancel"
        ctx.data["cancel_code"] = code
        buttons = (
            Button(f"cancel_yes:{code}", r.button("cancel_yes")),
            Button(f"cancel_no:{code}", r.button("cancel_no")),
        )
        return [
            Reply(
                r.say(
                    "cancel_confirm",
                    code=code,
                    unit=unit.name,
                    check_in=found.check_in,
                    check_out=found.check_out,
                ),
                buttons,
            )
        ]

    async def _answer_cancel(
        self, session: AsyncSession, ctx: Ctx, code: str | None, yes: bool
    ) -> list[Reply]:
        ctx.state = "idle"
        ctx.data["cancel_code"] = None
        if not code:
            return self._not_understood(ctx)
        if not yes:
            return [Reply(r.say("cancel_kept", code=code))]
        if not await self._cancel_if_held(session, ctx, code, reason="the guest cancelled on WhatsApp"):
            return [Reply(r.say("cancel_not_found", code=code))]
        if ctx.data.get("hold_code") == code:
            ctx.data["hold_code"] = None
        policy = (await pricing.settings(session)).cancellation_policy.strip()
        return [Reply(r.say("cancelled", code=code, policy=policy))]

    async def _cancel_if_held(self, session: AsyncSession, ctx: Ctx, code: str, *, reason: str) -> bool:
        if await self._guest_reservation(session, ctx, code) is None:
            return False
        try:
            await reservation_service.cancel(session, code, actor="guest:whatsapp", reason=reason)
        except InvalidTransition:
            return False
        return True

    async def _guest_reservation(self, session: AsyncSession, ctx: Ctx, code: str) -> Reservation | None:
        """Only the guest's own occupying reservation: a code alone is not enough to cancel."""
        return await session.scalar(
            repository.by_code(code).where(
                Reservation.guest_phone == ctx.conversation.phone, Reservation.status.in_(OCCUPYING)
            )
        )

    async def _active_hold(self, session: AsyncSession, ctx: Ctx) -> Reservation | None:
        code = ctx.data.get("hold_code")
        return await self._guest_reservation(session, ctx, code) if code else None

    # -- the calendar: named periods said in dates, corrections, long weekends (issue 15) -----------

    def _read_correction(self, ctx: Ctx, parsed: Parsed, text: str) -> Parsed:
        """ "llegamos el sábado" after a named period: that Saturday of the period, departure kept."""
        understood = cal.Understood.from_json(ctx.data.get("period"))
        check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
        if understood is None or check_in is None or check_out is None:
            return parsed
        return cal.corrected(parsed, text, understood, check_in, check_out)

    def _note_period(self, ctx: Ctx, parsed: Parsed, changed: bool) -> None:
        """Remembers the period the stay came from (to say it, and to read corrections against it)."""
        if changed:
            ctx.data["asked"] = None  # the guest answered something: a repeated question is not stuck
        check_in, check_out = ctx.get_date("check_in"), ctx.get_date("check_out")
        if parsed.period is not None and check_in == parsed.check_in and check_in and check_out:
            understood = replace(
                cal.Understood.from_period(parsed.period), check_in=check_in, check_out=check_out
            )
            ctx.data["period"] = understood.as_json()
            ctx.announce = understood
            return
        kept = cal.Understood.from_json(ctx.data.get("period"))
        if changed and kept is not None and not kept.near(check_in, check_out):
            ctx.data["period"] = None  # a stay unrelated to the period: corrections no longer refer to it

    def _announced(self, ctx: Ctx, replies: list[Reply]) -> list[Reply]:
        """The first reply about a stay just resolved from a period opens by saying it in dates."""
        if ctx.announce is None or not replies:
            return replies
        first, ctx.announce = cal.announce(replies[0], ctx.announce), None
        return [first, *replies[1:]]

    async def _calendar_answer(
        self, session: AsyncSession, ctx: Ctx, parsed: Parsed, question: cal.Question
    ) -> list[Reply]:
        """ "¿Cuándo es el próximo finde largo?": the next long weekends with their free units;
        "¿cuándo es carnaval?": that period, kept as the stay so "somos 2" goes on to the offer."""
        ctx.data["misses"] = 0
        if question == "single" and parsed.period is not None:
            self._merge(ctx, parsed)
            self._note_period(ctx, parsed, True)
            stays = [ctx.announce] if ctx.announce else []
            ctx.announce = None
            ctx.state = "collecting"
        else:
            self._merge(ctx, replace(parsed, check_in=None, check_out=None, nights=None))
            stays = cal.upcoming(ctx.today)
        if not stays:
            return await self._advance(session, ctx)
        return [await cal.weekends_reply(session, stays, ctx.data.get("guests"))]

    async def _ask(self, session: AsyncSession, ctx: Ctx, topic: str, question: Reply) -> list[Reply]:
        """Asks for `topic` (dates, check_in, check_out, guests), never a third time in a row.

        The third time the bot offers a person instead (the "hablar con alguien" buttons); if the
        guest still answers nothing new, it hands off (the operator is alerted, the bot pauses).
        """
        asked = ctx.data.get("asked") or {}
        times = int(asked.get("times") or 0) + 1 if asked.get("topic") == topic else 1
        ctx.data["asked"] = {"topic": topic, "times": times}
        if times < 3:
            return [question]
        log.info("conversation.same_question", extra={"topic": topic, "times": times})
        ctx.announce = None  # the offer of a person is not about the period
        if times > 3:
            return await self._hand_off(
                session, ctx, "el bot preguntó lo mismo tres veces sin poder resolverlo"
            )
        buttons = (Button("menu:human", r.button("human_yes")), Button("menu:bot", r.button("keep_bot")))
        return [Reply(r.say("same_question_again"), buttons)]

    # -- people ------------------------------------------------------------------------------------

    async def _hand_off(self, session: AsyncSession, ctx: Ctx, reason: str) -> list[Reply]:
        await conversations.hand_off(session, ctx.conversation, reason)
        ctx.data["misses"] = 0
        return [Reply(r.say("handoff"))]

    def _not_understood(self, ctx: Ctx) -> list[Reply]:
        misses = int(ctx.data.get("misses") or 0) + 1
        ctx.data["misses"] = misses
        if misses >= 2:
            buttons = (Button("menu:human", r.button("human_yes")), Button("menu:bot", r.button("keep_bot")))
            return [Reply(r.say("not_understood_again"), buttons)]
        return [Reply(r.say("not_understood"), _menu())]


def _parse_stay(value: str) -> tuple[date, date] | None:
    """`2027-03-11:2027-03-14` from a list row id; None for anything else (ids come from outside)."""
    arrival, _, departure = value.partition(":")
    try:
        return date.fromisoformat(arrival), date.fromisoformat(departure)
    except ValueError:
        return None


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _percent(value: Any) -> str:
    return f"{value:f}".rstrip("0").rstrip(".")


def _looks_like_name(parsed: Parsed, text: str) -> bool:
    words = _clean_name(text).split()
    return (
        0 < len(words) <= 5
        and not (parsed.check_in or parsed.check_out or parsed.guests)
        and set(parsed.intents) <= {"other", "greeting", "thanks"}
        and all(w.replace("-", "").replace("'", "").isalpha() for w in words)
    )


def _payment_method(text: str) -> str | None:
    lowered = text.lower()
    if "mercado" in lowered or "link" in lowered or "tarjeta" in lowered:
        return "mercadopago"
    if "transfer" in lowered or "cbu" in lowered or "alias" in lowered:
        return "transfer"
    return None


_NAME_PREFIX = re.compile(
    r"^\s*(?:(?:hola|buenas)[,!.\s]+)?(?:a nombre de|me llamo|mi nombre es|soy|es|de)\s+", re.IGNORECASE
)


def _clean_name(text: str) -> str:
    name = _NAME_PREFIX.sub("", text.strip()).strip(" .,!¡")
    return " ".join(w if any(c.isupper() for c in w) else w.capitalize() for w in name.split())


engine = ConversationEngine()
