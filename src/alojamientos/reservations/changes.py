"""Changing a stay in place (dates, unit, party) and correcting the guest's details."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from psycopg import errors as pg_errors
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.kit.clock import utc_now
from alojamientos.kit.email_address import is_email
from alojamientos.reservations import events, holds, quotes, repository, transitions
from alojamientos.reservations.errors import (
    AccommodationInactive,
    InvalidGuest,
    InvalidPrice,
    InvalidTransition,
    NothingChanged,
    PriceChoiceRequired,
    WrongKind,
)
from alojamientos.reservations.events import GUEST_UPDATED, STAY_CHANGED
from alojamientos.reservations.models import (
    OCCUPYING,
    Reservation,
)
from alojamientos.reservations.types import AgreedPrice, Price, PriceChoice

log = logging.getLogger(__name__)


async def change_stay(
    session: AsyncSession,
    code: str,
    *,
    accommodation_id: int | None = None,
    check_in: date,
    check_out: date,
    guests: int | None = None,
    actor: str,
    price: PriceChoice | None = None,
    override_reason: str | None = None,
) -> Reservation:
    """Move a hold or confirmed stay to another unit, dates or party size, re-quoted as a new hold.

    The same reservation, so its payments stay with it: the paid amount is kept, a hold keeps its
    expiry, and the exclusion constraint decides overlaps exactly as for a new hold. A stay with an
    agreed price needs `price`: "keep" (the same total, whatever the list says for the new stay) or
    "reprice" (the list's price for the new stay); PriceChoiceRequired (409) without it.
    A unit or party size left as None stays as it is.
    `override_reason`: book past the stay rules, as for a new hold (operators only).
    Errors: ReservationNotFound (404), WrongKind (a block, 422), InvalidTransition (not a hold or
    confirmed stay, 409), DatesUnavailable (409, naming the stay in the way), PriceChoiceRequired
    (409), NothingChanged, InvalidPrice and the quote's own refusals (422), AccommodationNotFound (404).
    """
    stay = await transitions.locked(session, code)  # a confirm or cancel waits for us, or we for it
    if stay.kind != "stay":
        raise WrongKind(f"{stay.code} is a block", kind=stay.kind)
    if stay.status not in OCCUPYING:
        raise InvalidTransition(
            f"reservation {stay.code} is {stay.status}; only holds and confirmed stays can change",
            status=stay.status,
        )
    accommodation_id = stay.accommodation_id if accommodation_id is None else accommodation_id
    guests = stay.guests if guests is None else guests
    if (stay.accommodation_id, stay.check_in, stay.check_out, stay.guests) == (
        accommodation_id,
        check_in,
        check_out,
        guests,
    ):
        raise NothingChanged(f"reservation {stay.code} already is that stay")
    unit = await repository.accommodation(session, accommodation_id)
    if not unit.active:
        raise AccommodationInactive(f"{unit.name} is not taking bookings")
    new_quote, override = await quotes.bookable_quote(
        session, unit, check_in, check_out, guests, override_reason=override_reason
    )
    if stay.price_reason is None:
        if price == "keep":
            raise InvalidPrice(f"reservation {stay.code} has no agreed price to keep", field="price")
        new_price = Price.of(new_quote, None)
    elif price is None:
        raise PriceChoiceRequired(
            f"reservation {stay.code} has an agreed price ({stay.total_amount}):"
            " keep it or reprice the new stay from the list",
            total=str(stay.total_amount),
            reason=stay.price_reason,
            choices=["keep", "reprice"],
        )
    else:
        keep = price == "keep"
        new_price = (
            Price.kept(new_quote, stay.total_amount, stay.price_reason) if keep else Price.of(new_quote, None)
        )
    before = _stay_facts(stay, (await repository.accommodation(session, stay.accommodation_id)).name)
    try:
        async with session.begin_nested():
            await session.execute(
                update(Reservation)
                .where(Reservation.id == stay.id)
                .values(
                    accommodation_id=unit.id,
                    check_in=check_in,
                    check_out=check_out,
                    guests=guests,
                    total_amount=new_price.total,
                    deposit_amount=new_price.deposit,
                    list_amount=new_price.list_amount,
                    price_reason=new_price.reason,
                    updated_at=utc_now(),
                )
                .execution_options(synchronize_session=False)
            )
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.ExclusionViolation):
            raise await holds.dates_unavailable(
                session, unit.id, check_in, check_out, besides=stay.code
            ) from None
        raise
    await session.refresh(stay)  # the period is computed by the database
    after = _stay_facts(stay, unit.name)
    data: dict[str, Any] = {"before": before, "after": after}
    if price is not None:
        data["price"] = price
    if override is not None:
        data["override"] = override
    await events.record_event(
        session, stay, stay.status, stay.status, actor=actor, reason=STAY_CHANGED, data=data
    )
    log.info("reservation.stay_changed", extra={"code": stay.code, "before": before, "after": after})
    return stay


async def set_price(
    session: AsyncSession,
    code: str,
    agreed: AgreedPrice | None,
    *,
    actor: str,
) -> Reservation:
    """Agree a price for a hold or confirmed stay after booking (None: back to the list's price).

    The list total is the stay's quote with today's rules; the deposit is today's percentage of the
    new total. The guest is told the new total like any changed stay (a STAY_CHANGED event).
    """
    stay = await transitions.locked(session, code)
    if stay.kind != "stay":
        raise WrongKind(f"{stay.code} is a block", kind=stay.kind)
    if stay.status not in OCCUPYING:
        raise InvalidTransition(
            f"reservation {stay.code} is {stay.status}; only holds and confirmed stays can change",
            status=stay.status,
        )
    unit = await repository.accommodation(session, stay.accommodation_id)
    list_quote = await quotes.quote(session, unit, stay.check_in, stay.check_out, stay.guests)
    new_price = Price.of(list_quote, agreed)
    if (new_price.total, new_price.reason) == (stay.total_amount, stay.price_reason):
        raise NothingChanged(f"reservation {stay.code} already has that price")
    before = _stay_facts(stay, unit.name)
    stay.total_amount, stay.deposit_amount = new_price.total, new_price.deposit
    stay.list_amount, stay.price_reason = new_price.list_amount, new_price.reason
    await session.flush()
    await events.record_event(
        session,
        stay,
        stay.status,
        stay.status,
        actor=actor,
        reason=STAY_CHANGED,
        data={
            "before": before,
            "after": _stay_facts(stay, unit.name),
            "price": "agreed" if agreed else "list",
        },
    )
    log.info("reservation.price_set", extra={"code": stay.code, "agreed": agreed is not None})
    return stay


async def update_guest(
    session: AsyncSession,
    code: str,
    *,
    name: str,
    phone: str | None,
    email: str | None,
    actor: str,
) -> Reservation:
    """Correct who the guest is (a typo, another number); the guest is not messaged about it.

    `phone` comes already in E.164 (`kit.phone.to_e164`), or None.
    """
    stay = await transitions.locked(session, code)
    if stay.kind != "stay":
        raise WrongKind(f"{stay.code} is a block", kind=stay.kind)
    name = " ".join(name.split())
    email = (email or "").strip() or None
    if not 1 <= len(name) <= 200:
        raise InvalidGuest("the guest needs a name of 1 to 200 characters", field="name")
    if email is not None and not is_email(email):
        raise InvalidGuest(f"{email!r} is not an e-mail address", field="email")
    if phone is not None and not (phone.startswith("+") and len(phone) <= 20):
        raise InvalidGuest(f"{phone!r} is not an E.164 phone number", field="phone")
    before = {"name": stay.guest_name, "phone": stay.guest_phone, "email": stay.guest_email}
    after = {"name": name, "phone": phone, "email": email}
    if before == after:
        raise NothingChanged(f"reservation {stay.code} already has those guest details")
    stay.guest_name, stay.guest_phone, stay.guest_email = name, phone, email
    await session.flush()
    await events.record_event(
        session,
        stay,
        stay.status,
        stay.status,
        actor=actor,
        reason=GUEST_UPDATED,
        data={"before": before, "after": after},
        notify=False,
    )
    log.info("reservation.guest_updated", extra={"code": stay.code})
    return stay


async def set_notes(session: AsyncSession, code: str, notes: str) -> Reservation:
    """Free text for the team, never shown to the guest; not a change of the stay, so no event."""
    found = await repository.get(session, code)
    found.notes = notes.strip()
    await session.flush()
    return found


def _stay_facts(stay: Reservation, unit_name: str) -> dict[str, Any]:
    """A stay as the timeline keeps it (JSON): enough to say, in words, what it was."""
    return {
        "accommodation_id": stay.accommodation_id,
        "unit": unit_name,
        "check_in": stay.check_in.isoformat(),
        "check_out": stay.check_out.isoformat(),
        "guests": stay.guests,
        "total": str(stay.total_amount),
        "deposit": str(stay.deposit_amount),
        "price_reason": stay.price_reason,
    }
