"""A PostgreSQL job queue worker: claims with SKIP LOCKED, retries with backoff and jitter, dead-letters.

Jobs are rows in `jobs`, enqueued by `jobs.queue.enqueue` inside the transaction of the change that
caused them. A worker claims one (status `running`, a lease), runs its handler outside any
transaction, then records the outcome. A worker killed mid-job leaves a `running` row whose lease
expires; the next worker puts it back to `pending`. Handlers are idempotent: they reload their rows
and re-check state, so running one twice does nothing the second time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import psycopg
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.config import Settings, sqlalchemy_url
from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.jobs.queue import CHANNEL
from alojamientos.kit.clock import utc_now
from alojamientos.observability.metrics import ERRORS, JOBS

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0


@dataclass
class JobContext:
    settings: Settings
    db: Database
    http: httpx.AsyncClient
    job_id: int
    attempt: int

    async def complete_in(self, session: AsyncSession) -> None:
        """Marks this job done inside the handler's own transaction, so what it queued and its
        completion commit together: a crash can neither lose the work nor queue it twice."""
        await session.execute(
            update(Job)
            .where(Job.id == self.job_id)
            .values(status="done", finished_at=utc_now(), locked_at=None)
        )


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]
Periodic = Callable[["Worker", datetime], Awaitable[None]]
_HANDLERS: dict[str, Handler] = {}
_PERIODIC: list[tuple[str, float, Periodic]] = []


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _HANDLERS[kind] = func
        return func

    return register


def every(seconds: float, name: str) -> Callable[[Periodic], Periodic]:
    def register(func: Periodic) -> Periodic:
        _PERIODIC.append((name, seconds, func))
        return func

    return register


class RetryLater(Exception):
    """A transient failure (429, 5xx, timeout): try again after a backoff."""

    def __init__(self, reason: str, after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.after = after


class GiveUp(Exception):
    """A permanent failure (other 4xx): dead-letter now, retrying cannot help."""


class Held(Exception):
    """The channel this job needs is not configured (a setting, not a failure): the job waits as
    `held`, untried and unalerted, until `jobs.queue.release_held` puts it back once it is."""


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential from 5 s, capped at 1 h, with full jitter in [0.5, 1.5) so retries spread out."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return timedelta(seconds=base * (0.5 + (rng or random).random()))


class Worker:
    def __init__(self, settings: Settings, db: Database, http: httpx.AsyncClient, *, name: str | None = None):
        self.settings = settings
        self.db = db
        self.http = http
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._last_periodic: dict[str, float] = {}

    async def claim(self, now: datetime) -> Job | None:
        async with self.db.session_scope() as session:
            due = (
                select(Job.id)
                .where(Job.status == "pending", Job.run_at <= now)
                .order_by(Job.run_at, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            job: Job | None = await session.scalar(
                update(Job)
                .where(Job.id == due)
                .values(status="running", locked_at=utc_now(), locked_by=self.name, attempts=Job.attempts + 1)
                .returning(Job)
            )
            return job

    async def run_job(self, job: Job) -> str:
        """Runs one claimed job and records the outcome: done, pending again, held, or dead."""
        func = _HANDLERS.get(job.kind)
        context = JobContext(self.settings, self.db, self.http, job.id, job.attempts)
        outcome, error, run_at = "done", None, None
        try:
            if func is None:
                raise GiveUp(f"no handler for job kind {job.kind!r}")
            await func(context, job.payload)
        except Held as exc:
            outcome, error = "held", str(exc)
        except GiveUp as exc:
            outcome, error = "dead", str(exc)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, RetryLater):
                ERRORS.labels(f"job.{job.kind}").inc()
                log.exception("jobs.handler_crashed", extra={"job_id": job.id, "kind": job.kind})
            if job.attempts >= job.max_attempts:
                outcome = "dead"
            else:
                outcome = "pending"
                after = exc.after if isinstance(exc, RetryLater) and exc.after else backoff(job.attempts)
                run_at = utc_now() + after
        async with self.db.session_scope() as session:
            values: dict[str, Any] = {
                "status": outcome,
                "last_error": error,
                "locked_at": None,
                "locked_by": None,
            }
            if outcome == "pending":
                values["run_at"] = run_at
            elif outcome == "held":
                values["attempts"] = job.attempts - 1  # it was never tried
            else:
                values["finished_at"] = utc_now()
            await session.execute(
                update(Job).where(Job.id == job.id, Job.status == "running").values(**values)
            )
        JOBS.labels(job.kind, outcome).inc()
        level = logging.WARNING if outcome == "dead" else logging.INFO
        log.log(level, f"jobs.{outcome}", extra={"job_id": job.id, "kind": job.kind, "error": error})
        return outcome

    async def run_pending(self, *, now: datetime | None = None, limit: int | None = None) -> int:
        """Runs due jobs until none is left (or `limit`); returns how many ran."""
        ran = 0
        while limit is None or ran < limit:
            job = await self.claim(now or utc_now())
            if job is None:
                return ran
            await self.run_job(job)
            ran += 1
        return ran

    async def reap(self, now: datetime) -> int:
        """Jobs whose worker died mid-run go back to the queue once their lease has expired."""
        async with self.db.session_scope() as session:
            result = await session.execute(
                update(Job)
                .where(Job.status == "running", Job.locked_at < now - LEASE)
                .values(status="pending", locked_at=None, locked_by=None, run_at=now)
                .returning(Job.id)
            )
            reaped = [row[0] for row in result]
        if reaped:
            log.warning("jobs.reaped", extra={"jobs": reaped})
        return len(reaped)

    async def run_periodic(self, now: datetime, *, force: bool = False) -> None:
        loop_time = asyncio.get_running_loop().time()
        for name, seconds, func in _PERIODIC:
            if not force and loop_time - self._last_periodic.get(name, -1e18) < seconds:
                continue
            self._last_periodic[name] = loop_time
            try:
                await func(self, now)
            except Exception:
                ERRORS.labels(f"periodic.{name}").inc()
                log.exception("jobs.periodic_failed", extra={"task": name})

    async def run_forever(self, stop: asyncio.Event, *, poll_seconds: float = 2.0) -> None:
        """Runs jobs as they are enqueued (LISTEN/NOTIFY, with polling as the safety net)."""
        log.info("worker.started", extra={"worker": self.name, "handlers": sorted(_HANDLERS)})
        url = sqlalchemy_url(self.settings.database_url).replace("postgresql+psycopg://", "postgresql://")
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as listener:
            await listener.execute(f"LISTEN {CHANNEL}")
            while not stop.is_set():
                now = utc_now()
                await self.run_periodic(now)
                await self.run_pending()
                async for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                    break
        log.info("worker.stopped", extra={"worker": self.name})


@every(60, "jobs.reap")
async def _reap(worker: Worker, now: datetime) -> None:
    await worker.reap(now)


async def queue_counts(db: Database) -> dict[str, int]:
    async with db.session_scope() as session:
        rows = await session.execute(text("SELECT status, count(*) FROM jobs GROUP BY status"))
        return {status: count for status, count in rows.all()}
