"""Feeds in (register, list, sync now, remove) and the availability feed out (per unit, by token)."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from alojamientos.auth.deps import CurrentOperator
from alojamientos.calendar_sync import service as calendar_service
from alojamientos.calendar_sync.ical_export import export_calendar, export_url
from alojamientos.calendar_sync.models import IcalFeed
from alojamientos.db import SessionDep
from alojamientos.errors import NotFound
from alojamientos.kit.inputs import BigId, Id
from alojamientos.reservations import repository
from alojamientos.reservations.models import OCCUPYING, Accommodation, Reservation

router = APIRouter(prefix="/api/v1", tags=["calendar"])


class FeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=80,
        description="the calendar's name as you call it (Airbnb, Booking.com, Cabaña 3); stored as a key"
        " (airbnb, booking, cabana-3), which `source` shows",
    )
    url: str = Field(min_length=8, max_length=2000)


class SkippedOut(BaseModel):
    """An event of the feed that could not be read (`partial`: only its repetition was skipped)."""

    uid: str | None
    reason: str
    partial: bool
    raw: str = Field(description="the event's lines as the feed sent them")


class FeedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    accommodation_id: int
    source: str
    url: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    last_event_count: int
    empty_pending: bool
    skipped_events: list[SkippedOut] = Field(description="the last import's events that could not be read")


class SyncOut(BaseModel):
    feed_id: int
    status: str
    events: int
    conflicts: list[str]
    error: str | None
    skipped: list[SkippedOut] = Field(default_factory=list)


@router.post("/accommodations/{accommodation_id}/feeds", status_code=201, response_model=FeedOut)
async def register_feed(
    accommodation_id: Id, body: FeedIn, request: Request, session: SessionDep, operator: CurrentOperator
) -> IcalFeed:
    return await calendar_service.register_feed(
        session, request.app.state.settings, accommodation_id, body.name, body.url
    )


@router.get("/accommodations/{accommodation_id}/feeds", response_model=list[FeedOut])
async def list_feeds(accommodation_id: Id, session: SessionDep, operator: CurrentOperator) -> list[IcalFeed]:
    query = select(IcalFeed).where(IcalFeed.accommodation_id == accommodation_id).order_by(IcalFeed.id)
    return list(await session.scalars(query))


@router.post("/feeds/{feed_id}/sync", response_model=SyncOut)
async def sync_now(
    feed_id: BigId, request: Request, session: SessionDep, operator: CurrentOperator
) -> SyncOut:
    await calendar_service.get_feed(session, feed_id)
    result = await calendar_service.sync_now(request.app.state.db, request.app.state.settings, feed_id)
    return SyncOut(
        feed_id=feed_id, status=result.status, events=result.events, conflicts=result.conflicts,
        error=result.error, skipped=[SkippedOut(**s.as_dict()) for s in result.skipped],
    )  # fmt: skip


@router.delete("/feeds/{feed_id}", status_code=204)
async def remove_feed(feed_id: BigId, session: SessionDep, operator: CurrentOperator) -> Response:
    """Stops importing; the feed's blocks go with it (the dates are freed here)."""
    await calendar_service.remove_feed(session, feed_id)
    return Response(status_code=204)


@router.post("/accommodations/{accommodation_id}/ical-token", response_model=dict[str, str])
async def rotate_token(
    accommodation_id: Id, request: Request, session: SessionDep, operator: CurrentOperator
) -> dict[str, str]:
    """A new secret for the unit's export URL; channels holding the old URL stop getting updates."""
    unit = await repository.accommodation(session, accommodation_id)
    unit.ical_token = secrets.token_urlsafe(24)
    return {"ical_export_url": export_url(request.app.state.settings, unit)}


@router.get("/ical/{accommodation_id}.ics", response_class=Response, include_in_schema=True)
async def export(
    accommodation_id: Id,
    request: Request,
    session: SessionDep,
    token: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    unit = await session.get(Accommodation, accommodation_id)
    if unit is None or not token or not hmac.compare_digest(unit.ical_token.encode(), token.encode()):
        raise NotFound("no such calendar")  # the same answer for a wrong token and a wrong unit
    stays = await session.scalars(
        select(Reservation)
        .where(Reservation.accommodation_id == unit.id, Reservation.status.in_(OCCUPYING))
        .order_by(Reservation.check_in)
    )
    domain = httpx.URL(request.app.state.settings.public_base_url).host or "alojamientos"
    return Response(
        export_calendar(unit.name, unit.id, stays, domain=domain),
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "no-cache",
            "Content-Disposition": f'inline; filename="unidad-{unit.id}.ics"',
        },
    )
