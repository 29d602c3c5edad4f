"""State changes: conditional UPDATEs that write their timeline event in the same transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, bindparam, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.kit.clock import local_today, utc_now
from alojamientos.observability.transitions import count_transition
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
    ReservationEvent,
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
    """Move the reservation from one of `frm` to `to`, with its event (and, `notify`, the job that
    tells people), in one statement; InvalidTransition (409) from another state, naming it.

    The row is locked first (`FOR UPDATE` in the first CTE) so the UPDATE knows the status it moved
    from: a competing change commits before we read it, and exactly one of two racing changes wins.
    """
    values = {"status": to.value, "updated_at": utc_now(), **(values or {})}
    params = {f"set_{name}": value for name, value in values.items()}
    params |= events.event_params(to.value, actor=actor, reason=reason, data=data)
    statement = _moved(tuple(values), notify)
    row = (
        await session.execute(
            statement, {**params, "wanted_code": code.upper(), "from_any": [status.value for status in frm]}
        )
    ).first()
    if row is None:
        raise ReservationNotFound(f"there is no reservation {code}", reservation_code=code)
    reservation: Reservation | None = row[0]
    current: str = row[2]
    if reservation is None:
        raise InvalidTransition(
            f"reservation {code.upper()} is {current}; it cannot become {to.value}", status=current
        )
    events.loaded_too(reservation, row[1])
    count_transition(session, current, to.value)
    log.info(f"reservation.{to.value}", extra={"code": reservation.code, "from": current})
    return reservation


@cache
def _moved(columns: tuple[str, ...], notify: bool) -> Executable:
    """The statement `transition` runs for a change that sets `columns`: built once per shape, with
    `wanted_code`, `from_any` (a list), `set_<column>` and `events.event_params` bound at execution.
    No parameter is named like a column: an UPDATE would take it as one more column to set."""
    table = Reservation.__table__
    locked = (
        select(Reservation.id, Reservation.status)
        .where(Reservation.code == bindparam("wanted_code"))
        .with_for_update()
        .cte("locked")
    )
    moved = (
        update(Reservation)
        .where(Reservation.id == locked.c.id, locked.c.status.in_(bindparam("from_any", expanding=True)))
        .values({name: bindparam(f"set_{name}", type_=table.c[name].type) for name in columns})
        .returning(*table.c, locked.c.status.label("from_status"))
        .cte("moved")
    )
    event, woken = events.chained(moved, from_status=moved.c.from_status, notify=notify)
    current = locked.c.status.label("current")
    written = select(moved, event, current, woken).select_from(
        locked.outerjoin(moved, true()).outerjoin(event, event.c.reservation_id == moved.c.id)
    )
    return (
        select(Reservation, ReservationEvent, current)
        .from_statement(written)
        .execution_options(populate_existing=True)  # the caller may hold the row from before
    )
