"""The system at a glance: version, health checks, the newest backup, the job queue and its dead letters."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos import __version__
from alojamientos.admin import labels
from alojamientos.admin.deps import PREFIX, CurrentAdmin, local_tz
from alojamientos.admin.templating import render
from alojamientos.config import Settings
from alojamientos.db import SessionDep
from alojamientos.errors import NotFound
from alojamientos.jobs.models import JOB_STATUSES, Job
from alojamientos.jobs.queue import retry_dead
from alojamientos.kit.clock import utc_now
from alojamientos.kit.inputs import BigId
from alojamientos.observability.health import health
from alojamientos.ops import deploy as deploys
from alojamientos.ops.backup import offsite
from alojamientos.ops.backup.archive import BackupInfo, list_backups
from alojamientos.ops.backup.common import human_size
from alojamientos.ops.backup.offsite import OffsiteRecord
from alojamientos.ops.doctor import BACKUP_MAX_AGE_MINUTES
from alojamientos.ops.flags import flags
from alojamientos.ops.models import DeployRun, DeployStep
from alojamientos.ops.tasks import BACKUP, request_backup

router = APIRouter(prefix="/sistema")

DEAD_LIMIT = 100
DEPLOY_LIMIT = 5
DEPLOY_STATUS = {
    "done": "completado",
    "rolled_back": "vuelto atrás solo",
    "failed": "falló",
    "running": "en curso",
    "refused": "rechazado",
}


class BackupNotFound(NotFound):
    code = "backup_not_found"


# The same limit `alojamientos doctor` applies ("backup within a day").
BACKUP_STALE_AFTER = timedelta(minutes=BACKUP_MAX_AGE_MINUTES)


@dataclass(frozen=True, slots=True)
class BackupState:
    latest: BackupInfo | None
    age: timedelta | None
    size: str
    files: list[BackupInfo] = field(default_factory=list)  # every backup in BACKUP_DIR, newest first
    offsite_target: str | None = None  # offsite.target(): "s3", "command" or None
    offsite: OffsiteRecord | None = None  # the newest backup's last off-machine copy attempt
    offsite_where: str = ""

    @property
    def offsite_problem(self) -> bool:
        """A destination is configured and the newest backup is not verified there (failed or pending):
        the same finding as `alojamientos doctor`."""
        return bool(self.offsite_target and self.latest and not (self.offsite and self.offsite.ok))

    @property
    def stale(self) -> bool:
        """No backup at all, or one older than doctor tolerates: either way the page shows it in red."""
        return backup_is_stale(self.age)


def backup_is_stale(age: timedelta | None) -> bool:
    return age is None or age > BACKUP_STALE_AFTER


@dataclass(slots=True)
class Backlog:
    by_status: dict[str, int]
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    oldest_due: datetime | None = None  # run_at of the pending job that has waited longest
    scheduled_later: int = 0  # pending, but not due yet (backoff retries, timed messages)

    @property
    def total_open(self) -> int:
        return self.by_status.get("pending", 0) + self.by_status.get("running", 0)


async def backlog(session: AsyncSession, now: datetime) -> Backlog:
    counts = select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
    rows = (await session.execute(counts)).all()
    by_status = dict.fromkeys(JOB_STATUSES, 0)
    by_kind: dict[str, dict[str, int]] = {}
    for kind, status, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        by_kind.setdefault(kind, dict.fromkeys(JOB_STATUSES, 0))[status] = count
    pending = Job.status == "pending"
    oldest_due = await session.scalar(select(func.min(Job.run_at)).where(pending, Job.run_at <= now))
    later = await session.scalar(select(func.count()).select_from(Job).where(pending, Job.run_at > now))
    return Backlog(by_status, dict(sorted(by_kind.items())), oldest_due, later or 0)


async def backup_state(settings: Settings) -> BackupState:
    files = await asyncio.to_thread(list_backups, settings)  # reads each file's manifest
    latest = next((i for i in files if i.problem is None), None)
    kind = offsite.target(settings)
    where = (
        f"{settings.backup_s3_endpoint or 'AWS S3'} · {settings.backup_s3_bucket}/{settings.backup_s3_prefix}"
        if kind == "s3"
        else "BACKUP_COPY_COMMAND"
        if kind
        else ""
    )
    if latest is None:
        return BackupState(None, None, "", files, kind, None, where)
    return BackupState(
        latest,
        max(timedelta(0), utc_now() - latest.created_at),
        human_size(latest.size),
        files,
        kind,
        await asyncio.to_thread(offsite.read_record, latest.path),
        where,
    )


async def deploy_history(session: AsyncSession, request: Request) -> list[dict[str, object]]:
    """The newest `alojamientos deploy`/`rollback` runs with their steps; the newest carries the rollback
    plan's stakeholder notice, filled in (ops.deploy.stakeholder_message)."""
    runs = list(await session.scalars(select(DeployRun).order_by(DeployRun.id.desc()).limit(DEPLOY_LIMIT)))
    if not runs:
        return []
    steps = await session.scalars(
        select(DeployStep).where(DeployStep.run_id.in_([r.id for r in runs])).order_by(DeployStep.id)
    )
    by_run: dict[int, list[dict[str, object]]] = {}
    for step in steps:
        by_run.setdefault(step.run_id, []).append(
            {
                c: getattr(step, c)
                for c in (
                    "step",
                    "ok",
                    "detail",
                    "seconds",
                    "at",
                    "canary_weight",
                    "canary_5xx",
                    "stable_5xx",
                )
            }
        )
    tz = local_tz(request)
    history: list[dict[str, object]] = []
    for run in runs:
        item: dict[str, object] = {
            c: getattr(run, c)
            for c in (
                "id",
                "kind",
                "version",
                "from_version",
                "status",
                "summary",
                "unavailable_seconds",
                "started_at",
                "finished_at",
            )
        }
        item["steps"] = by_run.get(run.id, [])
        item["kind_label"] = deploys.KIND_LABELS.get(run.kind, run.kind)
        item["status_label"] = DEPLOY_STATUS.get(run.status, run.status)
        item["what_happened"] = deploys.what_happened(item)
        when = run.started_at.astimezone(tz)
        item["message"] = deploys.stakeholder_message(item, f"{when:%d/%m/%Y %H:%M} (hora local)")
        history.append(item)
    return history


@router.get("")
async def system_page(request: Request, session: SessionDep, hecho: str = "", error: str = "") -> Response:
    state = request.app.state
    now = utc_now()
    report = await health(state.db, state.redis, state.settings)
    dead = await session.scalars(
        select(Job)
        .where(Job.status == "dead")
        .order_by(Job.finished_at.desc().nulls_last(), Job.id.desc())
        .limit(DEAD_LIMIT)
    )
    context = {
        "now": now,
        "version": __version__,
        "health": report,
        "backup": await backup_state(state.settings),
        "backup_limit": BACKUP_STALE_AFTER,
        "backup_every": state.settings.backup_every_hours,
        "backup_keep": state.settings.backup_keep,
        "backup_queued": await session.scalar(
            select(func.count()).where(Job.kind == BACKUP, Job.status.in_(("pending", "running")))
        ),
        "backlog": await backlog(session, now),
        "channels": {
            "whatsapp": state.settings.whatsapp_configured,
            "email": state.settings.email_configured,
        },
        "integrations": await flags.integrations(session, state.settings),
        "dead_jobs": list(dead),
        "deploys": await deploy_history(session, request),
        "step_labels": deploys.STEP_LABELS,
        "dead_limit": DEAD_LIMIT,
        "done": labels.DONE.get(hecho, ""),
        "error": labels.error_message(error) if error else "",
    }
    return render(request, "admin/system.html", context)


@router.post("/tareas/{job_id}/reintentar")
async def retry_job(job_id: BigId, session: SessionDep, admin: CurrentAdmin) -> Response:
    """The same as POST /api/v1/jobs/{id}/retry: back to the queue, due now, with fresh attempts."""
    await retry_dead(session, job_id, actor=admin.actor)
    return RedirectResponse(f"{PREFIX}/sistema?hecho=reintentada", status_code=303)


@router.post("/copia")
async def backup_now(session: SessionDep, admin: CurrentAdmin) -> Response:
    """The worker takes it (the same file `alojamientos backup create` writes); one per minute at most."""
    await request_backup(session, reason=admin.actor, slot=f"manual:{utc_now():%Y-%m-%dT%H:%M}")
    return RedirectResponse(f"{PREFIX}/sistema?hecho=copia#copia", status_code=303)


@router.get("/copias/{name}")
async def download_backup(name: str, request: Request, admin: CurrentAdmin) -> Response:
    """One backup file, streamed. Only a name the backup listing shows is served (never a path), so
    nothing outside BACKUP_DIR can be asked for."""
    files = await asyncio.to_thread(list_backups, request.app.state.settings)
    found = next((i for i in files if i.path.name == name), None)
    if found is None:
        raise BackupNotFound(f"there is no backup named {name!r}")
    return FileResponse(
        found.path,
        media_type="application/x-tar",
        filename=found.path.name,
        headers={"Cache-Control": "no-store"},
    )
