"""Feature flags: stored in PostgreSQL, audited, cached per process for a few seconds.

A switch made with `alojamientos flags set` or the admin API reaches every API and worker process
within `CACHE_SECONDS`, with no restart. An unknown flag name is an error, never silently "off".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.errors import NotFound
from alojamientos.kit.clock import utc_now
from alojamientos.ops.models import FeatureFlag, FlagChange

CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class FlagSpec:
    default: bool
    description: str


# Descriptions are shown to the operator (panel and CLI), so they are in Spanish.
FLAGS: dict[str, FlagSpec] = {
    "whatsapp_auto_replies": FlagSpec(True, "El bot responde solo a los huéspedes por WhatsApp"),
    "mercadopago": FlagSpec(True, "Cobrar la seña con link de Mercado Pago (apagado: solo transferencia)"),
    "email": FlagSpec(True, "Enviar e-mails a huéspedes y al operador"),
    "ical_sync": FlagSpec(True, "Sincronizar calendarios iCal con Airbnb y Booking"),
}


class UnknownFlag(NotFound):
    code = "unknown_flag"


class FlagService:
    def __init__(self) -> None:
        self._cache: dict[str, tuple[bool, float]] = {}

    def _spec(self, name: str) -> FlagSpec:
        if name not in FLAGS:
            raise UnknownFlag(
                f"unknown flag {name!r}; known: {', '.join(sorted(FLAGS))}", known=sorted(FLAGS)
            )
        return FLAGS[name]

    async def enabled(self, session: AsyncSession, name: str) -> bool:
        spec = self._spec(name)
        cached = self._cache.get(name)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        stored = await session.scalar(select(FeatureFlag.enabled).where(FeatureFlag.name == name))
        value = spec.default if stored is None else stored
        self._cache[name] = (value, time.monotonic() + CACHE_SECONDS)
        return value

    async def all(self, session: AsyncSession) -> list[FeatureFlag]:
        stored = {f.name: f for f in await session.scalars(select(FeatureFlag))}
        return [
            stored.get(name) or FeatureFlag(name=name, enabled=spec.default, description=spec.description)
            for name, spec in sorted(FLAGS.items())
        ]

    async def set(self, session: AsyncSession, name: str, enabled: bool, *, actor: str) -> FeatureFlag:
        spec = self._spec(name)
        now = utc_now()
        await session.execute(
            insert(FeatureFlag)
            .values(
                name=name, enabled=enabled, description=spec.description, updated_at=now, updated_by=actor
            )
            .on_conflict_do_update(
                index_elements=[FeatureFlag.name],
                set_={"enabled": enabled, "updated_at": now, "updated_by": actor},
            )
        )
        session.add(FlagChange(name=name, enabled=enabled, actor=actor))
        await session.flush()
        self._cache.pop(name, None)
        flag = await session.get_one(FeatureFlag, name, populate_existing=True)
        return flag

    def forget(self) -> None:
        """Drops the cache (tests, and after a restore)."""
        self._cache.clear()


flags = FlagService()
