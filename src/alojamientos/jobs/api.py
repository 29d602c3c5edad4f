"""The dead-letter list: what the worker gave up on, and a way to try again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from alojamientos.auth.deps import CurrentOperator
from alojamientos.db import SessionDep
from alojamientos.jobs.models import Job
from alojamientos.jobs.queue import retry_dead
from alojamientos.kit.inputs import BigId

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
    status: Literal["pending", "running", "done", "dead", "held"] = "dead",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Job]:
    query = select(Job).where(Job.status == status).order_by(Job.id.desc()).limit(limit)
    return list(await session.scalars(query))


@router.post("/{job_id}/retry", response_model=JobOut)
async def retry(job_id: BigId, session: SessionDep, operator: CurrentOperator) -> Job:
    """A dead job goes back to the queue with a fresh set of attempts."""
    return await retry_dead(session, job_id, actor=f"operator:{operator.email}")
