"""Payments on a reservation: the operator records a checked transfer or cash; receipts guests sent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from alojamientos.auth.deps import CurrentOperator
from alojamientos.conversation.format import fecha
from alojamientos.db import SessionDep
from alojamientos.errors import NotFound
from alojamientos.kit.inputs import BigId
from alojamientos.payments.models import Attachment, Payment
from alojamientos.payments.service import MAX_AMOUNT, MAX_REASON, IfUncovered, payments
from alojamientos.reservations import repository
from alojamientos.reservations.models import Accommodation, Reservation
from alojamientos.reservations.schemas import Money, ReservationOut

router = APIRouter(prefix="/api/v1", tags=["payments"])

# What a browser may show inline; anything else a guest sends (HTML, SVG, scripts) is only downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"})


def receipt_response(found: Attachment) -> Response:
    """A guest's file, served so it can never run as a page of ours (for the API and the panel)."""
    inline = found.mime_type in INLINE_TYPES
    disposition = "inline" if inline else "attachment"
    return Response(
        found.content,
        media_type=found.mime_type if inline else "application/octet-stream",
        headers={
            "Content-Disposition": f'{disposition}; filename="comprobante-{found.id}"',
            "Cache-Control": "private, no-store",
        },
    )


public = APIRouter(tags=["payments"])


Amount = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, max_digits=12, decimal_places=2)]
Reason = Annotated[str, Field(min_length=1, max_length=MAX_REASON)]
Method = Literal["transfer", "cash", "mercadopago", "other"]


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    method: Method = "transfer"
    # More than what is owed is refused (409 overpayment_unconfirmed) unless confirmed.
    confirm_overpayment: bool = False


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    method: Method = "transfer"
    reason: Reason
    if_uncovered: IfUncovered | None = None


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason
    # When the void leaves a confirmed stay's deposit unpaid (409 deposit_uncovered otherwise).
    if_uncovered: IfUncovered | None = None


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    reason: Reason
    confirm_overpayment: bool = False
    if_uncovered: IfUncovered | None = None


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    reverses_id: int | None
    reason: str
    voided_by: int | None = None  # the reversal that voided this entry
    provider: str
    provider_id: str
    method: str
    status: str
    status_detail: str | None
    amount: Money
    currency: str
    counted: bool
    recorded_by: str
    history: list[dict[str, Any]]
    created_at: datetime


class RecordedPayment(BaseModel):
    reservation: ReservationOut
    payment: PaymentOut


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    mime_type: str
    size: int
    sha256: str
    caption: str
    created_at: datetime


@router.post("/reservations/{code}/payments", status_code=201, response_model=RecordedPayment)
async def record_payment(
    code: str, body: PaymentIn, session: SessionDep, operator: CurrentOperator
) -> dict[str, Any]:
    """Records money received; a hold whose deposit is now covered becomes confirmed."""
    reservation, payment = await payments.record_manual(
        session,
        code,
        amount=body.amount,
        method=body.method,
        actor=f"operator:{operator.email}",
        confirm_overpayment=body.confirm_overpayment,
    )
    return {"reservation": reservation, "payment": payment}


@router.post("/reservations/{code}/refunds", status_code=201, response_model=RecordedPayment)
async def record_refund(
    code: str, body: RefundIn, session: SessionDep, operator: CurrentOperator
) -> dict[str, Any]:
    """Money given back to the guest, at most what was paid; in the ledger and the timeline."""
    reservation, refund = await payments.refund(
        session,
        code,
        amount=body.amount,
        method=body.method,
        reason=body.reason,
        actor=f"operator:{operator.email}",
        if_uncovered=body.if_uncovered,
    )
    return {"reservation": reservation, "payment": refund}


@router.post(
    "/reservations/{code}/payments/{payment_id}/void", status_code=201, response_model=RecordedPayment
)
async def void_payment(
    code: str, payment_id: BigId, body: VoidIn, session: SessionDep, operator: CurrentOperator
) -> dict[str, Any]:
    """Voids a payment or refund with a reversing entry (answered as `payment`); nothing is deleted."""
    reservation, reversal = await payments.void(
        session,
        code,
        payment_id,
        reason=body.reason,
        actor=f"operator:{operator.email}",
        if_uncovered=body.if_uncovered,
    )
    return {"reservation": reservation, "payment": reversal}


@router.post(
    "/reservations/{code}/payments/{payment_id}/correct", status_code=201, response_model=RecordedPayment
)
async def correct_payment(
    code: str, payment_id: BigId, body: CorrectionIn, session: SessionDep, operator: CurrentOperator
) -> dict[str, Any]:
    """Replaces a hand-recorded payment's amount: a reversal of it plus the new entry (answered)."""
    reservation, replacement = await payments.correct(
        session,
        code,
        payment_id,
        amount=body.amount,
        reason=body.reason,
        actor=f"operator:{operator.email}",
        confirm_overpayment=body.confirm_overpayment,
        if_uncovered=body.if_uncovered,
    )
    return {"reservation": reservation, "payment": replacement}


@router.get("/reservations/{code}/payments", response_model=list[PaymentOut])
async def list_payments(code: str, session: SessionDep, operator: CurrentOperator) -> list[PaymentOut]:
    """The reservation's ledger in order: payments, refunds and the reversals that voided entries."""
    stay = await repository.get(session, code)
    voided = await payments.voided_ids(session, stay.id)
    entries = await session.scalars(
        select(Payment).where(Payment.reservation_id == stay.id).order_by(Payment.id)
    )
    return [PaymentOut.model_validate(p).model_copy(update={"voided_by": voided.get(p.id)}) for p in entries]


@router.get("/reservations/{code}/attachments", response_model=list[AttachmentOut])
async def list_attachments(code: str, session: SessionDep, operator: CurrentOperator) -> list[Attachment]:
    stay = await repository.get(session, code)
    query = select(Attachment).where(Attachment.reservation_id == stay.id).order_by(Attachment.id)
    return list(await session.scalars(query))


@router.get("/attachments/{attachment_id}", response_class=Response)
async def download_attachment(
    attachment_id: BigId, session: SessionDep, operator: CurrentOperator
) -> Response:
    found = await session.get(Attachment, attachment_id)
    if found is None:
        raise NotFound(f"there is no attachment {attachment_id}")
    return receipt_response(found)


_OUTCOME = {
    "aprobado": "¡Gracias! Recibimos tu pago.",
    "pendiente": "Tu pago está pendiente: te avisamos por WhatsApp apenas se acredite.",
    "rechazado": (
        "El pago no se completó. Podés intentarlo de nuevo con el mismo link o escribirnos por WhatsApp."
    ),
}
_STATUS = {
    "pre_reserved": "reservada, esperando la seña",
    "confirmed": "confirmada",
    "cancelled": "cancelada",
    "expired": "vencida",
    "completed": "finalizada",
    "no_show": "sin presentarse",
}


@public.get("/pago/{code}", response_class=HTMLResponse, include_in_schema=False)
async def payment_return(code: str, session: SessionDep, estado: str = Query("")) -> HTMLResponse:
    """Where Mercado Pago sends the guest back: the outcome and the stay, with no personal data."""
    stay = await session.scalar(select(Reservation).where(Reservation.code == code.upper()[:12]))
    if stay is None:
        body = "<h1>No encontramos esa reserva</h1><p>Revisá el código o escribinos por WhatsApp.</p>"
        return HTMLResponse(_page(body), status_code=404)
    unit = await session.get_one(Accommodation, stay.accommodation_id)
    body = (
        f"<h1>{escape(_OUTCOME.get(estado, 'Estado de tu reserva'))}</h1>"
        f"<p>Reserva <strong>{escape(stay.code)}</strong>: {escape(unit.name)}, "
        f"del {escape(fecha(stay.check_in))} al {escape(fecha(stay.check_out))}.</p>"
        f"<p>Estado: {escape(_STATUS.get(stay.status, stay.status))}.</p>"
    )
    return HTMLResponse(_page(body))


def _page(body: str) -> str:
    return (
        '<!doctype html><html lang="es-AR"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Tu reserva</title>'
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;"
        f"color:#1f2937}}h1{{font-size:1.4rem}}</style></head><body>{body}</body></html>"
    )
