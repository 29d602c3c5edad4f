"""Settings (Ajustes): units, prices and rules, the bot's answers, calendars, feature flags, accounts.

Every change goes through the domain service the JSON API uses; a refused form comes back with
what was typed and a Spanish message (4xx), and nothing of it is stored.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from alojamientos.admin.settings import answers, calendars, flags, operators, prices, units
from alojamientos.admin.settings._common import BASE

router = APIRouter(prefix="/ajustes")


@router.get("")
async def settings_index() -> Response:
    return RedirectResponse(f"{BASE}/cabanas", status_code=303)


for _module in (units, prices, answers, calendars, flags, operators):
    router.include_router(_module.router)
