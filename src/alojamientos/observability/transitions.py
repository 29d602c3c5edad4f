"""Reservation transitions counted when their transaction commits (a rollback forgets them)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from alojamientos.observability.metrics import RESERVATION_TRANSITIONS

_PENDING = "alojamientos.pending_transitions"


def count_transition(session: AsyncSession, from_status: str | None, to_status: str) -> None:
    """Count a transition once its transaction commits (a rollback forgets it)."""
    session.sync_session.info.setdefault(_PENDING, []).append((from_status or "new", to_status))


@event.listens_for(Session, "after_commit")
def _flush_transitions(session: Session) -> None:
    for from_status, to_status in session.info.pop(_PENDING, ()):
        RESERVATION_TRANSITIONS.labels(from_status, to_status).inc()


@event.listens_for(Session, "after_rollback")
def _drop_transitions(session: Session) -> None:
    session.info.pop(_PENDING, None)
