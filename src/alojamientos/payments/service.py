"""Reconciling payments with holds: record every payment once, confirm when the deposit is covered.

Mercado Pago notifications are only a trigger: the payment is always re-fetched from the provider
and checked (approved, ARS, our reservation code, enough) before anything changes. A reservation's
payments are serialised by locking its row, so a webhook and the operator never double-count.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from psycopg import errors as pg_errors
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.errors import InvalidInput
from alojamientos.kit.clock import utc_now
from alojamientos.kit.money import round_money
from alojamientos.notifications.alerts import raise_alert
from alojamientos.payments.models import Payment
from alojamientos.reservations.errors import InvalidTransition, ReservationNotFound
from alojamientos.reservations.models import Reservation, ReservationStatus
from alojamientos.reservations.service import reservation as reservation_service

log = logging.getLogger(__name__)

PAYABLE = (ReservationStatus.pre_reserved.value, ReservationStatus.confirmed.value)
LATE = (ReservationStatus.expired.value, ReservationStatus.cancelled.value)
# Mercado Pago statuses that need a person, as the operator reads them.
PROBLEM_STATUSES = {
    "rejected": "rechazado",
    "cancelled": "cancelado",
    "refunded": "devuelto",
    "charged_back": "con contracargo",
    "in_mediation": "en disputa",
}


class PaymentService:
    async def _locked(self, session: AsyncSession, code: str) -> Reservation:
        found = await session.scalar(
            select(Reservation)
            .where(Reservation.code == code.upper())
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if found is None:
            raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
        return found

    async def record_manual(
        self, session: AsyncSession, code: str, *, amount: Decimal, method: str, actor: str
    ) -> tuple[Reservation, Payment]:
        """A transfer or cash the operator checked: counted now, confirming when the deposit is covered."""
        reservation = await self._locked(session, code)
        if reservation.status not in PAYABLE:
            raise InvalidTransition(
                f"reservation {reservation.code} is {reservation.status};"
                " payments go to holds or confirmed stays",
                status=reservation.status,
            )
        count = await session.scalar(
            select(Payment.id).where(Payment.reservation_id == reservation.id).order_by(Payment.id.desc())
        )
        payment = Payment(
            reservation_id=reservation.id,
            provider="manual",
            provider_id=f"{reservation.code}-{(count or 0) + 1}-{utc_now().timestamp():.0f}",
            method=method,
            status="approved",
            amount=round_money(amount),
            currency="ARS",
            counted=True,
            recorded_by=actor,
            history=[{"status": "approved", "at": utc_now().isoformat(), "by": actor}],
        )
        session.add(payment)
        await session.flush()
        await self._count(session, reservation, payment, actor=actor)
        await session.flush()
        await session.refresh(reservation)
        await session.refresh(payment)
        return reservation, payment

    async def reconcile_mercadopago(self, session: AsyncSession, data: dict[str, Any]) -> str:
        """Applies one fetched Mercado Pago payment; returns what happened (for logs and tests)."""
        provider_id = str(data.get("id"))
        code = str(data.get("external_reference") or "")
        status = str(data.get("status") or "unknown")
        amount = Decimal(str(data.get("transaction_amount") or "0"))
        reservation = await session.scalar(select(Reservation).where(Reservation.code == code.upper()))
        if reservation is None:
            await self._alert(
                session,
                "payment_problem",
                f"Pago de Mercado Pago {provider_id} sin reserva ({code!r})",
                payment_id=provider_id,
            )
            return "unknown_reservation"
        reservation = await self._locked(session, code)
        payment = await self._upsert(session, reservation, provider_id, status, data, amount)
        if status != "approved":
            if status in PROBLEM_STATUSES:
                await self._problem(
                    session, reservation, payment, f"el pago quedó {PROBLEM_STATUSES[status]}"
                )
            return status
        if payment.counted:
            return "already_counted"
        if data.get("currency_id") != "ARS":
            await self._problem(session, reservation, payment, f"moneda {data.get('currency_id')}, no ARS")
            return "wrong_currency"
        payment.counted = True
        if reservation.status in LATE:
            return await self._late(session, reservation, payment)
        await self._count(session, reservation, payment, actor=f"payment:mercadopago:{provider_id}")
        return "confirmed" if reservation.status == ReservationStatus.confirmed.value else "short"

    async def _upsert(
        self,
        session: AsyncSession,
        reservation: Reservation,
        provider_id: str,
        status: str,
        data: dict[str, Any],
        amount: Decimal,
    ) -> Payment:
        await session.execute(
            insert(Payment)
            .values(
                reservation_id=reservation.id,
                provider="mercadopago",
                provider_id=provider_id,
                method="mercadopago",
                status=status,
                amount=round_money(amount),
                currency=str(data.get("currency_id") or "ARS")[:3],
                recorded_by="mercadopago",
            )
            .on_conflict_do_nothing(constraint="uq_payments_provider_id")
        )
        payment = await session.scalar(
            select(Payment)
            .where(Payment.provider == "mercadopago", Payment.provider_id == provider_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert payment is not None
        if not payment.history or payment.history[-1].get("status") != status:
            entry = {"status": status, "detail": data.get("status_detail"), "at": utc_now().isoformat()}
            payment.history = [*payment.history, entry]
        payment.status, payment.status_detail, payment.raw = status, data.get("status_detail"), data
        payment.amount = round_money(amount)
        return payment

    async def _count(
        self, session: AsyncSession, reservation: Reservation, payment: Payment, *, actor: str
    ) -> None:
        reservation.paid_amount = round_money(reservation.paid_amount + payment.amount)
        data = {
            "payment_id": payment.id,
            "amount": str(payment.amount),
            "method": payment.method,
            "paid": str(reservation.paid_amount),
        }
        covered = reservation.paid_amount >= reservation.deposit_amount
        if reservation.status == ReservationStatus.pre_reserved.value and covered:
            await session.flush()
            await reservation_service.confirm(session, reservation.code, actor=actor, data=data)
            await session.refresh(reservation)
            return
        # In the timeline without a status change: a partial payment, or a balance paid later.
        await reservation_service.record_event(
            session,
            reservation,
            reservation.status,
            reservation.status,
            actor=actor,
            reason="payment",
            data=data,
        )
        if not covered:
            await self._problem(session, reservation, payment, "el monto no cubre la seña", status="short")

    async def _late(self, session: AsyncSession, reservation: Reservation, payment: Payment) -> str:
        """Approved after the hold lapsed: confirm if the dates are still free, else a refund is due."""
        reservation.paid_amount = round_money(reservation.paid_amount + payment.amount)
        await session.flush()
        previous = reservation.status
        try:
            async with session.begin_nested():
                await session.execute(
                    update(Reservation)
                    .where(Reservation.id == reservation.id, Reservation.status == previous)
                    .values(status=ReservationStatus.confirmed.value, expires_at=None, updated_at=utc_now())
                )
        except IntegrityError as exc:
            if not isinstance(exc.orig, pg_errors.ExclusionViolation):
                raise
            await self._alert(
                session,
                "refund_needed",
                f"Pago tardío de {payment.amount} para {reservation.code}:"
                " las fechas ya no están libres; hay que devolverlo",
                code=reservation.code,
                payment_id=payment.provider_id,
                amount=str(payment.amount),
            )
            return "refund_needed"
        await session.refresh(reservation)
        await reservation_service.record_event(
            session,
            reservation,
            previous,
            ReservationStatus.confirmed.value,
            actor=f"payment:mercadopago:{payment.provider_id}",
            reason="late payment; the dates were still free",
            data={"payment_id": payment.id, "amount": str(payment.amount), "method": "mercadopago"},
        )
        return "confirmed_late"

    async def _problem(
        self,
        session: AsyncSession,
        reservation: Reservation,
        payment: Payment,
        reason: str,
        status: str | None = None,
    ) -> None:
        await self._alert(
            session,
            "payment_problem",
            f"Problema con el pago de {reservation.code}: {reason}",
            code=reservation.code,
            payment_id=payment.provider_id,
            amount=str(payment.amount),
            payment_status=status or payment.status,
            reason=reason,
        )

    async def _alert(self, session: AsyncSession, kind: str, message: str, **data: Any) -> None:
        await raise_alert(session, kind, message, **data)
        log.warning(f"payments.{kind}", extra={k: v for k, v in data.items() if k != "amount"})


def validate_amount(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise InvalidInput("the amount must be positive")
    return amount


payments = PaymentService()
