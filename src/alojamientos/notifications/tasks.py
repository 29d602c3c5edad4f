"""Telling people: one job per reservation event (guest by WhatsApp and e-mail, operator by e-mail),
operator e-mails for urgent alerts, and the timed messages (hold reminder, check-in instructions).

Each handler queues its messages and marks itself done in one transaction (`complete_in`), so a
worker that dies mid-way sends nothing twice and loses nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.config import Settings
from alojamientos.conversation import replies as r
from alojamientos.conversation.messages import Reply
from alojamientos.conversation.service import conversations
from alojamientos.jobs.queue import enqueue
from alojamientos.jobs.worker import JobContext, Worker, every, handler
from alojamientos.kit.clock import local_today
from alojamientos.notifications.alerts import ALERT_NOTIFY, EMAILED
from alojamientos.notifications.context import base_context, reservation_context
from alojamientos.notifications.email import queue_email
from alojamientos.notifications.models import OperatorAlert
from alojamientos.notifications.service import (
    RESEND_CONFIRMATION,
    RESEND_PAYMENT_REQUEST,
    reaches_by_whatsapp,
)
from alojamientos.payments.tasks import request_payment_link
from alojamientos.pricing.service import pricing
from alojamientos.reservations import transitions
from alojamientos.reservations.events import NOTIFY, STAY_CHANGED
from alojamientos.reservations.models import (
    OCCUPYING,
    Accommodation,
    Reservation,
    ReservationEvent,
    ReservationStatus,
)

log = logging.getLogger(__name__)
REMIND = "reservation.remind"
CHECKIN = "reservation.checkin"
EMAIL_LATER = "reservation.email"


async def _whatsapp(session: AsyncSession, reservation: Reservation, text: str) -> None:
    if reservation.guest_phone and reaches_by_whatsapp(reservation):
        conversation = await conversations.open(session, reservation.guest_phone)
        await conversations.send(session, conversation, Reply(text))


async def _guest_email(
    session: AsyncSession, settings: Settings, reservation: Reservation, template: str, key: str, **extra: Any
) -> None:
    if reservation.guest_email:
        context = await reservation_context(session, settings, reservation, **extra)
        await queue_email(
            session,
            settings,
            to=reservation.guest_email,
            template=template,
            context=context,
            dedupe_key=f"email:{template}:{key}",
        )


async def _operator_email(
    session: AsyncSession, settings: Settings, reservation: Reservation, template: str, key: str, **extra: Any
) -> None:
    context = await reservation_context(session, settings, reservation, **extra)
    await queue_email(
        session, settings, to=None, template=template, context=context, dedupe_key=f"email:{template}:{key}"
    )


@handler(NOTIFY)
async def notify(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.session_scope() as session:
        event = await session.get(ReservationEvent, int(payload["event_id"]))
        if event is None:
            return
        reservation = await session.get_one(Reservation, event.reservation_id)
        await _dispatch(session, ctx.settings, event, reservation)
        await ctx.complete_in(session)


async def _dispatch(
    session: AsyncSession, settings: Settings, event: ReservationEvent, stay: Reservation
) -> None:
    key = str(event.id)
    unit = await session.get_one(Accommodation, stay.accommodation_id)
    policy = await pricing.settings(session)
    payment = event.data or {}
    payment_extra = (
        {"payment_amount": Decimal(payment["amount"]), "payment_method": payment.get("method")}
        if "amount" in payment
        else {}
    )
    facts: dict[str, Any] = {
        "code": stay.code,
        "unit": unit.name,
        "check_in": stay.check_in,
        "check_out": stay.check_out,
        "guests": stay.guests,
        "paid": stay.paid_amount,
        "due": max(Decimal(0), stay.total_amount - stay.paid_amount),
        "check_in_time": policy.check_in_time,
        "policy": policy.cancellation_policy.strip(),
    }
    to = event.to_status
    if event.from_status is None and to == ReservationStatus.pre_reserved.value:
        if not event.actor.startswith("guest:"):
            # A hold made by hand: the guest gets the message the bot sends after a chat hold.
            await _payment_request(session, stay, unit.name)
        if stay.payment_method == "mercadopago":
            # The link job sends that guest's e-mail, link included. Holds made in the chat queued it
            # already (same key); holds made in the panel get theirs here.
            await request_payment_link(session, stay.code)
        else:
            await _guest_email(session, settings, stay, "hold_created", key)
        await _operator_email(session, settings, stay, "op_new_hold", key)
    elif (
        to == event.from_status == ReservationStatus.pre_reserved.value
        and event.reason == RESEND_PAYMENT_REQUEST
    ):
        if stay.status != ReservationStatus.pre_reserved.value:
            return  # confirmed, cancelled or expired since the operator asked: nothing to pay now
        await _payment_request(session, stay, unit.name)
        if stay.payment_method == "mercadopago" and not stay.payment_link:
            await request_payment_link(session, stay.code, attempt=event.id)  # sends the link by itself
        else:
            await _guest_email(session, settings, stay, "hold_created", key)
    elif to == event.from_status == ReservationStatus.confirmed.value and event.reason == RESEND_CONFIRMATION:
        # An operator asked for it: a new send, keyed on this event (the original stays at most once).
        await _whatsapp(session, stay, r.say("notify_confirmed", **facts))
        await _guest_email(session, settings, stay, "confirmed", key)
    elif to == ReservationStatus.confirmed.value and event.from_status != to:
        await _whatsapp(session, stay, r.say("notify_confirmed", **facts))
        await _guest_email(session, settings, stay, "confirmed", key)
        if payment_extra:
            await _operator_email(session, settings, stay, "op_payment_received", key, **payment_extra)
    elif to == event.from_status and event.reason == STAY_CHANGED:
        # The row holds the stay as it is now; keyed on this event, like every other message. A stay
        # cancelled or expired since then gets that news instead, from its own event.
        if stay.status not in OCCUPYING:
            return
        changed = await _changed_facts(session, stay)
        await _whatsapp(session, stay, r.say("notify_changed", **facts, **changed))
        await _guest_email(session, settings, stay, "changed", key)
        before, after = (event.data or {}).get("before", {}), (event.data or {}).get("after", {})
        if (
            stay.status == ReservationStatus.pre_reserved.value
            and stay.payment_method == "mercadopago"
            and before.get("deposit") != after.get("deposit")
        ):
            # The old link charges the old deposit: a new one replaces it (sent by WhatsApp).
            stay.payment_link = stay.provider_reference = None
            await request_payment_link(session, stay.code, attempt=event.id)
    elif to == event.from_status and event.reason == "payment" and payment_extra:
        await _operator_email(session, settings, stay, "op_payment_received", key, **payment_extra)
    elif to == ReservationStatus.expired.value:
        await _whatsapp(session, stay, r.say("notify_expired", code=stay.code))
        await _guest_email(session, settings, stay, "hold_expired", key)
    elif to == ReservationStatus.cancelled.value:
        if not event.actor.startswith("guest:"):  # a guest who cancelled in the chat was already told there
            await _whatsapp(session, stay, r.say("notify_cancelled", code=stay.code, policy=facts["policy"]))
        # Only an operator's own words reach the guest; system reasons are for the timeline.
        reason = event.reason if event.actor.startswith("operator:") else None
        await _guest_email(session, settings, stay, "cancelled", key, reason=reason)


async def _payment_request(session: AsyncSession, stay: Reservation, unit_name: str) -> None:
    """The hold's WhatsApp message: deposit, deadline and how to pay (bank details, or the Mercado Pago
    link once it exists; the link job sends it otherwise)."""
    if stay.status != ReservationStatus.pre_reserved.value or not reaches_by_whatsapp(stay):
        return
    if stay.payment_method == "mercadopago":
        payment = (
            r.say("pay_mercadopago_link", link=stay.payment_link)
            if stay.payment_link
            else r.say("pay_mercadopago")
        )
    else:
        # Without bank details the guest is told they will come; the panel warns the operator about
        # them on the dashboard and in Ajustes for as long as they are missing.
        details = (await pricing.settings(session)).bank_transfer_details.strip()
        payment = r.say("pay_transfer", details=details) if details else r.say("pay_transfer_pending")
    tz = await pricing.timezone(session)
    text = r.say(
        "notify_held",
        name=stay.guest_name.split()[0] if stay.guest_name.strip() else "",
        unit=unit_name,
        check_in=stay.check_in,
        check_out=stay.check_out,
        guests=stay.guests,
        code=stay.code,
        total=stay.total_amount,
        deposit=max(Decimal(0), stay.deposit_amount - stay.paid_amount),
        expires_at=stay.expires_at.astimezone(tz) if stay.expires_at else None,
        payment=payment,
    )
    await _whatsapp(session, stay, text)


async def _changed_facts(session: AsyncSession, stay: Reservation) -> dict[str, Any]:
    """What a changed stay's message adds: the new price and, for a hold, what confirms it and until when."""
    held = stay.status == ReservationStatus.pre_reserved.value
    expires_at = stay.expires_at.astimezone(await pricing.timezone(session)) if stay.expires_at else None
    return {
        "nights": (stay.check_out - stay.check_in).days,
        "total": stay.total_amount,
        "held": held,
        "deposit_due": max(Decimal(0), stay.deposit_amount - stay.paid_amount),
        "expires_at": expires_at if held else None,
    }


@handler(ALERT_NOTIFY)
async def alert_email(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.session_scope() as session:
        alert = await session.get(OperatorAlert, int(payload["alert_id"]))
        if alert is None or alert.kind not in EMAILED:
            return
        data = alert.data or {}
        stay = None
        if data.get("code"):
            stay = await session.scalar(select(Reservation).where(Reservation.code == data["code"]))
        extra = {
            "reason": data.get("reason") or alert.message,
            "payment_status": data.get("payment_status"),
            "payment_amount": Decimal(data["amount"]) if data.get("amount") else None,
            "payment_method": "mercadopago" if data.get("payment_id") else None,
        }
        if stay is not None:
            context = await reservation_context(session, ctx.settings, stay, **extra)
        else:
            context = await base_context(session, ctx.settings)
            context.update(extra, guest_name=data.get("name") or "", guest_phone=data.get("phone"))
        await queue_email(
            session,
            ctx.settings,
            to=None,
            template=EMAILED[alert.kind],
            context=context,
            dedupe_key=f"email:alert:{alert.id}",
        )
        await ctx.complete_in(session)


@handler(EMAIL_LATER)
async def email_later(ctx: JobContext, payload: dict[str, Any]) -> None:
    """An e-mail the guest asked for after the fact (they gave their address once the hold existed)."""
    async with ctx.db.session_scope() as session:
        stay = await session.scalar(select(Reservation).where(Reservation.code == payload["code"]))
        if stay is None or stay.status not in (ReservationStatus.pre_reserved, ReservationStatus.confirmed):
            return
        template = (
            "confirmed" if stay.status == ReservationStatus.confirmed.value else str(payload["template"])
        )
        await _guest_email(session, ctx.settings, stay, template, f"later:{stay.guest_email}")
        await ctx.complete_in(session)


@handler(REMIND)
async def remind(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.session_scope() as session:
        stay = await session.scalar(select(Reservation).where(Reservation.code == payload["code"]))
        if stay is None or stay.status != ReservationStatus.pre_reserved.value or stay.expires_at is None:
            return
        tz = await pricing.timezone(session)
        await _whatsapp(
            session,
            stay,
            r.say(
                "notify_reminder",
                code=stay.code,
                deposit=stay.deposit_amount,
                expires_at=stay.expires_at.astimezone(tz),
                payment_link=stay.payment_link,
            ),
        )
        await _guest_email(session, ctx.settings, stay, "hold_reminder", stay.code)
        await ctx.complete_in(session)


@handler(CHECKIN)
async def checkin_instructions(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.session_scope() as session:
        stay = await session.scalar(select(Reservation).where(Reservation.code == payload["code"]))
        if stay is None or stay.status != ReservationStatus.confirmed.value:
            return
        unit = await session.get_one(Accommodation, stay.accommodation_id)
        policy = await pricing.settings(session)
        due = max(Decimal(0), stay.total_amount - stay.paid_amount)
        await _whatsapp(
            session,
            stay,
            r.say(
                "notify_checkin",
                check_in=stay.check_in,
                unit=unit.name,
                check_in_time=policy.check_in_time,
                instructions=unit.check_in_instructions.strip(),
                due=due,
            ),
        )
        await _guest_email(session, ctx.settings, stay, "checkin_instructions", stay.code)
        await ctx.complete_in(session)


@every(60, "reservations.hold_reminders")
async def hold_reminders(worker: Worker, now: datetime) -> None:
    """Once per hold, when less than a third of its window is left."""
    async with worker.db.session_scope() as session:
        due = await session.scalars(
            select(Reservation.code).where(
                Reservation.status == ReservationStatus.pre_reserved.value,
                Reservation.expires_at > now,
                text("(expires_at - :now) * 3 < expires_at - created_at").bindparams(now=now),
            )
        )
        for code in due:
            await enqueue(session, REMIND, {"code": code}, dedupe_key=f"remind:{code}")


@every(600, "reservations.checkin_and_completion")
async def checkin_and_completion(worker: Worker, now: datetime) -> None:
    """Check-in instructions N days before arrival; confirmed stays become completed after check-out."""
    async with worker.db.session_scope() as session:
        policy = await pricing.settings(session)
        today = local_today(await pricing.timezone(session), now)
        arriving = await session.scalars(
            select(Reservation.code).where(
                Reservation.status == ReservationStatus.confirmed.value,
                Reservation.check_in > today - timedelta(days=1),
                Reservation.check_in <= today + timedelta(days=policy.checkin_instructions_days_before),
            )
        )
        for code in arriving:
            await enqueue(session, CHECKIN, {"code": code}, dedupe_key=f"checkin:{code}")
        finished = await session.scalars(
            select(Reservation.code).where(
                Reservation.status == ReservationStatus.confirmed.value, Reservation.check_out <= today
            )
        )
        for code in list(finished):
            await transitions.complete(session, code)
