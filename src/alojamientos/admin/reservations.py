"""Reservations: find them, read one whole, and act on it through the same services as the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin import labels
from alojamientos.admin.booking import BookingForm, MissingName
from alojamientos.admin.deps import PREFIX, CurrentAdmin
from alojamientos.admin.forms import InvalidMethod, parse_amount, parse_date
from alojamientos.admin.paging import paginate
from alojamientos.admin.templating import render
from alojamientos.conversation.models import Conversation, ConversationMessage
from alojamientos.conversation.service import conversations
from alojamientos.db import SessionDep
from alojamientos.errors import AppError, NotFound
from alojamientos.kit.clock import local_today
from alojamientos.kit.inputs import BigId, stored_id
from alojamientos.notifications import service as notification_service
from alojamientos.notifications.service import (
    RESEND_CONFIRMATION,
    RESEND_PAYMENT_REQUEST,
    reaches_by_whatsapp,
)
from alojamientos.payments.api import receipt_response
from alojamientos.payments.models import Attachment, Payment
from alojamientos.payments.service import DepositUncovered, IfUncovered, OverpaymentUnconfirmed, payments
from alojamientos.pricing.rules import Quote
from alojamientos.pricing.service import pricing
from alojamientos.reservations import changes, quotes, repository, transitions
from alojamientos.reservations.events import GUEST_UPDATED, STAY_CHANGED
from alojamientos.reservations.models import OCCUPYING, Accommodation, Reservation, ReservationStatus
from alojamientos.reservations.types import PriceChoice

router = APIRouter(prefix="/reservas")


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"


PAGE_SIZE = 25
THREAD_LIMIT = 50


def _detail_url(code: str, done: str) -> str:
    return f"{PREFIX}/reservas/{code}?hecho={done}"


@router.get("")
async def reservation_list(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    estado: str = "",
    unidad: str = "",
    origen: str = "",
    desde: str = "",
    hasta: str = "",
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    query = select(Reservation).where(Reservation.kind == "stay")
    if estado in labels.STATUS:
        query = query.where(Reservation.status == estado)
    if origen in labels.SOURCE:
        query = query.where(Reservation.source == origen)
    if (unit_id := stored_id(unidad)) is not None:
        query = query.where(Reservation.accommodation_id == unit_id)
    query = repository.within(query, parse_date(desde), parse_date(hasta))
    query = repository.matching(query, q)
    filters = {"q": q, "estado": estado, "unidad": unidad, "origen": origen, "desde": desde, "hasta": hasta}
    listed = await paginate(
        session,
        query.order_by(Reservation.check_in.desc(), Reservation.id.desc()),
        page=pagina,
        size=PAGE_SIZE,
        kept=filters,
    )
    units = list(await session.scalars(select(Accommodation).order_by(Accommodation.name)))
    context = {
        "reservations": listed.rows,
        "units": units,
        "unit_names": {u.id: u.name for u in units},
        "filters": filters,
        **listed.context(),
    }
    return render(request, "admin/reservations/list.html", context)


@router.get("/{code}")
async def reservation_detail(
    request: Request, code: str, session: SessionDep, hecho: str = "", error: str = ""
) -> Response:
    found = await repository.get(session, code)
    unit = await session.get_one(Accommodation, found.accommodation_id)
    paid = await session.scalars(
        select(Payment).where(Payment.reservation_id == found.id).order_by(Payment.created_at, Payment.id)
    )
    receipts = await session.scalars(
        select(Attachment).where(Attachment.reservation_id == found.id).order_by(Attachment.id)
    )
    conversation = None
    messages: list[ConversationMessage] = []
    if found.guest_phone:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.phone == found.guest_phone)
        )
    if conversation is not None:
        messages = await conversations.thread(session, conversation.id, latest=THREAD_LIMIT)
    due = found.owed_amount
    deposit_due = max(found.deposit_amount - found.paid_amount, Decimal(0))
    is_stay = found.kind == "stay"
    can_change = is_stay and found.status in OCCUPYING
    units: list[Accommodation] = []
    if can_change:  # where it can move: units taking bookings, and the one it is in
        units = list(
            await session.scalars(
                select(Accommodation)
                .where(or_(Accommodation.active, Accommodation.id == found.accommodation_id))
                .order_by(Accommodation.name)
            )
        )
    context = {
        "r": found,
        "unit": unit,
        "payments": list(paid),
        "voided": await payments.voided_ids(session, found.id),
        "list_quote": await _list_quote(session, found, unit) if is_stay else None,
        "can_refund": is_stay and found.paid_amount > 0,
        "can_price": can_change,
        "price_form": {"precio_tipo": "lista", "precio_valor": "", "precio_motivo": found.price_reason or ""},
        "receipts": list(receipts),
        "conversation": conversation,
        "messages": messages,
        "due": due,
        "deposit_due": deposit_due,
        "nights": (found.check_out - found.check_in).days,
        "can_confirm": found.status == ReservationStatus.pre_reserved,
        "can_pay": found.status in (ReservationStatus.pre_reserved, ReservationStatus.confirmed),
        "can_cancel": found.status in (ReservationStatus.pre_reserved, ReservationStatus.confirmed),
        "can_resend": found.status == ReservationStatus.confirmed,
        "can_no_show": found.status == ReservationStatus.confirmed
        and found.check_in <= local_today(await pricing.timezone(session)),
        "can_change": can_change,
        "can_fix_guest": is_stay,
        "units": units,
        "resend_reason": RESEND_CONFIRMATION,
        "resend_payment_reason": RESEND_PAYMENT_REQUEST,
        "stay_changed": STAY_CHANGED,
        "guest_updated": GUEST_UPDATED,
        "by_whatsapp": reaches_by_whatsapp(found),
        "done": labels.DONE.get(hecho, ""),
        "error": labels.error_message(error) if error else "",
        "methods": labels.MANUAL_METHODS,
    }
    return render(request, "admin/reservations/detail.html", context)


async def _list_quote(session: AsyncSession, stay: Reservation, unit: Accommodation) -> Quote | None:
    """The stay priced night by night with today's rules (what the page explains the total with)."""
    try:
        return await quotes.quote(session, unit, stay.check_in, stay.check_out, stay.guests)
    except AppError:  # a unit made smaller since: the stored total stands, without the breakdown
        return None


def _second_step(
    request: Request, stay: Reservation, exc: AppError, action: str, fields: dict[str, str]
) -> Response:
    """The same form again before an action the operator must decide on: an overpayment to confirm
    (OverpaymentUnconfirmed) or a deposit no longer paid (DepositUncovered); the page asks in words.

    `action`: the path under the reservation to post to; `fields`: what the operator typed, kept.
    """
    context = {
        "r": stay,
        "ask": exc.code,
        "facts": {k: Decimal(v) for k, v in exc.details.items() if k in ("owed", "amount", "excess", "paid")},
        "action": f"{PREFIX}/reservas/{stay.code}/{action}",
        "fields": fields,
    }
    return render(request, "admin/reservations/confirm.html", context, status_code=409)


# The void/refund/correction forms' answer when the deposit would no longer be paid.
IF_UNCOVERED: dict[str, IfUncovered] = {"mantener": "keep_confirmed", "pre-reserva": "back_to_hold"}


@router.get("/{code}/comprobantes/{receipt_id}")
async def receipt(code: str, receipt_id: BigId, session: SessionDep) -> Response:
    """A file the guest sent over WhatsApp (a transfer receipt), to check before recording the payment."""
    found = await repository.get(session, code)
    attachment = await session.get(Attachment, receipt_id)
    if attachment is None or attachment.reservation_id != found.id:
        raise ReceiptNotFound(f"reservation {found.code} has no receipt {receipt_id}")
    return receipt_response(attachment)


@router.post("/{code}/confirmar")
async def confirm(code: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    confirmed = await transitions.confirm(session, code, actor=admin.actor)
    return RedirectResponse(_detail_url(confirmed.code, "confirmada"), status_code=303)


@router.post("/{code}/reenviar-confirmacion")
async def resend_confirmation(code: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    """The guest gets the confirmation again (WhatsApp and e-mail), as a new send in the timeline."""
    resent = await notification_service.resend_confirmation(session, code, actor=admin.actor)
    return RedirectResponse(_detail_url(resent.code, "reenviada"), status_code=303)


@router.post("/{code}/reenviar-pedido-de-sena")
async def resend_payment_request(code: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    """The guest gets the hold's payment message again (WhatsApp and e-mail), as a new send."""
    resent = await notification_service.resend_payment_request(session, code, actor=admin.actor)
    return RedirectResponse(_detail_url(resent.code, "pedido-reenviado"), status_code=303)


@router.post("/{code}/pago")
async def record_payment(
    request: Request,
    code: str,
    session: SessionDep,
    admin: CurrentAdmin,
    monto: Annotated[str, Form(max_length=40)] = "",
    medio: Annotated[str, Form(max_length=20)] = "",
    confirmar_excedente: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """Money received; more than what is owed asks first (OverpaymentUnconfirmed → a second step)."""
    if medio not in labels.MANUAL_METHODS:
        raise InvalidMethod(f"unknown payment method {medio!r}")
    before = (await repository.get(session, code)).status
    try:
        paid, _payment = await payments.record_manual(
            session,
            code,
            amount=parse_amount(monto),
            method=medio,
            actor=admin.actor,
            confirm_overpayment=confirmar_excedente == "1",
        )
    except OverpaymentUnconfirmed as exc:
        stay = await repository.get(session, code)
        return _second_step(request, stay, exc, "pago", {"monto": monto, "medio": medio})
    confirmed_now = before == ReservationStatus.pre_reserved and paid.status == ReservationStatus.confirmed
    done = "pago-excedente" if paid.overpaid_amount > 0 else "pago-confirma" if confirmed_now else "pago"
    return RedirectResponse(_detail_url(paid.code, done), 303)


@router.post("/{code}/pagos/{payment_id}/anular")
async def void_payment(
    request: Request,
    code: str,
    payment_id: BigId,
    session: SessionDep,
    admin: CurrentAdmin,
    motivo: Annotated[str, Form(max_length=500)] = "",
    si_falta_sena: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Void a payment or refund with a reason: a reversing entry, never a delete."""
    try:
        voided, _reversal = await payments.void(
            session,
            code,
            payment_id,
            reason=motivo,
            actor=admin.actor,
            if_uncovered=IF_UNCOVERED.get(si_falta_sena),
        )
    except DepositUncovered as exc:
        stay = await repository.get(session, code)
        return _second_step(request, stay, exc, f"pagos/{payment_id}/anular", {"motivo": motivo})
    reopened = si_falta_sena == "pre-reserva" and voided.status == ReservationStatus.pre_reserved
    return RedirectResponse(_detail_url(voided.code, "anulado-pre-reserva" if reopened else "anulado"), 303)


@router.post("/{code}/pagos/{payment_id}/corregir")
async def correct_payment(
    request: Request,
    code: str,
    payment_id: BigId,
    session: SessionDep,
    admin: CurrentAdmin,
    monto: Annotated[str, Form(max_length=40)] = "",
    motivo: Annotated[str, Form(max_length=500)] = "",
    confirmar_excedente: Annotated[str, Form(max_length=1)] = "",
    si_falta_sena: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """A payment typed with the wrong amount: voided and recorded again with the right one."""
    fields = {"monto": monto, "motivo": motivo, "confirmar_excedente": confirmar_excedente}
    action = f"pagos/{payment_id}/corregir"
    try:
        fixed, _entry = await payments.correct(
            session,
            code,
            payment_id,
            amount=parse_amount(monto),
            reason=motivo,
            actor=admin.actor,
            confirm_overpayment=confirmar_excedente == "1",
            if_uncovered=IF_UNCOVERED.get(si_falta_sena),
        )
    except OverpaymentUnconfirmed as exc:
        stay = await repository.get(session, code)
        typed = {"monto": monto, "motivo": motivo, "si_falta_sena": si_falta_sena}
        return _second_step(request, stay, exc, action, typed)
    except DepositUncovered as exc:
        stay = await repository.get(session, code)
        return _second_step(request, stay, exc, action, fields)
    return RedirectResponse(_detail_url(fixed.code, "corregido"), 303)


@router.post("/{code}/devolucion")
async def record_refund(
    request: Request,
    code: str,
    session: SessionDep,
    admin: CurrentAdmin,
    monto: Annotated[str, Form(max_length=40)] = "",
    medio: Annotated[str, Form(max_length=20)] = "",
    motivo: Annotated[str, Form(max_length=500)] = "",
    si_falta_sena: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Money given back to the guest (an overpayment, a cancelled stay's deposit)."""
    if medio not in labels.MANUAL_METHODS:
        raise InvalidMethod(f"unknown payment method {medio!r}")
    try:
        refunded, _refund = await payments.refund(
            session,
            code,
            amount=parse_amount(monto),
            method=medio,
            reason=motivo,
            actor=admin.actor,
            if_uncovered=IF_UNCOVERED.get(si_falta_sena),
        )
    except DepositUncovered as exc:
        stay = await repository.get(session, code)
        return _second_step(
            request, stay, exc, "devolucion", {"monto": monto, "medio": medio, "motivo": motivo}
        )
    return RedirectResponse(_detail_url(refunded.code, "devolucion"), 303)


@router.post("/{code}/precio")
async def set_price(
    code: str,
    session: SessionDep,
    admin: CurrentAdmin,
    precio_tipo: Annotated[str, Form(max_length=12)] = "lista",
    precio_valor: Annotated[str, Form(max_length=40)] = "",
    precio_motivo: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Agree a total or a discount after booking (or go back to the list); the guest is told."""
    form = BookingForm(precio_tipo=precio_tipo, precio_valor=precio_valor, precio_motivo=precio_motivo)
    agreed = form.agreed_price()
    priced = await changes.set_price(session, code, agreed, actor=admin.actor)
    return RedirectResponse(_detail_url(priced.code, "precio-acordado" if agreed else "precio-lista"), 303)


PRICE_CHOICES: dict[str, PriceChoice] = {"mantener": "keep", "lista": "reprice"}


@router.post("/{code}/cambiar")
async def change_stay(
    code: str,
    session: SessionDep,
    admin: CurrentAdmin,
    unidad: Annotated[str, Form(max_length=12)] = "",
    entrada: Annotated[str, Form(max_length=10)] = "",
    salida: Annotated[str, Form(max_length=10)] = "",
    personas: Annotated[str, Form(max_length=3)] = "",
    precio: Annotated[str, Form(max_length=10)] = "",
    motivo_regla: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Other dates, unit or party size for the same reservation: re-quoted (or at the agreed price, when
    the operator keeps it), payments kept, guest told."""
    unit_id, check_in, check_out, guests = BookingForm(
        unidad=unidad, entrada=entrada, salida=salida, personas=personas
    ).stay()
    changed = await changes.change_stay(
        session,
        code,
        accommodation_id=unit_id,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        actor=admin.actor,
        price=PRICE_CHOICES.get(precio),
        override_reason=motivo_regla.strip() or None,
    )
    told = bool(changed.guest_email) or reaches_by_whatsapp(changed)
    return RedirectResponse(_detail_url(changed.code, "cambiada" if told else "cambiada-sin-aviso"), 303)


@router.post("/{code}/huesped")
async def fix_guest(
    code: str,
    session: SessionDep,
    admin: CurrentAdmin,
    nombre: Annotated[str, Form(max_length=200)] = "",
    telefono: Annotated[str, Form(max_length=40)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """A typo in the name, another phone or e-mail; the guest is not messaged about it."""
    if not nombre.strip():
        raise MissingName("the guest's name is missing")
    fixed = await changes.update_guest(
        session,
        code,
        name=nombre,
        phone=BookingForm(telefono=telefono).phone(),
        email=email,
        actor=admin.actor,
    )
    return RedirectResponse(_detail_url(fixed.code, "huesped"), status_code=303)


@router.post("/{code}/cancelar")
async def cancel(
    code: str,
    session: SessionDep,
    admin: CurrentAdmin,
    motivo: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    cancelled = await transitions.cancel(session, code, actor=admin.actor, reason=motivo.strip() or None)
    return RedirectResponse(_detail_url(cancelled.code, "cancelada"), status_code=303)


@router.post("/{code}/no-vino")
async def no_show(code: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    marked = await transitions.no_show(session, code, actor=admin.actor)
    return RedirectResponse(_detail_url(marked.code, "no-vino"), status_code=303)


@router.post("/{code}/notas")
async def save_notes(
    code: str,
    session: SessionDep,
    admin: CurrentAdmin,
    notas: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    found = await changes.set_notes(session, code, notas)
    return RedirectResponse(_detail_url(found.code, "notas"), status_code=303)
