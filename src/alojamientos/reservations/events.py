"""The timeline: every change of a reservation writes one event, and the job that tells people about it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.jobs.queue import enqueue
from alojamientos.observability.transitions import count_transition
from alojamientos.reservations.models import Reservation, ReservationEvent

NOTIFY = "reservation.notify"  # handled in notifications.tasks: tells the guest and the operator
# `ReservationEvent.reason` of changes that keep the status: notifications.tasks tells the guest about
# a changed stay, and nobody about corrected guest details.
STAY_CHANGED = "stay_changed"
GUEST_UPDATED = "guest_updated"


async def record_event(
    session: AsyncSession,
    reservation: Reservation,
    from_status: str | None,
    to_status: str,
    *,
    actor: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    notify: bool = True,
) -> ReservationEvent:
    """The timeline entry for a change, and the job that tells everyone about it, in one transaction.

    `notify=False` for changes nobody is told about (our own blocks have no guest).
    """
    event = ReservationEvent(
        reservation_id=reservation.id,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
        data=data or {},
    )
    session.add(event)
    await session.flush()
    if from_status != to_status:
        count_transition(session, from_status, to_status)
    if notify:
        await enqueue(session, NOTIFY, {"event_id": event.id}, dedupe_key=f"event:{event.id}")
    return event
