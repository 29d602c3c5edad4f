"""State changes: conditional UPDATEs that write their timeline event in the same transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.kit.clock import local_today, utc_now
from alojamientos.pricing.service import pricing
from alojamientos.reservations import events, holds, repository
from alojamientos.reservations.errors import (
    InvalidTransition,
    NotArrivedYet,
    ReservationNotFound,
    WrongKind,
)
from alojamientos.reservations.models import (
    OCCUPYING,
    Reservation,
    ReservationStatus,
)

log = logging.getLogger(__name__)


async def confirm(
    session: AsyncSession,
    code: str,
    *,
    actor: str,
    data: dict[str, Any] | None = None,
) -> Reservation:
    return await transition(
        session,
        code,
        frm=(ReservationStatus.pre_reserved,),
        to=ReservationStatus.confirmed,
        actor=actor,
        values={"expires_at": None},
        data=data,
    )


async def reopen_hold(session: AsyncSession, code: str, *, actor: str, reason: str) -> Reservation:
    """A confirmed stay whose deposit is no longer paid (a voided payment) waits for it again.

    Only on the operator's explicit say-so. The hold gets a fresh transfer window from now, as if it
    had just been made (the guest pays by transfer; an old Mercado Pago link charged the old amount),
    so the usual reminder and expiry follow. Nobody is messaged: the operator tells the guest.
    """
    window = await holds.hold_window(session, "transfer")
    return await transition(
        session,
        code,
        frm=(ReservationStatus.confirmed,),
        to=ReservationStatus.pre_reserved,
        actor=actor,
        reason=reason,
        values={"expires_at": utc_now() + window, "payment_method": "transfer", "payment_link": None},
        notify=False,
    )


async def cancel(session: AsyncSession, code: str, *, actor: str, reason: str | None = None) -> Reservation:
    return await transition(
        session, code, frm=OCCUPYING, to=ReservationStatus.cancelled, actor=actor, reason=reason
    )


async def no_show(session: AsyncSession, code: str, *, actor: str) -> Reservation:
    """The guest never came: from check-in day on, a confirmed stay ends and its nights free up."""
    found = await repository.get(session, code)
    today = local_today(await pricing.timezone(session))
    if found.kind != "stay":
        raise WrongKind(f"{found.code} is a block", kind=found.kind)
    if today < found.check_in:
        raise NotArrivedYet(
            f"{found.code} checks in on {found.check_in.isoformat()}", check_in=found.check_in.isoformat()
        )
    return await transition(
        session, found.code, frm=(ReservationStatus.confirmed,), to=ReservationStatus.no_show, actor=actor
    )


async def complete(session: AsyncSession, code: str) -> Reservation:
    return await transition(
        session,
        code,
        frm=(ReservationStatus.confirmed,),
        to=ReservationStatus.completed,
        actor="system:checkout",
    )


async def expire_due(session: AsyncSession, *, now: datetime | None = None) -> list[str]:
    """Expire every hold whose window has passed; returns their codes. Safe to run concurrently."""
    now = now or utc_now()
    rows = (
        await session.execute(
            update(Reservation)
            .where(
                Reservation.status == ReservationStatus.pre_reserved,
                Reservation.expires_at <= now,
            )
            .values(status=ReservationStatus.expired.value, updated_at=now)
            .returning(Reservation.id, Reservation.code)
        )
    ).all()
    for reservation_id, code in rows:
        expired = await session.get_one(Reservation, reservation_id)
        await events.record_event(
            session,
            expired,
            ReservationStatus.pre_reserved.value,
            ReservationStatus.expired.value,
            actor="system:expiry",
            reason="the hold was not paid in time",
        )
        log.info("reservation.expired", extra={"code": code})
    await session.flush()
    return [code for _, code in rows]


async def unblock(session: AsyncSession, code: str, *, actor: str) -> Reservation:
    """Open a block of ours again (another channel's blocks come and go with its feed)."""
    found = await repository.get(session, code)
    if found.kind != "block" or found.feed_id is not None:
        raise WrongKind(f"{found.code} is not a block made here", kind=found.kind)
    return await transition(
        session,
        found.code,
        frm=(ReservationStatus.confirmed,),
        to=ReservationStatus.cancelled,
        actor=actor,
        notify=False,
    )


async def locked(session: AsyncSession, code: str) -> Reservation:
    """The reservation, read fresh and locked until the transaction ends."""
    found = await session.scalar(
        repository.by_code(code).with_for_update().execution_options(populate_existing=True)
    )
    if found is None:
        raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
    return found


async def transition(
    session: AsyncSession,
    code: str,
    *,
    frm: tuple[ReservationStatus, ...],
    to: ReservationStatus,
    actor: str,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    notify: bool = True,
) -> Reservation:
    """Conditional UPDATE from one of `frm`; 409 when the reservation is in another state."""
    # Lock the row first so the UPDATE below knows the status it moved from.
    current = await session.scalar(
        select(Reservation.status).where(Reservation.code == code.upper()).with_for_update()
    )
    if current is None:
        raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
    result = await session.execute(
        update(Reservation)
        .where(Reservation.code == code.upper(), Reservation.status.in_(frm))
        .values(status=to.value, updated_at=utc_now(), **(values or {}))
        .returning(Reservation.id)
    )
    moved = result.scalar_one_or_none()
    if moved is None:
        raise InvalidTransition(
            f"reservation {code.upper()} is {current}; it cannot become {to.value}",
            status=current,
        )
    reservation = await session.get_one(Reservation, moved, populate_existing=True)
    await events.record_event(
        session, reservation, current, to.value, actor=actor, reason=reason, data=data, notify=notify
    )
    log.info(f"reservation.{to.value}", extra={"code": reservation.code, "from": current})
    return reservation
