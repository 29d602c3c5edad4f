from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from alojamientos.auth.deps import CurrentOperator
from alojamientos.db import SessionDep
from alojamientos.ops.flags import flags
from alojamientos.ops.models import FeatureFlag

router = APIRouter(prefix="/api/v1/flags", tags=["ops"])


class FlagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    enabled: bool
    description: str
    updated_at: datetime | None = None
    updated_by: str | None = None


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


@router.get("", response_model=list[FlagOut])
async def list_flags(session: SessionDep, operator: CurrentOperator) -> list[FeatureFlag]:
    return await flags.all(session)


@router.put("/{name}", response_model=FlagOut)
async def set_flag(name: str, body: FlagIn, session: SessionDep, operator: CurrentOperator) -> FeatureFlag:
    return await flags.set(session, name, body.enabled, actor=f"operator:{operator.email}")
