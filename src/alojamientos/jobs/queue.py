"""Enqueue background work inside the caller's transaction: a rollback discards it, a commit wakes workers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.jobs.models import Job

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
    job_id = await session.scalar(statement.returning(Job.id))
    if job_id is not None:
        # Delivered by PostgreSQL only at commit, so workers never see a job that rolled back.
        await session.execute(text(f"NOTIFY {CHANNEL}"))
    return job_id
