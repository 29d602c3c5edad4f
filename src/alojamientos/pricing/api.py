"""The stay limits every booking path applies (API, panel, chat), read and set by the operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from alojamientos.auth.deps import CurrentOperator
from alojamientos.db import SessionDep
from alojamientos.pricing.models import PriceSettings
from alojamientos.pricing.service import MAX_HORIZON_DAYS, MAX_STAY_NIGHTS, pricing

router = APIRouter(prefix="/api/v1/settings", tags=["settings"])


class StayLimitsIO(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    max_nights: Annotated[int, Field(ge=1, le=MAX_STAY_NIGHTS, description="the longest stay, in nights")]
    booking_horizon_days: Annotated[
        int,
        Field(ge=1, le=MAX_HORIZON_DAYS, description="a stay must end within this many days from today"),
    ]


@router.get("/stay-limits", response_model=StayLimitsIO)
async def get_stay_limits(session: SessionDep, operator: CurrentOperator) -> PriceSettings:
    return await pricing.settings(session)


@router.put("/stay-limits", response_model=StayLimitsIO)
async def set_stay_limits(
    body: StayLimitsIO, session: SessionDep, operator: CurrentOperator
) -> PriceSettings:
    return await pricing.update_stay_limits(
        session, max_nights=body.max_nights, booking_horizon_days=body.booking_horizon_days
    )
