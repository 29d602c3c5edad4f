"""Guest messages an operator asks for on purpose (the automatic ones are queued by `tasks.notify`)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.errors import Conflict
from alojamientos.reservations import events
from alojamientos.reservations.errors import ReservationNotFound
from alojamientos.reservations.models import Reservation, ReservationSource, ReservationStatus

log = logging.getLogger(__name__)

# `ReservationEvent.reason` of a deliberate resend: `tasks.notify` sends the confirmation again for it.
RESEND_CONFIRMATION = "resend_confirmation"
# … and of a resent payment request: the hold's deposit, deadline and how to pay, again.
RESEND_PAYMENT_REQUEST = "resend_payment_request"


class NotConfirmed(Conflict):
    """Only a confirmed stay has a confirmation to resend."""

    code = "not_confirmed"


class NotHeld(Conflict):
    """Only a pre-reservation waits for a deposit."""

    code = "not_held"


class NoGuestContact(Conflict):
    """Neither a WhatsApp conversation we may write to nor an e-mail address: nothing would be sent."""

    code = "no_guest_contact"


def reaches_by_whatsapp(stay: Reservation) -> bool:
    """Guests who booked over WhatsApp or through the panel; other channels' guests talk to them."""
    return bool(stay.guest_phone) and stay.source in (ReservationSource.whatsapp, ReservationSource.admin)


async def resend_confirmation(session: AsyncSession, code: str, *, actor: str) -> Reservation:
    """Queues the guest's confirmation (WhatsApp and e-mail) again, as a new send.

    It is a timeline event of its own (confirmed → confirmed, reason `resend_confirmation`), so its
    `reservation.notify` job and the messages it queues are keyed on the new event: the original
    confirmation's at-most-once delivery is untouched, and the timeline shows who asked for it.
    """
    stay = await session.scalar(select(Reservation).where(Reservation.code == code.upper()).with_for_update())
    if stay is None or stay.kind != "stay":
        raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
    if stay.status != ReservationStatus.confirmed:
        raise NotConfirmed(
            f"reservation {stay.code} is {stay.status}; only confirmed ones can be resent",
            status=stay.status,
        )
    if not stay.guest_email and not reaches_by_whatsapp(stay):
        raise NoGuestContact(f"reservation {stay.code} has no guest e-mail nor WhatsApp conversation")
    status = ReservationStatus.confirmed.value
    await events.record_event(session, stay, status, status, actor=actor, reason=RESEND_CONFIRMATION)
    log.info("reservation.confirmation_resent", extra={"code": stay.code, "actor": actor})
    return stay


async def resend_payment_request(session: AsyncSession, code: str, *, actor: str) -> Reservation:
    """Queues the hold's payment message (deposit, deadline, bank details or Mercado Pago link) again,
    by WhatsApp and e-mail, as a new send: a timeline event of its own (pre_reserved → pre_reserved,
    reason `resend_payment_request`) whose `reservation.notify` job and messages are keyed on it.

    Raises ReservationNotFound, NotHeld (409) when the stay is not a pre-reservation, NoGuestContact
    (409) when it has neither a WhatsApp conversation we may write to nor an e-mail address.
    """
    stay = await session.scalar(select(Reservation).where(Reservation.code == code.upper()).with_for_update())
    if stay is None or stay.kind != "stay":
        raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
    if stay.status != ReservationStatus.pre_reserved:
        raise NotHeld(
            f"reservation {stay.code} is {stay.status}; only a pre_reserved one waits for a deposit",
            status=stay.status,
        )
    if not stay.guest_email and not reaches_by_whatsapp(stay):
        raise NoGuestContact(f"reservation {stay.code} has no guest e-mail nor WhatsApp conversation")
    status = ReservationStatus.pre_reserved.value
    await events.record_event(session, stay, status, status, actor=actor, reason=RESEND_PAYMENT_REQUEST)
    log.info("reservation.payment_request_resent", extra={"code": stay.code, "actor": actor})
    return stay
