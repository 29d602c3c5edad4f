"""Enqueue background work inside the caller's transaction: a rollback discards it, a commit wakes workers."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.errors import Conflict, NotFound
from alojamientos.jobs.models import Job
from alojamientos.kit.clock import utc_now

log = logging.getLogger(__name__)
CHANNEL = "alojamientos_jobs"


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 8,
) -> int | None:
    """Returns the job id, or None when a job with the same `dedupe_key` already exists."""
    values: dict[str, Any] = {"kind": kind, "payload": payload, "max_attempts": max_attempts}
    if run_at is not None:
        values["run_at"] = run_at
    if dedupe_key is not None:
        values["dedupe_key"] = dedupe_key
    statement = insert(Job).values(**values)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=[Job.dedupe_key])
    return await session.scalar(statement.returning(Job.id, wake_workers()))


def wake_workers() -> ColumnElement[Any]:
    """`pg_notify` for a RETURNING clause: the insert wakes the workers in the same round trip, once
    per row actually inserted (a deduplicated job returns no row, so it wakes nobody).

    PostgreSQL delivers a notification only at commit, so workers never see a job that rolled back,
    and folds identical ones of one transaction into one (docs: NOTIFY).
    """
    return func.pg_notify(CHANNEL, "")


async def release_held(session: AsyncSession, kind: str, *, newer_than: datetime) -> int:
    """Held jobs of `kind` created after `newer_than` go back to the queue, due now (their channel is
    configured now); older ones stay held: news that late would mislead. Returns how many."""
    released = await session.execute(
        update(Job)
        .where(Job.kind == kind, Job.status == "held", Job.created_at > newer_than)
        .values(status="pending", run_at=utc_now(), last_error=None)
        .returning(Job.id)
    )
    count = len(released.all())
    if count:
        await session.execute(text(f"NOTIFY {CHANNEL}"))
        log.info("jobs.released", extra={"kind": kind, "count": count})
    return count


class JobNotFound(NotFound):
    code = "job_not_found"


class JobNotDead(Conflict):
    """Only dead letters go back to the queue: a pending or running job is already on its way."""

    code = "job_not_dead"


async def retry_dead(session: AsyncSession, job_id: int, *, actor: str) -> Job:
    """A dead job goes back to the queue, due now, with a fresh set of attempts (API and panel alike)."""
    job = await session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise JobNotFound(f"there is no job {job_id}", job_id=job_id)
    if job.status != "dead":
        raise JobNotDead(f"job {job_id} is {job.status}; only dead jobs can be retried", status=job.status)
    job.status, job.attempts, job.run_at, job.finished_at = "pending", 0, utc_now(), None
    job.locked_at, job.locked_by = None, None
    await session.flush()
    await session.execute(text(f"NOTIFY {CHANNEL}"))
    log.info("jobs.retried", extra={"job_id": job.id, "kind": job.kind, "actor": actor})
    return job
