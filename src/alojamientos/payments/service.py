"""Reconciling payments with holds: record every payment once, confirm when the deposit is covered.

Mercado Pago notifications are only a trigger: the payment is always re-fetched from the provider
and checked (approved, ARS, our reservation code, enough) before anything changes. A reservation's
payments are serialised by locking its row, so a webhook and the operator never double-count.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, Literal

from psycopg import errors as pg_errors
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.errors import Conflict, InvalidInput, NotFound
from alojamientos.kit.clock import utc_now
from alojamientos.kit.money import round_money
from alojamientos.notifications.alerts import raise_alert
from alojamientos.payments.models import Payment
from alojamientos.reservations import events, transitions
from alojamientos.reservations.errors import InvalidTransition, ReservationNotFound, WrongKind
from alojamientos.reservations.models import Reservation, ReservationStatus

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


# One entry, and what a reservation has paid in all, stay far below the columns' 10^10 limit.
MAX_AMOUNT = Decimal("999999999.99")
MAX_REASON = 500
# `ReservationEvent.reason` of ledger entries that keep the status (the timeline names them).
PAYMENT = "payment"
PAYMENT_VOIDED = "payment_voided"
PAYMENT_CORRECTED = "payment_corrected"
REFUND = "refund"
# What to do when a change leaves a confirmed stay's deposit unpaid: the operator must say.
IfUncovered = Literal["keep_confirmed", "back_to_hold"]


class OverpaymentUnconfirmed(Conflict):
    """More than the guest owes: recorded only when the operator confirms the excess (to give back)."""

    code = "overpayment_unconfirmed"


class DepositUncovered(Conflict):
    """A void or refund leaves a confirmed stay's deposit unpaid: keep it confirmed or hold it again?"""

    code = "deposit_uncovered"


class AmountOutOfRange(InvalidInput):
    code = "amount_out_of_range"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class PaymentNotReversible(InvalidInput):
    """A reversal, an entry never counted (a pending Mercado Pago payment), or one already voided."""

    code = "payment_not_reversible"


class ReasonRequired(InvalidInput):
    code = "reason_required"


class RefundTooLarge(InvalidInput):
    """A refund, or a void, cannot leave the reservation having paid less than nothing."""

    code = "refund_too_large"


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not 1 <= len(reason) <= MAX_REASON:
        raise ReasonRequired(f"say why, in 1 to {MAX_REASON} characters", field="reason")
    return reason


def _bounded(amount: Decimal) -> Decimal:
    if not amount.is_finite() or not Decimal(0) < amount <= MAX_AMOUNT:
        raise AmountOutOfRange(
            f"the amount must be within 0.01..{MAX_AMOUNT}", field="amount", maximum=str(MAX_AMOUNT)
        )
    return round_money(amount)


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
        self,
        session: AsyncSession,
        code: str,
        *,
        amount: Decimal,
        method: str,
        actor: str,
        confirm_overpayment: bool = False,
    ) -> tuple[Reservation, Payment]:
        """A transfer or cash the operator checked: counted now, confirming when the deposit is covered.

        More than what is owed (`total - paid`) raises OverpaymentUnconfirmed (409) unless
        `confirm_overpayment`; the excess then shows as `overpaid_amount`, to give back.
        """
        reservation = await self._locked(session, code)
        if reservation.status not in PAYABLE:
            raise InvalidTransition(
                f"reservation {reservation.code} is {reservation.status};"
                " payments go to holds or confirmed stays",
                status=reservation.status,
            )
        amount = _bounded(amount)
        self._within_limit(reservation.paid_amount + amount)
        owed = reservation.owed_amount
        if amount > owed and not confirm_overpayment:
            raise OverpaymentUnconfirmed(
                f"{amount} is more than the {owed} still owed; confirm the overpayment to record it",
                owed=str(owed),
                amount=str(amount),
                excess=str(amount - owed),
            )
        payment = await self._entry(session, reservation, "payment", amount, method, actor)
        await self._count(session, reservation, payment, actor=actor)
        await session.flush()
        await session.refresh(reservation)
        await session.refresh(payment)
        return reservation, payment

    async def refund(
        self,
        session: AsyncSession,
        code: str,
        *,
        amount: Decimal,
        method: str,
        reason: str,
        actor: str,
        if_uncovered: IfUncovered | None = None,
    ) -> tuple[Reservation, Payment]:
        """Money given back to the guest (an overpayment, a cancelled stay's deposit), in any status.

        At most what was paid; a refund that leaves a confirmed stay's deposit unpaid needs
        `if_uncovered` (DepositUncovered, 409, otherwise).
        """
        reservation = await self._locked(session, code)
        self._stay_only(reservation)
        amount, reason = _bounded(amount), _reason(reason)
        if amount > reservation.paid_amount:
            raise RefundTooLarge(
                f"{amount} is more than the {reservation.paid_amount} paid",
                paid=str(reservation.paid_amount),
            )
        self._check_cover(reservation, reservation.paid_amount - amount, if_uncovered)
        refund = await self._entry(session, reservation, "refund", amount, method, actor, reason=reason)
        data = {"payment_id": refund.id, "amount": str(amount), "method": method, "refund_reason": reason}
        await self._apply(
            session, reservation, -amount, REFUND, data, actor=actor, reason=reason, if_uncovered=if_uncovered
        )
        await session.refresh(refund)
        return reservation, refund

    async def void(
        self,
        session: AsyncSession,
        code: str,
        payment_id: int,
        *,
        reason: str,
        actor: str,
        if_uncovered: IfUncovered | None = None,
    ) -> tuple[Reservation, Payment]:
        """Cancel an entry that should not count (a mistake, a bounced transfer) with a reversing entry.

        Nothing is deleted: the entry stays, a `reversal` names it (once; PaymentNotReversible after),
        and the timeline says who voided it and why. A payment's amount leaves `paid_amount`, a
        refund's comes back. Returns the reservation and the reversal.
        """
        reservation = await self._locked(session, code)
        self._stay_only(reservation)
        reason = _reason(reason)
        original = await self._reversible(session, reservation, payment_id)
        delta = -original.amount if original.kind == "payment" else original.amount
        paid = reservation.paid_amount + delta
        if paid < 0:
            raise RefundTooLarge(
                f"voiding it would leave {paid} paid; void the refunds first",
                paid=str(reservation.paid_amount),
            )
        self._within_limit(paid)
        self._check_cover(reservation, paid, if_uncovered)
        reversal = await self._entry(
            session,
            reservation,
            "reversal",
            original.amount,
            original.method,
            actor,
            reason=reason,
            reverses=original,
        )
        data = {
            "payment_id": original.id,
            "reversal_id": reversal.id,
            "entry_kind": original.kind,
            "amount": str(original.amount),
            "method": original.method,
            "void_reason": reason,
        }
        await self._apply(
            session,
            reservation,
            delta,
            PAYMENT_VOIDED,
            data,
            actor=actor,
            reason=reason,
            if_uncovered=if_uncovered,
        )
        await session.refresh(reversal)
        return reservation, reversal

    async def correct(
        self,
        session: AsyncSession,
        code: str,
        payment_id: int,
        *,
        amount: Decimal,
        reason: str,
        actor: str,
        confirm_overpayment: bool = False,
        if_uncovered: IfUncovered | None = None,
    ) -> tuple[Reservation, Payment]:
        """A recorded payment had the wrong amount: a reversal of it plus a new entry with the right one,
        as one change in the timeline. The new amount follows the same rules as a new payment
        (OverpaymentUnconfirmed) and a lower one the same as a void (DepositUncovered).
        Returns the reservation and the new entry.
        """
        reservation = await self._locked(session, code)
        self._stay_only(reservation)
        reason, amount = _reason(reason), _bounded(amount)
        original = await self._reversible(session, reservation, payment_id)
        if original.kind != "payment" or original.provider != "manual":
            raise PaymentNotReversible(
                "only payments recorded by hand can be corrected; void the others", payment_id=payment_id
            )
        paid = reservation.paid_amount - original.amount + amount
        self._within_limit(paid)
        owed = max(reservation.total_amount - (reservation.paid_amount - original.amount), Decimal(0))
        if amount > owed and amount > original.amount and not confirm_overpayment:
            raise OverpaymentUnconfirmed(
                f"{amount} is more than the {owed} owed; confirm the overpayment to record it",
                owed=str(owed),
                amount=str(amount),
                excess=str(amount - owed),
            )
        self._check_cover(reservation, paid, if_uncovered)
        reversal = await self._entry(
            session,
            reservation,
            "reversal",
            original.amount,
            original.method,
            actor,
            reason=reason,
            reverses=original,
        )
        replacement = await self._entry(
            session, reservation, "payment", amount, original.method, actor, reason=reason
        )
        data = {
            "payment_id": original.id,
            "reversal_id": reversal.id,
            "replacement_id": replacement.id,
            "amount_before": str(original.amount),
            "amount": str(amount),
            "method": original.method,
            "correction_reason": reason,
        }
        await self._apply(
            session,
            reservation,
            amount - original.amount,
            PAYMENT_CORRECTED,
            data,
            actor=actor,
            reason=reason,
            if_uncovered=if_uncovered,
        )
        await session.refresh(replacement)
        return reservation, replacement

    async def voided_ids(self, session: AsyncSession, reservation_id: int) -> dict[int, int]:
        """For a reservation's ledger: voided entry id → the id of the reversal that voided it."""
        rows = await session.execute(
            select(Payment.reverses_id, Payment.id).where(
                Payment.reservation_id == reservation_id, Payment.reverses_id.is_not(None)
            )
        )
        return {voided: reversal for voided, reversal in rows.all() if voided is not None}

    # -- the ledger's parts --------------------------------------------------------------------------

    @staticmethod
    def _stay_only(reservation: Reservation) -> None:
        if reservation.kind != "stay":
            raise WrongKind(f"{reservation.code} is a block; blocks have no payments", kind=reservation.kind)

    @staticmethod
    def _within_limit(paid: Decimal) -> None:
        if paid > MAX_AMOUNT:
            raise AmountOutOfRange(
                f"a reservation cannot have more than {MAX_AMOUNT} paid",
                field="amount",
                maximum=str(MAX_AMOUNT),
            )

    @staticmethod
    def _check_cover(reservation: Reservation, paid: Decimal, if_uncovered: IfUncovered | None) -> None:
        """A confirmed stay whose deposit was paid and no longer would be: the operator must choose."""
        uncovers = (
            reservation.status == ReservationStatus.confirmed.value
            and reservation.paid_amount >= reservation.deposit_amount > paid
        )
        if uncovers and if_uncovered is None:
            raise DepositUncovered(
                f"after this only {paid} of the {reservation.deposit_amount} deposit is paid;"
                " say whether the stay stays confirmed or waits for the deposit again",
                paid=str(paid),
                deposit=str(reservation.deposit_amount),
                choices=["keep_confirmed", "back_to_hold"],
            )

    async def _reversible(self, session: AsyncSession, reservation: Reservation, payment_id: int) -> Payment:
        original = await session.scalar(
            select(Payment)
            .where(Payment.id == payment_id, Payment.reservation_id == reservation.id)
            .with_for_update()
        )
        if original is None:
            raise PaymentNotFound(
                f"reservation {reservation.code} has no payment {payment_id}", payment_id=payment_id
            )
        if original.kind == "reversal" or not original.counted:
            raise PaymentNotReversible(
                f"entry {payment_id} is a void or was never counted; nothing to undo", payment_id=payment_id
            )
        if payment_id in await self.voided_ids(session, reservation.id):
            raise PaymentNotReversible(f"entry {payment_id} is already voided", payment_id=payment_id)
        return original

    async def _entry(
        self,
        session: AsyncSession,
        reservation: Reservation,
        kind: str,
        amount: Decimal,
        method: str,
        actor: str,
        *,
        reason: str = "",
        reverses: Payment | None = None,
    ) -> Payment:
        """A manual ledger row; a second void of the same entry fails on `uq_payments_reverses_id`."""
        sequence = await session.scalar(
            select(func.count()).select_from(Payment).where(Payment.reservation_id == reservation.id)
        )
        entry = Payment(
            reservation_id=reservation.id,
            provider="manual",
            provider_id=f"{reservation.code}-{(sequence or 0) + 1}-{kind}-{utc_now().timestamp():.0f}",
            kind=kind,
            reverses_id=reverses.id if reverses else None,
            reason=reason,
            method=method,
            status="approved",
            amount=amount,
            currency="ARS",
            counted=True,
            recorded_by=actor,
            history=[{"status": "approved", "at": utc_now().isoformat(), "by": actor}],
        )
        try:
            async with session.begin_nested():
                session.add(entry)
                await session.flush()
        except IntegrityError:
            if reverses is None:
                raise
            raise PaymentNotReversible(
                f"entry {reverses.id} is already voided", payment_id=reverses.id
            ) from None
        return entry

    async def _apply(
        self,
        session: AsyncSession,
        reservation: Reservation,
        delta: Decimal,
        event_reason: str,
        data: dict[str, Any],
        *,
        actor: str,
        reason: str,
        if_uncovered: IfUncovered | None,
    ) -> None:
        """Move `paid_amount` by `delta`, write the timeline entry, and hold the stay again if asked."""
        covered_before = reservation.paid_amount >= reservation.deposit_amount
        reservation.paid_amount = round_money(reservation.paid_amount + delta)
        data = {**data, "paid": str(reservation.paid_amount)}
        await session.flush()
        await events.record_event(
            session,
            reservation,
            reservation.status,
            reservation.status,
            actor=actor,
            reason=event_reason,
            data=data,
            notify=False,
        )
        uncovered = reservation.paid_amount < reservation.deposit_amount
        if (
            reservation.status == ReservationStatus.confirmed.value
            and covered_before
            and uncovered
            and if_uncovered == "back_to_hold"
        ):
            await transitions.reopen_hold(session, reservation.code, actor=actor, reason=reason)
        await session.refresh(reservation)

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
        if reservation.overpaid_amount > 0:
            data["overpaid"] = str(reservation.overpaid_amount)
        covered = reservation.paid_amount >= reservation.deposit_amount
        if reservation.status == ReservationStatus.pre_reserved.value and covered:
            await session.flush()
            await transitions.confirm(session, reservation.code, actor=actor, data=data)
            await session.refresh(reservation)
            return
        # In the timeline without a status change: a partial payment, or a balance paid later.
        await events.record_event(
            session,
            reservation,
            reservation.status,
            reservation.status,
            actor=actor,
            reason=PAYMENT,
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
        await events.record_event(
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
