"""The dead-letter list: what the worker gave up on, and a way to try again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, text

from alojamientos.auth.deps import CurrentOperator
from alojamientos.db import SessionDep
from alojamientos.errors import Conflict, NotFound
from alojamientos.jobs.models import Job
from alojamientos.jobs.queue import CHANNEL
from alojamientos.kit.clock import utc_now

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    attempts: int
    payload: dict[str, Any]
    last_error: str | None
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None


@router.get("", response_model=list[JobOut])
async def list_jobs(
    session: SessionDep,
    operator: CurrentOperator,
    status: Annotated[str, Query(pattern="^(pending|running|done|dead)$")] = "dead",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Job]:
    query = select(Job).where(Job.status == status).order_by(Job.id.desc()).limit(limit)
    return list(await session.scalars(query))


@router.post("/{job_id}/retry", response_model=JobOut)
async def retry(job_id: int, session: SessionDep, operator: CurrentOperator) -> Job:
    """A dead job goes back to the queue with a fresh set of attempts."""
    job = await session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound(f"there is no job {job_id}")
    if job.status != "dead":
        raise Conflict(f"job {job_id} is {job.status}; only dead jobs can be retried", status=job.status)
    job.status, job.attempts, job.run_at, job.finished_at = "pending", 0, utc_now(), None
    await session.execute(text(f"NOTIFY {CHANNEL}"))
    return job
