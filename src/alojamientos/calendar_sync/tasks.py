"""Periodic sync of every registered URL feed, one job per feed per interval; a feed whose event
collided with a stay of ours is synced again as soon as that stay lets go of its nights."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.calendar_sync.models import IcalFeed
from alojamientos.calendar_sync.service import sync_feed
from alojamientos.jobs.queue import enqueue
from alojamientos.jobs.worker import JobContext, Worker, every, handler
from alojamientos.notifications.models import OperatorAlert
from alojamientos.ops.flags import flags
from alojamientos.reservations.models import OCCUPYING, Reservation

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
        minute = int(now.timestamp() // 60)
        for feed_id in await _freed(session):
            key = f"ical:{feed_id}:freed:{minute}"
            await enqueue(session, SYNC_FEED, {"feed_id": feed_id}, dedupe_key=key)


async def _freed(session: AsyncSession) -> set[int]:
    """URL feeds with an open collision whose stay here is no longer occupying (cancelled, expired):
    the channel's nights it held must be blocked now, not at the next interval."""
    alerts = await session.execute(
        select(OperatorAlert.data).where(
            OperatorAlert.kind == "calendar_conflict", OperatorAlert.resolved_at.is_(None)
        )
    )
    wanted = {int(d["feed_id"]): set(d.get("collides_with", [])) for (d,) in alerts if d.get("feed_id")}
    codes = set().union(*wanted.values()) if wanted else set()
    if not codes:
        return set()
    holding = set(
        await session.scalars(
            select(Reservation.code).where(Reservation.code.in_(codes), Reservation.status.in_(OCCUPYING))
        )
    )
    with_url = set(
        await session.scalars(select(IcalFeed.id).where(IcalFeed.id.in_(wanted), IcalFeed.url.is_not(None)))
    )
    return {feed_id for feed_id, taken in wanted.items() if feed_id in with_url and taken - holding}


@handler(SYNC_FEED)
async def sync_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    await sync_feed(ctx.db, ctx.settings, ctx.http, int(payload["feed_id"]))
