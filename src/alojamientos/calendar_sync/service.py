"""Applying a feed: replace one (unit, source)'s blocks atomically, never touching another source's.

Blocks are rows of `reservations` (kind "block", status confirmed), so PostgreSQL's exclusion
constraint keeps them from overlapping our stays: an imported event that collides is skipped,
recorded as a conflict and shown to the operator, and the rest of the feed still applies.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
from psycopg import errors as pg_errors
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.calendar_sync.fetch import FetchError, check_url, fetch_feed
from alojamientos.calendar_sync.ical_import import IcalError, ImportedEvent, parse_feed
from alojamientos.calendar_sync.models import IcalFeed
from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.errors import Conflict, InvalidInput, NotFound
from alojamientos.kit.clock import local_today, utc_now
from alojamientos.notifications.alerts import raise_alert
from alojamientos.notifications.models import OperatorAlert
from alojamientos.pricing.service import pricing
from alojamientos.reservations.models import Reservation, ReservationSource, ReservationStatus
from alojamientos.reservations.service import reservation as reservation_service

log = logging.getLogger(__name__)
FAILURES_BEFORE_ALERT = 3


@dataclass
class SyncResult:
    feed_id: int
    status: str  # applied, unchanged, empty_pending, failed
    events: int = 0
    conflicts: list[str] = field(default_factory=list)
    error: str | None = None

    def line(self) -> str:
        detail = f"{self.events} events" if self.status in ("applied", "unchanged") else (self.error or "")
        if self.conflicts:
            detail += f", {len(self.conflicts)} conflicts"
        return f"feed {self.feed_id}: {self.status} ({detail})"


def block_code(feed_id: int, uid: str) -> str:
    """Stable per (feed, event), so re-imports keep the same identity and export UID."""
    return "X" + hashlib.sha1(f"{feed_id}:{uid}".encode()).hexdigest()[:11].upper()  # noqa: S324


def reservation_source(source: str) -> ReservationSource:
    return ReservationSource(source) if source in ("airbnb", "booking") else ReservationSource.ical


async def get_or_create_feed(
    session: AsyncSession, accommodation_id: int, source: str, url: str | None
) -> IcalFeed:
    await session.execute(
        insert(IcalFeed)
        .values(accommodation_id=accommodation_id, source=source, url=url)
        .on_conflict_do_nothing(constraint="uq_ical_feeds_unit_source")
    )
    feed = await session.scalar(
        select(IcalFeed).where(IcalFeed.accommodation_id == accommodation_id, IcalFeed.source == source)
    )
    assert feed is not None
    if url is not None and feed.url != url:
        feed.url = url
    return feed


FEED_NAME = re.compile(r"[a-z0-9_-]{2,40}")
MAX_FEED_URL = 2000


class InvalidFeed(InvalidInput):
    code = "invalid_feed"


class FeedExists(Conflict):
    code = "feed_exists"


class FeedNotFound(NotFound):
    code = "feed_not_found"


async def register_feed(
    session: AsyncSession, settings: Settings, accommodation_id: int, source: str, url: str
) -> IcalFeed:
    """A URL feed to import into one unit: http(s), public (SSRF), one per (unit, source)."""
    await reservation_service.accommodation(session, accommodation_id)
    url = url.strip()
    if not FEED_NAME.fullmatch(source):
        raise InvalidFeed(f"{source!r}: use 2 to 40 lowercase letters, digits, - or _", field="name")
    if not 8 <= len(url) <= MAX_FEED_URL:
        raise InvalidFeed("the URL is too short or too long", field="url")
    try:
        await check_url(url, settings)
    except FetchError as exc:
        raise InvalidFeed(f"cannot use that URL: {exc}", field="url") from None
    feed = IcalFeed(accommodation_id=accommodation_id, source=source, url=url)
    try:
        async with session.begin_nested():
            session.add(feed)
            await session.flush()
    except IntegrityError:  # the (unit, source) pair exists, or the unit does not
        raise FeedExists(f"unit {accommodation_id} already has a {source!r} feed", field="name") from None
    return feed


async def get_feed(session: AsyncSession, feed_id: int) -> IcalFeed:
    feed = await session.get(IcalFeed, feed_id)
    if feed is None:
        raise FeedNotFound(f"there is no feed {feed_id}")
    return feed


async def sync_now(db: Database, settings: Settings, feed_id: int) -> SyncResult:
    """The operator's "sync now": the worker's job, run at once with its own client and transactions."""
    async with httpx.AsyncClient() as http:
        return await sync_feed(db, settings, http, feed_id)


async def remove_feed(session: AsyncSession, feed_id: int) -> None:
    """Stops importing; the feed's blocks go with it (the dates are freed here)."""
    feed = await get_feed(session, feed_id)
    await session.execute(delete(Reservation).where(Reservation.feed_id == feed_id))
    await session.delete(feed)
    await session.flush()


async def block_counts(session: AsyncSession) -> dict[int, int]:
    """Imported blocks stored per feed (events that collided with our stays are not among them)."""
    rows = await session.execute(
        select(Reservation.feed_id, func.count())
        .where(Reservation.feed_id.is_not(None))
        .group_by(Reservation.feed_id)
    )
    return {feed_id: count for feed_id, count in rows.tuples() if feed_id is not None}


async def apply_events(session: AsyncSession, feed: IcalFeed, events: list[ImportedEvent]) -> SyncResult:
    """Replaces the feed's blocks with `events` inside the caller's transaction."""
    if not events and feed.last_event_count > 0 and not feed.empty_pending:
        # Airbnb sometimes serves an empty calendar for a moment: wait for a second empty sync.
        feed.empty_pending = True
        await raise_alert(
            session,
            "calendar_empty",
            f"El calendario {feed.source} de la unidad {feed.accommodation_id} vino vacío; si sigue vacío"
            " en la próxima sincronización se liberan sus fechas",
            feed_id=feed.id,
        )
        return SyncResult(feed.id, "empty_pending")
    await session.execute(delete(Reservation).where(Reservation.feed_id == feed.id))
    source = reservation_source(feed.source)
    rows = [_block(feed, source, event) for event in events]
    conflicts: list[str] = []
    try:  # the usual case, no collisions: one batch
        async with session.begin_nested():
            session.add_all(rows)
            await session.flush()
    except IntegrityError as exc:
        if not isinstance(exc.orig, pg_errors.ExclusionViolation):
            raise
        # Some event collides with a stay of ours: insert one by one to find which, keep the rest.
        for event in events:
            try:
                async with session.begin_nested():
                    session.add(_block(feed, source, event))
                    await session.flush()
            except IntegrityError as exc:
                if not isinstance(exc.orig, pg_errors.ExclusionViolation):
                    raise
                conflicts.append(event.uid)
                await _conflict(session, feed, event)
    feed.empty_pending = False
    feed.last_event_count = len(events)
    return SyncResult(feed.id, "applied", events=len(events), conflicts=conflicts)


def _block(feed: IcalFeed, source: ReservationSource, event: ImportedEvent) -> Reservation:
    return Reservation(
        code=block_code(feed.id, event.uid),
        accommodation_id=feed.accommodation_id,
        check_in=event.check_in,
        check_out=event.check_out,
        guests=1,
        guest_name=(event.summary or feed.source)[:200],
        guest_phone=None,
        status=ReservationStatus.confirmed.value,
        source=source.value,
        kind="block",
        feed_id=feed.id,
        external_uid=event.uid,
        total_amount=Decimal(0),
        deposit_amount=Decimal(0),
        paid_amount=Decimal(0),
    )


async def _conflict(session: AsyncSession, feed: IcalFeed, event: ImportedEvent) -> None:
    """One open alert per (feed, event): the same overlap every 10 minutes is not news."""
    already = await session.scalar(
        select(OperatorAlert.id).where(
            OperatorAlert.kind == "calendar_conflict",
            OperatorAlert.resolved_at.is_(None),
            OperatorAlert.data["feed_id"].astext == str(feed.id),
            OperatorAlert.data["uid"].astext == event.uid,
        )
    )
    if already is None:
        await raise_alert(
            session, "calendar_conflict",
            f"{feed.source} ocupa del {event.check_in:%d/%m/%Y} al {event.check_out:%d/%m/%Y} en la unidad "
            f"{feed.accommodation_id}, donde ya hay una reserva: revisalo en los dos sistemas",
            feed_id=feed.id, uid=event.uid,
            check_in=event.check_in.isoformat(), check_out=event.check_out.isoformat(),
        )  # fmt: skip
    log.warning("ical.conflict", extra={"feed_id": feed.id, "uid": event.uid})


async def horizon(session: AsyncSession, settings: Settings) -> tuple[ZoneInfo, date, date]:
    """The complex's timezone and the window recurring events are expanded over."""
    tz = await pricing.timezone(session)
    today = local_today(tz)
    return tz, today - timedelta(days=1), today + timedelta(days=settings.ical_horizon_days)


async def import_bytes(
    db: Database, settings: Settings, accommodation_id: int, source: str, data: bytes, url: str | None
) -> SyncResult:
    """`ical import` from a file (or bytes already fetched): parse first, then apply in one transaction."""
    async with db.session_scope() as session:
        tz, start, end = await horizon(session, settings)
        events = parse_feed(data, tz=tz, start=start, end=end)
        feed = await get_or_create_feed(session, accommodation_id, source, url)
        result = await apply_events(session, feed, events)
        feed.last_attempt_at = feed.last_success_at = utc_now()
        feed.last_error, feed.consecutive_failures = None, 0
        return result


async def sync_feed(db: Database, settings: Settings, http: httpx.AsyncClient, feed_id: int) -> SyncResult:
    """Fetch, parse and apply one registered feed. A failure changes no block and is recorded."""
    async with db.session_scope() as session:
        feed = await session.get(IcalFeed, feed_id)
        if feed is None or not feed.url:
            return SyncResult(feed_id, "failed", error="no such URL feed")
        url, etag, modified = feed.url, feed.etag, feed.last_modified
        tz, start, end = await horizon(session, settings)
    try:
        fetched = await fetch_feed(http, url, settings, etag=etag, last_modified=modified)
        events = None if fetched.body is None else parse_feed(fetched.body, tz=tz, start=start, end=end)
    except (FetchError, IcalError) as exc:
        return await _failed(db, feed_id, str(exc))
    async with db.session_scope() as session:
        feed = await session.get_one(IcalFeed, feed_id, with_for_update=True)
        if events is None:
            result = SyncResult(feed_id, "unchanged", events=feed.last_event_count)
        else:
            result = await apply_events(session, feed, events)
            # Remember the version only when it fully applied: an untrusted empty feed, or one whose
            # events collided with our stays, is fetched in full again next time (conflicts may clear).
            if result.status == "applied" and not result.conflicts:
                feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
            else:
                feed.etag = feed.last_modified = None
        feed.last_attempt_at = feed.last_success_at = utc_now()
        feed.last_error, feed.consecutive_failures = None, 0
    log.info("ical.synced", extra={"feed_id": feed_id, "status": result.status, "events": result.events})
    return result


async def _failed(db: Database, feed_id: int, error: str) -> SyncResult:
    async with db.session_scope() as session:
        feed = await session.get_one(IcalFeed, feed_id, with_for_update=True)
        feed.last_attempt_at, feed.last_error = utc_now(), error[:500]
        feed.consecutive_failures += 1
        if feed.consecutive_failures == FAILURES_BEFORE_ALERT:
            await raise_alert(
                session, "calendar_failing",
                f"El calendario {feed.source} de la unidad {feed.accommodation_id} falla hace "
                f"{FAILURES_BEFORE_ALERT} sincronizaciones: {error}",
                feed_id=feed.id,
            )  # fmt: skip
    log.warning("ical.sync_failed", extra={"feed_id": feed_id, "error": error})
    return SyncResult(feed_id, "failed", error=error)
