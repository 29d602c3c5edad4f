"""Worker jobs for Mercado Pago: create the checkout link for a hold; fetch and apply a notified payment."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import replies as r
from alojamientos.conversation.messages import Reply
from alojamientos.conversation.service import conversations
from alojamientos.jobs.queue import enqueue
from alojamientos.jobs.worker import JobContext, handler
from alojamientos.kit.clock import utc_now
from alojamientos.notifications.context import reservation_context
from alojamientos.notifications.email import queue_email
from alojamientos.observability.metrics import MERCADOPAGO_NOTIFICATIONS
from alojamientos.payments.mercadopago.client import MercadoPagoClient, MercadoPagoNotFound
from alojamientos.payments.models import ExternalEvent
from alojamientos.payments.service import payments
from alojamientos.pricing.service import pricing
from alojamientos.reservations.models import Accommodation, Reservation, ReservationStatus

log = logging.getLogger(__name__)
CREATE_PREFERENCE = "payments.create_preference"
FETCH_PAYMENT = "payments.mercadopago"
FETCH_MERCHANT_ORDER = "payments.mercadopago.merchant_order"


async def request_payment_link(session: AsyncSession, code: str, *, attempt: int | None = None) -> None:
    """Queues the hold's Mercado Pago link; `attempt` (a timeline event) asks for a new one after a change."""
    suffix = f":{attempt}" if attempt is not None else ""
    payload: dict[str, Any] = {"code": code} if attempt is None else {"code": code, "attempt": attempt}
    await enqueue(session, CREATE_PREFERENCE, payload, dedupe_key=f"preference:{code}{suffix}")


@handler(CREATE_PREFERENCE)
async def create_preference(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The guest's Mercado Pago link for the deposit, expiring with the hold; sent by WhatsApp and e-mail."""
    code = str(payload["code"])
    async with ctx.db.session_scope() as session:
        held = await session.scalar(select(Reservation).where(Reservation.code == code))
        if held is None or held.status != ReservationStatus.pre_reserved.value or held.expires_at is None:
            return
        if held.payment_link:
            return
        unit = await session.get_one(Accommodation, held.accommodation_id)
        tz = await pricing.timezone(session)
        title = (
            (
                f"Seña {held.deposit_amount / held.total_amount:.0%} – {unit.name} – "
                f"{held.check_in:%d/%m}→{held.check_out:%d/%m}"
            )
            if held.total_amount
            else f"Seña {code}"
        )
        expires_at, deposit, email = held.expires_at.astimezone(tz), held.deposit_amount, held.guest_email
    preference = await MercadoPagoClient(ctx.settings, ctx.http).create_preference(
        code=code,
        title=title,
        amount=deposit,
        expires_at=expires_at,
        payer_email=email,
        attempt_key=f"pref-{code}" + (f"-{payload['attempt']}" if payload.get("attempt") else ""),
    )
    link = str(preference["init_point"])
    async with ctx.db.session_scope() as session:
        held = await session.scalar(select(Reservation).where(Reservation.code == code).with_for_update())
        assert held is not None
        held.payment_link, held.provider_reference = link, str(preference.get("id") or "")
        if held.guest_phone:
            conversation = await conversations.open(session, held.guest_phone)
            text = r.say("payment_link", code=code, deposit=deposit, link=link, expires_at=expires_at)
            await conversations.send(session, conversation, Reply(text))
        if held.guest_email:
            context = await reservation_context(session, ctx.settings, held)
            await queue_email(
                session,
                ctx.settings,
                to=held.guest_email,
                template="hold_created",
                context=context,
                dedupe_key=f"email:hold_created:{code}",
            )
        await ctx.complete_in(session)


@handler(FETCH_PAYMENT)
async def fetch_payment(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The notification was only a trigger: the payment itself is fetched and checked here."""
    payment_id = str(payload["payment_id"])
    try:
        fetched = [await MercadoPagoClient(ctx.settings, ctx.http).payment(payment_id)]
    except MercadoPagoNotFound:
        if not payload.get("hint"):
            raise  # Mercado Pago signed it yet cannot show it: a person should look (dead letter)
        fetched = _not_ours("payment", payment_id)
    await _reconcile(ctx, payload, fetched)


@handler(FETCH_MERCHANT_ORDER)
async def fetch_merchant_order(ctx: JobContext, payload: dict[str, Any]) -> None:
    """A merchant order (Checkout Pro's order behind a preference): each of its payments is fetched
    on its own, since the order only summarises them, and reconciled like a notified payment."""
    order_id = str(payload["merchant_order_id"])
    client = MercadoPagoClient(ctx.settings, ctx.http)
    try:
        order = await client.merchant_order(order_id)
    except MercadoPagoNotFound:
        if not payload.get("hint"):
            raise
        await _reconcile(ctx, payload, _not_ours("merchant_order", order_id))
        return
    listed = order.get("payments")
    listed = listed if isinstance(listed, list) else []
    ids = list(dict.fromkeys(str(p["id"]) for p in listed if isinstance(p, dict) and p.get("id")))
    fetched = [await client.payment(payment_id) for payment_id in ids]
    await _reconcile(ctx, payload, fetched)


def _not_ours(topic: str, resource_id: str) -> list[dict[str, Any]]:
    """An unsigned hint naming something our token cannot see (a probe, the dashboard's test): done."""
    MERCADOPAGO_NOTIFICATIONS.labels("hint_not_found").inc()
    log.info("payments.mercadopago.hint_not_found", extra={"topic": topic, "resource_id": resource_id})
    return []


async def _reconcile(ctx: JobContext, payload: dict[str, Any], fetched: list[dict[str, Any]]) -> None:
    async with ctx.db.session_scope() as session:
        outcomes = [await payments.reconcile_mercadopago(session, data) for data in fetched]
        await session.execute(
            update(ExternalEvent)
            .where(ExternalEvent.id == int(payload["event_id"]))
            .values(handled_at=utc_now())
        )
        await ctx.complete_in(session)
    for data, outcome in zip(fetched, outcomes, strict=True):
        log.info("payments.mercadopago.reconciled", extra={"payment_id": data.get("id"), "outcome": outcome})
