"""iCal feeds per unit: what is imported (and how the last sync went) and the URL to export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.admin.deps import CurrentAdmin
from alojamientos.admin.labels import SKIPPED_EVENT, feed_error, skipped_events
from alojamientos.admin.settings._common import BASE, done, page
from alojamientos.calendar_sync import service as calendar_service
from alojamientos.calendar_sync.ical_export import export_url
from alojamientos.calendar_sync.models import IcalFeed
from alojamientos.db import SessionDep
from alojamientos.errors import AppError
from alojamientos.kit.inputs import BigId, Id
from alojamientos.kit.public_url import why_not_public
from alojamientos.reservations.models import Accommodation

router = APIRouter()


async def _page(
    request: Request, session: AsyncSession, typed: dict[str, str] | None = None, **kwargs: object
) -> Response:
    settings = request.app.state.settings
    units = list(await session.scalars(select(Accommodation).order_by(Accommodation.name)))
    feeds = list(await session.scalars(select(IcalFeed).order_by(IcalFeed.source, IcalFeed.id)))
    context = {
        "sub": "calendarios",
        "units": units,
        "export": {u.id: export_url(settings, u) for u in units},
        "feeds": {u.id: [f for f in feeds if f.accommodation_id == u.id] for u in units},
        "blocks": await calendar_service.block_counts(session),
        "feed_error": feed_error,
        "skipped_events": skipped_events,
        "skipped_reason": SKIPPED_EVENT,
        "typed": typed or {},
        "base_url": settings.public_base_url,
        "base_url_problem": why_not_public(settings.public_base_url),
    }
    return page(request, "calendars.html", context, **kwargs)  # type: ignore[arg-type]


@router.get("/calendarios")
async def calendars_page(request: Request, session: SessionDep, hecho: str = "", error: str = "") -> Response:
    return await _page(request, session, hecho=hecho, error=error)


@router.post("/calendarios/{unit_id}")
async def add_feed(
    unit_id: Id,
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    nombre: Annotated[str, Form(max_length=200)] = "",
    url: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        async with session.begin_nested():  # a refusal undoes only this
            await calendar_service.register_feed(session, request.app.state.settings, unit_id, nombre, url)
    except AppError as exc:
        typed = {"unit": str(unit_id), "nombre": nombre, "url": url}
        return await _page(request, session, typed, error=exc)
    return done("/calendarios", "calendario")


@router.post("/calendarios/feeds/{feed_id}/sincronizar")
async def sync_feed(feed_id: BigId, request: Request, session: SessionDep, admin: CurrentAdmin) -> Response:
    """What the API's sync endpoint does; a failure is stored on the feed and shown next to it."""
    await calendar_service.get_feed(session, feed_id)
    result = await calendar_service.sync_now(request.app.state.db, request.app.state.settings, feed_id)
    if result.status == "failed":
        return RedirectResponse(f"{BASE}/calendarios?error=feed_sync_failed#feed-{feed_id}", status_code=303)
    return done("/calendarios", "sincronizado")


@router.post("/calendarios/feeds/{feed_id}/quitar")
async def remove_feed(feed_id: BigId, session: SessionDep, admin: CurrentAdmin) -> Response:
    await calendar_service.remove_feed(session, feed_id)
    return done("/calendarios", "calendario-quitado")
