"""The timeline: every change of a reservation writes one event, and the job that tells people about it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    String,
    Text,
    bindparam,
    cast,
    func,
    insert,
    inspect,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from alojamientos.jobs.models import Job
from alojamientos.jobs.queue import CHANNEL, enqueue
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


def chained(
    changed: CTE, *, from_status: ColumnElement[str | None] | None, notify: bool
) -> tuple[CTE, ColumnElement[int]]:
    """`record_event` as parts of the statement that changes the rows: for each row the CTE `changed`
    returns (its `id`), the timeline entry and (`notify`) its NOTIFY job and the workers' wake-up.

    The event's values are bound at execution (`event_params`), so callers build the statement once.
    Returns the event CTE (`reservation_events` columns) and a column to select so the wake-up runs
    (PostgreSQL runs a plain SELECT in WITH only when it is read); a row nobody changed writes nothing.
    Data-modifying CTEs see one snapshot and run whatever their order; the event's foreign key is
    checked at the end of the statement, when the changed row exists.
    """
    event = (
        insert(ReservationEvent)
        .from_select(
            ["reservation_id", "from_status", "to_status", "actor", "reason", "data"],
            select(
                changed.c.id,
                from_status if from_status is not None else null(),
                bindparam("event_to_status", type_=String),
                bindparam("event_actor", type_=String),
                bindparam("event_reason", type_=Text),
                bindparam("event_data", type_=JSONB),
            ),
        )
        .returning(*ReservationEvent.__table__.c)
        .cte("event")
    )
    if not notify:
        return event, literal_column("0").label("woken")
    job = (
        pg_insert(Job)
        .from_select(
            ["kind", "payload", "dedupe_key"],
            select(
                literal_column(f"'{NOTIFY}'", String),
                func.jsonb_build_object("event_id", event.c.id),
                literal_column("'event:'", String) + cast(event.c.id, String),
            ),
        )
        .on_conflict_do_nothing(index_elements=[Job.dedupe_key])
        .returning(Job.id)
        .cte("job")
    )
    # What `jobs.queue.enqueue` sends; delivered at commit, so no worker sees a job that rolled back.
    wake = select(func.pg_notify(literal_column(f"'{CHANNEL}'"), literal_column("''"))).select_from(job)
    return event, select(func.count()).select_from(wake.cte("wake")).scalar_subquery().label("woken")


def event_params(
    to_status: str, *, actor: str, reason: str | None = None, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The values `chained` binds: the event's new status, who made the change, why, and its facts."""
    return {
        "event_to_status": to_status,
        "event_actor": actor,
        "event_reason": reason,
        "event_data": data or {},
    }


def loaded_too(reservation: Reservation, event: ReservationEvent) -> None:
    """Add an event written by a statement to the reservation's `events` when they are loaded, so the
    list stays true without reading it again (unloaded, the next read loads it whole)."""
    if "events" in inspect(reservation).dict:
        set_committed_value(reservation, "events", [*reservation.events, event])
