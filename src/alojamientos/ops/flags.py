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

from alojamientos.config import INTEGRATIONS, Settings
from alojamientos.errors import NotFound
from alojamientos.kit.clock import utc_now
from alojamientos.kit.inputs import key_for
from alojamientos.ops.models import FeatureFlag, FlagChange

CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class FlagSpec:
    default: bool
    description: str
    integration: str | None = None  # the outside service it switches (config.INTEGRATIONS)


# Descriptions are shown to the operator (panel and CLI), so they are in Spanish.
FLAGS: dict[str, FlagSpec] = {
    "whatsapp_auto_replies": FlagSpec(
        True, "El bot responde solo a los huéspedes por WhatsApp", integration="whatsapp"
    ),
    "mercadopago": FlagSpec(
        True,
        "Cobrar la seña con link de Mercado Pago (apagado: solo transferencia)",
        integration="mercadopago",
    ),
    "email": FlagSpec(True, "Enviar e-mails a huéspedes y al operador", integration="email"),
    "ical_sync": FlagSpec(True, "Sincronizar calendarios iCal con Airbnb y Booking"),
}


@dataclass(frozen=True, slots=True)
class IntegrationState:
    """An outside service as the operator sees it: set up or not (and what is missing), switched on or not."""

    name: str
    flag: str
    enabled: bool
    missing: tuple[str, ...]

    @property
    def configured(self) -> bool:
        return not self.missing

    @property
    def usable(self) -> bool:
        return self.enabled and self.configured


class UnknownFlag(NotFound):
    code = "unknown_flag"


class FlagService:
    def __init__(self) -> None:
        self._cache: dict[str, tuple[bool, float]] = {}

    def _key(self, name: str) -> str:
        """The flag `name` means, as typed: "Mercado Pago" → mercadopago, "iCal sync" → ical_sync."""
        key = name if name in FLAGS else key_for(name, FLAGS)
        if key not in FLAGS:
            raise UnknownFlag(
                f"unknown flag {name!r}; known: {', '.join(sorted(FLAGS))}", known=sorted(FLAGS)
            )
        return key

    async def enabled(self, session: AsyncSession, name: str) -> bool:
        name = self._key(name)
        spec = FLAGS[name]
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
        name = self._key(name)
        spec = FLAGS[name]
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

    async def usable(self, session: AsyncSession, settings: Settings, name: str) -> bool:
        """An integration that can work right now: configured (`Settings.missing`) and its flag on."""
        integration = FLAGS[self._key(name)].integration
        if integration and not settings.configured(integration):
            return False
        return await self.enabled(session, name)

    async def integrations(self, session: AsyncSession, settings: Settings) -> list[IntegrationState]:
        """Every outside service with a flag, in the order of `config.INTEGRATIONS`."""
        by_integration = {spec.integration: name for name, spec in FLAGS.items() if spec.integration}
        return [
            IntegrationState(
                name=integration,
                flag=by_integration[integration],
                enabled=await self.enabled(session, by_integration[integration]),
                missing=settings.missing(integration),
            )
            for integration in INTEGRATIONS
        ]

    def forget(self) -> None:
        """Drops the cache (tests, and after a restore)."""
        self._cache.clear()


flags = FlagService()
