"""The worker backs up by itself: when the newest backup is older than BACKUP_EVERY_HOURS, and on request."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.kit.clock import utc_now
from alojamientos.ops.backup import list_backups, verify_backup
from alojamientos.ops.tasks import BACKUP, request_backup
from tests.fixtures.api import worker_for


async def backup_jobs(db: Database) -> list[tuple[str, str]]:
    async with db.session_scope() as session:
        rows = await session.execute(
            select(Job.status, Job.payload["reason"].astext).where(Job.kind == BACKUP)
        )
        return [(status, reason) for status, reason in rows.all()]


async def test_a_stale_backup_is_replaced_by_the_worker_and_old_ones_pruned(
    db: Database, tmp_path: Path
) -> None:
    settings = Settings(backup_dir=tmp_path, backup_every_hours=24, backup_keep=1, redis_url=None)
    async with worker_for(settings) as worker:
        await worker.run_periodic(utc_now(), force=True)  # no backup at all: one is due
        assert await backup_jobs(db) == [("pending", "schedule")]
        await worker.run_pending()
        [first] = list_backups(settings)
        assert all(check.ok for check in verify_backup(settings, first.path)), "the backup verifies itself"

        await worker.run_periodic(utc_now(), force=True)  # fresh: nothing to do
        assert await backup_jobs(db) == [("done", "schedule")]

        await worker.run_periodic(utc_now() + timedelta(hours=25), force=True)  # a day later: due again
        await worker.run_pending()
        [newest] = list_backups(settings)  # BACKUP_KEEP=1: the first one was deleted
        assert newest.path != first.path
        assert not first.path.exists()


async def test_zero_hours_means_only_by_hand(db: Database, tmp_path: Path) -> None:
    settings = Settings(backup_dir=tmp_path, backup_every_hours=0, redis_url=None)
    async with worker_for(settings) as worker:
        await worker.run_periodic(utc_now() + timedelta(days=30), force=True)
        assert await backup_jobs(db) == []
        async with db.session_scope() as session:
            assert (
                await request_backup(session, reason="operator:ana@example.com", slot="manual:1") is not None
            )
            assert await request_backup(session, reason="operator:ana@example.com", slot="manual:1") is None
        await worker.run_pending()
    assert len(list_backups(settings)) == 1
    assert await backup_jobs(db) == [("done", "operator:ana@example.com")]
