"""Loads the pricing rules stored in the database into the pure `rules` values."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.pricing.models import PriceSettings, Season
from alojamientos.pricing.rules import PricingRules, SeasonRule


@lru_cache(maxsize=1)
def argentine_holidays() -> holidays_lib.HolidayBase:
    """National holidays of Argentina (the `holidays` package, years filled in on demand)."""
    return holidays_lib.country_holidays("AR")


class PricingService:
    async def settings(self, session: AsyncSession) -> PriceSettings:
        row = await session.get(PriceSettings, 1)
        if row is None:  # the migration creates it; recreate with defaults if someone deleted it
            row = PriceSettings(id=1)
            session.add(row)
            await session.flush()
            await session.refresh(row)
        return row

    async def timezone(self, session: AsyncSession) -> ZoneInfo:
        return ZoneInfo((await self.settings(session)).timezone)

    async def rules_for(
        self, session: AsyncSession, accommodation_id: int, *, within: tuple[date, date]
    ) -> PricingRules:
        """The rules that apply to one unit for nights in `within` (half-open)."""
        policy = await self.settings(session)
        start, end = within
        seasons = await session.scalars(
            select(Season).where(
                or_(Season.accommodation_id.is_(None), Season.accommodation_id == accommodation_id),
                Season.start_date < end,
                Season.end_date > start,
            )
        )
        return PricingRules(
            weekend_multiplier=policy.weekend_multiplier,
            extra_guest_fee=policy.extra_guest_fee,
            deposit_percent=policy.deposit_percent,
            default_min_nights=policy.default_min_nights,
            seasons=tuple(
                SeasonRule(
                    name=s.name,
                    start=s.start_date,
                    end=s.end_date,
                    price=s.price_per_night,
                    multiplier=s.multiplier,
                    min_nights=s.min_nights,
                )
                for s in seasons
            ),
        )


pricing = PricingService()
