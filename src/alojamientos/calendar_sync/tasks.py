"""Periodic sync of every registered URL feed, one job per feed per interval."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from alojamientos.calendar_sync.models import IcalFeed
from alojamientos.calendar_sync.service import sync_feed
from alojamientos.jobs.queue import enqueue
from alojamientos.jobs.worker import JobContext, Worker, every, handler
from alojamientos.ops.flags import flags

SYNC_FEED = "ical.sync_feed"


@every(60, "ical.schedule")
async def schedule(worker: Worker, now: datetime) -> None:
    interval = timedelta(minutes=worker.settings.ical_sync_minutes)
    bucket = int(now.timestamp() // interval.total_seconds())
    async with worker.db.session_scope() as session:
        if not await flags.enabled(session, "ical_sync"):
            return
        due = await session.scalars(
            select(IcalFeed.id).where(
                IcalFeed.url.is_not(None),
                or_(IcalFeed.last_attempt_at.is_(None), IcalFeed.last_attempt_at <= now - interval),
            )
        )
        for feed_id in due:
            await enqueue(session, SYNC_FEED, {"feed_id": feed_id}, dedupe_key=f"ical:{feed_id}:{bucket}")


@handler(SYNC_FEED)
async def sync_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    await sync_feed(ctx.db, ctx.settings, ctx.http, int(payload["feed_id"]))
