"""Periodic reservation upkeep run by the worker."""

from __future__ import annotations

from datetime import datetime

from alojamientos.jobs.worker import Worker, every
from alojamientos.reservations import transitions


@every(30, "reservations.expire_holds")
async def expire_holds(worker: Worker, now: datetime) -> None:
    async with worker.db.session_scope() as session:
        await transitions.expire_due(session, now=now)
