"""Applying a feed: replace one (unit, source)'s blocks atomically, never touching another source's.

Blocks are rows of `reservations` (kind "block", status confirmed), so PostgreSQL's exclusion
constraint keeps them from overlapping our stays: an imported event that collides is skipped,
recorded as a conflict and shown to the operator, and the rest of the feed still applies.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
from psycopg import errors as pg_errors
from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin.labels import feed_error
from alojamientos.calendar_sync.fetch import FetchError, check_url, fetch_feed
from alojamientos.calendar_sync.ical_import import (
    IcalError,
    ImportedEvent,
    ParsedFeed,
    SkippedEvent,
    parse_feed,
)
from alojamientos.calendar_sync.models import IcalFeed
from alojamientos.config import Settings
from alojamientos.db import Database
from alojamientos.errors import Conflict, InvalidInput, NotFound
from alojamientos.kit.clock import local_today, utc_now
from alojamientos.kit.inputs import slug
from alojamientos.notifications.alerts import raise_alert, resolve_alert
from alojamientos.notifications.models import OperatorAlert
from alojamientos.pricing.service import pricing
from alojamientos.reservations import repository
from alojamientos.reservations.models import Reservation, ReservationSource, ReservationStatus
from alojamientos.reservations.repository import overlapping

log = logging.getLogger(__name__)
FAILURES_BEFORE_ALERT = 3


@dataclass
class SyncResult:
    feed_id: int
    status: str  # applied, unchanged, empty_pending, failed
    events: int = 0
    conflicts: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: list[SkippedEvent] = field(default_factory=list)

    def line(self) -> str:
        detail = f"{self.events} events" if self.status in ("applied", "unchanged") else (self.error or "")
        if self.conflicts:
            detail += f", {len(self.conflicts)} conflicts"
        if self.skipped:
            detail += f", {len(self.skipped)} could not be read"
        return f"feed {self.feed_id}: {self.status} ({detail})"

    def lines(self) -> list[str]:
        """`line()`, then one line per event that could not be read."""
        return [self.line(), *(f"  skipped {s.line()}" for s in self.skipped)]


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


MAX_FEED_URL = 2000
# Channels whose feeds become their own reservation source (see `reservation_source`) or are common.
CHANNELS = ("airbnb", "booking", "vrbo", "google", "expedia")


def feed_source(name: str) -> str:
    """The key a feed is stored under, from its name as the operator types it: "Airbnb" → "airbnb",
    "Booking.com" → "booking", "Cabaña 3" → "cabana-3"; "" when the name has no letters or digits."""
    key = slug(name)
    for suffix in ("-com-ar", "-com"):  # a channel named by its web address
        if key.endswith(suffix) and key.removesuffix(suffix) in CHANNELS:
            return key.removesuffix(suffix)
    return key


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
    await repository.accommodation(session, accommodation_id)
    url = url.strip()
    typed, source = source, feed_source(source)
    if not source:
        raise InvalidFeed(f"{typed!r}: name the calendar with letters or digits, e.g. Airbnb", field="name")
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
    return {feed_id: count for feed_id, count in rows.all() if feed_id is not None}


@dataclass(frozen=True, slots=True)
class _Piece:
    """Nights of one imported event that are free here, stored as one block row."""

    event: ImportedEvent
    check_in: date
    check_out: date


def _minus(ranges: list[tuple[date, date]], cut: tuple[date, date]) -> list[tuple[date, date]]:
    """`ranges` without the nights of `cut` (all half-open `[in, out)`)."""
    left: list[tuple[date, date]] = []
    for start, end in ranges:
        if cut[1] <= start or end <= cut[0]:
            left.append((start, end))
            continue
        if start < cut[0]:
            left.append((start, cut[0]))
        if cut[1] < end:
            left.append((cut[1], end))
    return left


def _unreadable_uid(row: Reservation, skipped: list[SkippedEvent]) -> bool:
    """Whether the row may belong to an event we could not read (a UID-less one could be any row)."""
    uid = row.external_uid or ""
    return any(s.uid is None or uid == s.uid or uid.startswith(f"{s.uid}#") for s in skipped)


async def apply_events(session: AsyncSession, feed: IcalFeed, parsed: ParsedFeed) -> SyncResult:
    """Makes the feed's blocks match `parsed` inside the caller's transaction.

    - A block keeps its row (and code, so the UID we export) while its event's identity lasts:
      a moved stay is updated in place, never deleted and re-created.
    - An event that shares nights with another of our stays (a hold, a reservation, another feed's
      block) blocks the nights that are still free, in as many pieces as needed; the collision is
      returned in `conflicts` and alerted once per (feed, event).
    - Blocks of events we could not read (`parsed.skipped`) are kept as they were.
    """
    events, skipped = parsed.events, parsed.skipped
    if not events and not skipped and feed.last_event_count > 0 and not feed.empty_pending:
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
    rows = {
        row.code: row
        for row in await session.scalars(
            select(Reservation).where(Reservation.feed_id == feed.id).with_for_update()
        )
    }
    identities = {event.uid for event in events}
    kept = [
        row for row in rows.values() if row.external_uid not in identities and _unreadable_uid(row, skipped)
    ]
    pieces, collisions = await _place(session, feed, events, kept)
    kept_codes = {row.code for row in kept}
    for code, row in rows.items():
        if code not in pieces and code not in kept_codes:
            await session.delete(row)
    await session.flush()
    source = reservation_source(feed.source)
    moved: list[str] = []
    for code, piece in pieces.items():
        current = rows.get(code)
        if current is None:
            continue
        current.guest_name = (piece.event.summary or feed.source)[:200]
        if (current.check_in, current.check_out) == (piece.check_in, piece.check_out):
            continue
        try:  # in place; it may still overlap the old nights of another of this feed's moving blocks
            async with session.begin_nested():
                current.check_in, current.check_out = piece.check_in, piece.check_out
                await session.flush()
        except IntegrityError as exc:
            if not isinstance(exc.orig, pg_errors.ExclusionViolation):
                raise
            moved.append(code)
    for code in moved:  # the rest have moved out of the way by now: same code, so the same export UID
        await session.delete(rows.pop(code))
    await session.flush()
    conflicts = list(collisions)
    new = [(code, piece) for code, piece in pieces.items() if code not in rows]
    try:  # the usual case: one batch
        async with session.begin_nested():
            session.add_all([_block(feed, source, code, piece) for code, piece in new])
            await session.flush()
    except IntegrityError as exc:
        if not isinstance(exc.orig, pg_errors.ExclusionViolation):
            raise
        for code, piece in new:  # a stay of ours was written after we looked: find which, keep the rest
            try:
                async with session.begin_nested():
                    session.add(_block(feed, source, code, piece))
                    await session.flush()
            except IntegrityError as exc:
                if not isinstance(exc.orig, pg_errors.ExclusionViolation):
                    raise
                # Those nights are occupied here anyway; the next sync sees the stay and alerts.
                log.warning("ical.block_raced", extra={"feed_id": feed.id, "uid": piece.event.uid})
                if piece.event.uid not in conflicts:
                    conflicts.append(piece.event.uid)
    for uid, (event, taken) in collisions.items():
        await _conflict(session, feed, event, taken, [p for p in pieces.values() if p.event.uid == uid])
    await _cleared(session, feed, set(conflicts))
    feed.empty_pending = False
    feed.last_event_count = len(events)
    feed.skipped_events = [s.as_dict() for s in skipped]
    return SyncResult(feed.id, "applied", events=len(events), conflicts=conflicts, skipped=skipped)


async def _place(
    session: AsyncSession, feed: IcalFeed, events: list[ImportedEvent], kept: list[Reservation]
) -> tuple[dict[str, _Piece], dict[str, tuple[ImportedEvent, list[Reservation]]]]:
    """Each event's nights not taken by another stay here: pieces by block code, and collisions."""
    pieces: dict[str, _Piece] = {}
    collisions: dict[str, tuple[ImportedEvent, list[Reservation]]] = {}
    if not events:
        return pieces, collisions
    others = list(
        await session.scalars(
            overlapping(min(e.check_in for e in events), max(e.check_out for e in events))
            .where(
                Reservation.accommodation_id == feed.accommodation_id,
                or_(Reservation.feed_id.is_(None), Reservation.feed_id != feed.id),
            )
            .order_by(Reservation.check_in)
        )
    )
    ours = [(row.check_in, row.check_out) for row in kept]  # our own nights: no collision
    for event in events:
        free = [(event.check_in, event.check_out)]
        taken = [r for r in others if r.check_in < event.check_out and event.check_in < r.check_out]
        for cut in [(r.check_in, r.check_out) for r in taken] + ours:
            free = _minus(free, cut)
        for index, (check_in, check_out) in enumerate(free):
            # The first piece carries the event's identity; later pieces exist only while split.
            code = block_code(feed.id, event.uid if index == 0 else f"{event.uid}#piece-{index}")
            pieces[code] = _Piece(event, check_in, check_out)
            ours.append((check_in, check_out))
        if taken:
            collisions[event.uid] = (event, taken)
    return pieces, collisions


def _block(feed: IcalFeed, source: ReservationSource, code: str, piece: _Piece) -> Reservation:
    return Reservation(
        code=code,
        accommodation_id=feed.accommodation_id,
        check_in=piece.check_in,
        check_out=piece.check_out,
        guests=1,
        guest_name=(piece.event.summary or feed.source)[:200],
        guest_phone=None,
        status=ReservationStatus.confirmed.value,
        source=source.value,
        kind="block",
        feed_id=feed.id,
        external_uid=piece.event.uid,
        total_amount=Decimal(0),
        deposit_amount=Decimal(0),
        paid_amount=Decimal(0),
    )


def _nights(ranges: list[tuple[date, date]]) -> str:
    return ", ".join(f"del {a:%d/%m/%Y} al {b:%d/%m/%Y}" for a, b in ranges)


async def _conflict(
    session: AsyncSession,
    feed: IcalFeed,
    event: ImportedEvent,
    taken: list[Reservation],
    placed: list[_Piece],
) -> None:
    """One open alert per (feed, event): the same overlap every 10 minutes is not news."""
    log.warning(
        "ical.conflict",
        extra={"feed_id": feed.id, "uid": event.uid, "with": [r.code for r in taken]},
    )
    already = await session.scalar(
        select(OperatorAlert.id).where(
            OperatorAlert.kind == "calendar_conflict",
            OperatorAlert.resolved_at.is_(None),
            OperatorAlert.data["feed_id"].astext == str(feed.id),
            OperatorAlert.data["uid"].astext == event.uid,
        )
    )
    if already is not None:
        return
    ours = _nights([(max(r.check_in, event.check_in), min(r.check_out, event.check_out)) for r in taken])
    blocked = _nights([(p.check_in, p.check_out) for p in placed])
    await raise_alert(
        session, "calendar_conflict",
        f"{feed.source} ocupa del {event.check_in:%d/%m/%Y} al {event.check_out:%d/%m/%Y} en la unidad "
        f"{feed.accommodation_id}, pero acá ya hay otra reserva {ours}"
        + (f"; bloqueamos lo que quedaba libre ({blocked})" if blocked else "")
        + ": revisalo en los dos sistemas",
        feed_id=feed.id, uid=event.uid,
        check_in=event.check_in.isoformat(), check_out=event.check_out.isoformat(),
        collides_with=[r.code for r in taken],
        blocked=[[p.check_in.isoformat(), p.check_out.isoformat()] for p in placed],
    )  # fmt: skip


async def _cleared(session: AsyncSession, feed: IcalFeed, colliding: set[str]) -> None:
    """Resolves this feed's collision alerts whose event no longer collides (our stay went away, or the
    channel moved or dropped its stay): every night the channel holds is blocked again."""
    alerts = await session.scalars(
        select(OperatorAlert).where(
            OperatorAlert.kind == "calendar_conflict",
            OperatorAlert.resolved_at.is_(None),
            OperatorAlert.data["feed_id"].astext == str(feed.id),
        )
    )
    for alert in alerts:
        if alert.data.get("uid") not in colliding:
            await resolve_alert(session, alert.id, actor="system:ical")


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
        parsed = parse_feed(data, tz=tz, start=start, end=end)
        feed = await get_or_create_feed(session, accommodation_id, source, url)
        result = await apply_events(session, feed, parsed)
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
        parsed = None if fetched.body is None else parse_feed(fetched.body, tz=tz, start=start, end=end)
    except (FetchError, IcalError) as exc:
        return await _failed(db, feed_id, str(exc))
    async with db.session_scope() as session:
        feed = await session.get_one(IcalFeed, feed_id, with_for_update=True)
        if parsed is None:
            result = SyncResult(feed_id, "unchanged", events=feed.last_event_count)
        else:
            result = await apply_events(session, feed, parsed)
            # Remember the version only when it fully applied: an untrusted empty feed, or one whose
            # events collided with our stays, is fetched in full again next time (conflicts may clear).
            if result.status == "applied" and not result.conflicts:
                feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
            else:
                feed.etag = feed.last_modified = None
        feed.last_attempt_at = feed.last_success_at = utc_now()
        feed.last_error, feed.consecutive_failures = None, 0
    log.info(
        "ical.synced",
        extra={
            "feed_id": feed_id,
            "status": result.status,
            "events": result.events,
            "skipped": len(result.skipped),
        },
    )
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
                f"{FAILURES_BEFORE_ALERT} sincronizaciones: {feed_error(error)}",
                feed_id=feed.id,
            )  # fmt: skip
    log.warning("ical.sync_failed", extra={"feed_id": feed_id, "error": error})
    return SyncResult(feed_id, "failed", error=error)
