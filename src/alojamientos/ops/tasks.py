"""Backups the worker takes by itself (every BACKUP_EVERY_HOURS) or when the operator asks in the panel."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.jobs.queue import enqueue
from alojamientos.jobs.worker import JobContext, RetryLater, Worker, every, handler
from alojamientos.ops.backup import create_backup, latest_backup, offsite, prune_backups

log = logging.getLogger(__name__)

BACKUP = "ops.backup"
OFFSITE = "ops.backup_offsite"


async def request_backup(session: AsyncSession, *, reason: str, slot: str) -> int | None:
    """Queues one backup per `slot` (a second request in the same slot is the same job)."""
    return await enqueue(session, BACKUP, {"reason": reason}, dedupe_key=f"backup:{slot}")


@every(600, "ops.backup_schedule")
async def schedule_backup(worker: Worker, now: datetime) -> None:
    hours = worker.settings.backup_every_hours
    if hours <= 0:
        return
    newest = await asyncio.to_thread(latest_backup, worker.settings)
    if newest is not None and newest.created_at > now - timedelta(hours=hours):
        return
    async with worker.db.session_scope() as session:
        await request_backup(session, reason="schedule", slot=f"{now:%Y-%m-%dT%H}")


@handler(BACKUP)
async def take_backup(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The same file `alojamientos backup create` writes, then the oldest beyond BACKUP_KEEP go."""
    path = await asyncio.to_thread(create_backup, ctx.settings)
    deleted = await asyncio.to_thread(prune_backups, ctx.settings, ctx.settings.backup_keep, protect=path)
    log.info(
        "backup.created",
        extra={"path": str(path), "reason": payload.get("reason"), "deleted": [p.name for p in deleted]},
    )
    if offsite.target(ctx.settings) is not None:
        # Its own job, so a failed upload is retried with backoff (and dead-lettered) without a new dump.
        async with ctx.db.session_scope() as session:
            await enqueue(session, OFFSITE, {"file": path.name}, dedupe_key=f"offsite:{path.name}")


@handler(OFFSITE)
async def copy_offsite(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The backup `file` (a name in BACKUP_DIR) copied off the machine and verified; RetryLater on failure."""
    name = str(payload["file"])
    path = Path(ctx.settings.backup_dir) / name
    if Path(name).name != name or not path.is_file():
        log.warning("backup.offsite.gone", extra={"file": name})
        return  # pruned since (or never ours): nothing left to copy
    try:
        record = await asyncio.to_thread(offsite.copy_offsite, ctx.settings, path)
    except offsite.OffsiteCopyFailed as exc:
        log.warning("backup.offsite.failed", extra={"file": name, "error": str(exc)})
        raise RetryLater(f"off-machine copy of {name} failed: {exc}") from exc
    log.info("backup.offsite.copied", extra={"file": name, "target": record.target})
