"""Loads the pricing rules stored in the database into the pure `rules` values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from sqlalchemy import ColumnElement, ColumnExpressionArgument, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.errors import InvalidInput, NotFound
from alojamientos.pricing.models import PriceSettings, Season
from alojamientos.pricing.rules import (
    WHOLE_RUN,
    LongWeekendMinimum,
    PricingRules,
    SeasonRule,
    StayLimits,
    YearlyDates,
)


@lru_cache(maxsize=1)
def argentine_holidays() -> holidays_lib.HolidayBase:
    """National holidays of Argentina (the `holidays` package, years filled in on demand), named in
    Spanish: the quote names the holiday whose eve a night is."""
    return holidays_lib.country_holidays("AR", language="es")


class InvalidSetting(InvalidInput):
    code = "invalid_setting"


class InvalidHoldWindow(InvalidInput):
    code = "invalid_hold_window"


class InvalidHouseRules(InvalidInput):
    code = "invalid_house_rules"


class InvalidSeason(InvalidInput):
    code = "invalid_season"


class SeasonNotFound(NotFound):
    code = "season_not_found"


MAX_POLICY_TEXT = 4000
MAX_MIN_NIGHTS = 60
# The widest limits an operator can set: a stay of a year, booked up to five years ahead.
MAX_STAY_NIGHTS = 365
MAX_HORIZON_DAYS = 5 * 366


class InvalidStayLimits(InvalidInput):
    code = "invalid_stay_limits"


LEAP_YEAR = 2028
"""Any leap year: a yearly bound is valid when it exists in one (29 February does)."""


@dataclass(frozen=True, slots=True)
class NewSeason:
    """Nights `[start, end)`, or every year's `yearly` nights (first to last, both included), with
    either their own nightly price or a multiplier of each unit's base. Exactly one of `start`/`end`
    and `yearly` is given."""

    name: str
    start: date | None = None
    end: date | None = None
    accommodation_id: int | None = None  # None: every unit
    price_per_night: Decimal | None = None
    multiplier: Decimal | None = None
    min_nights: int | None = None
    yearly: YearlyDates | None = None


def season_rule(season: Season) -> SeasonRule:
    """A stored season as the pure pricing rule."""
    yearly = None
    if season.yearly:
        assert None not in (season.first_month, season.first_day, season.last_month, season.last_day)
        yearly = YearlyDates(
            first=(season.first_month or 0, season.first_day or 0),
            last=(season.last_month or 0, season.last_day or 0),
        )
    return SeasonRule(
        name=season.name,
        start=season.start_date,
        end=season.end_date,
        price=season.price_per_night,
        multiplier=season.multiplier,
        min_nights=season.min_nights,
        yearly=yearly,
    )


def long_weekend_minimum(policy: PriceSettings) -> LongWeekendMinimum:
    return WHOLE_RUN if policy.long_weekend_whole_run else policy.long_weekend_min_nights


def _within(value: Decimal, low: Decimal, high: Decimal, field: str) -> Decimal:
    if not value.is_finite() or not low <= value <= high:
        raise InvalidSetting(f"{field} must be within {low}..{high}", field=field)
    return value


def _valid_yearly(yearly: YearlyDates) -> YearlyDates:
    for field, (month, day) in (("first", yearly.first), ("last", yearly.last)):
        try:
            date(LEAP_YEAR, month, day)
        except ValueError:
            raise InvalidSeason(f"{day}/{month} is not a day of the year", field=field) from None
    return yearly


def _fill_season(season: Season, new: NewSeason) -> None:
    """Checks a season as typed and writes it into the row (new or existing)."""
    name = new.name.strip()
    if not 1 <= len(name) <= 120:
        raise InvalidSeason("a season needs a name of 1 to 120 characters", field="name")
    if new.yearly is None:
        if new.start is None or new.end is None:
            raise InvalidSeason(
                "a season needs its dates, or a yearly first and last night", field="start_date"
            )
        if new.end <= new.start:
            raise InvalidSeason("the season must end after it starts", field="end_date")
    else:
        if new.start is not None or new.end is not None:
            raise InvalidSeason("a yearly season has no dates of its own", field="start_date")
        _valid_yearly(new.yearly)
    if (new.price_per_night is None) == (new.multiplier is None):
        raise InvalidSeason("set either a nightly price or a multiplier", field="price_per_night")
    if new.price_per_night is not None and not (
        new.price_per_night.is_finite() and 0 <= new.price_per_night < Decimal("1e10")
    ):
        raise InvalidSeason("the nightly price must be a non-negative amount", field="price_per_night")
    if new.multiplier is not None and not (
        new.multiplier.is_finite() and Decimal("0.01") <= new.multiplier <= Decimal(10)
    ):
        raise InvalidSeason("the multiplier must be within 0.01..10", field="multiplier")
    if new.min_nights is not None and not 1 <= new.min_nights <= MAX_MIN_NIGHTS:
        raise InvalidSeason(f"minimum nights must be 1..{MAX_MIN_NIGHTS}", field="min_nights")
    season.name = name
    season.accommodation_id = new.accommodation_id
    season.start_date, season.end_date = new.start, new.end
    season.yearly = new.yearly is not None
    first, last = (new.yearly.first, new.yearly.last) if new.yearly else ((None, None), (None, None))
    (season.first_month, season.first_day), (season.last_month, season.last_day) = first, last
    season.price_per_night = new.price_per_night
    season.multiplier = new.multiplier
    season.min_nights = new.min_nights


class PricingService:
    async def update_rules(
        self,
        session: AsyncSession,
        *,
        deposit_percent: Decimal,
        weekend_multiplier: Decimal,
        default_min_nights: int,
        extra_guest_fee: Decimal,
    ) -> PriceSettings:
        """The rules every new quote applies; reservations already made keep their amounts."""
        _within(deposit_percent, Decimal(0), Decimal(100), "deposit_percent")
        _within(weekend_multiplier, Decimal("0.01"), Decimal(10), "weekend_multiplier")
        _within(Decimal(default_min_nights), Decimal(1), Decimal(MAX_MIN_NIGHTS), "default_min_nights")
        _within(extra_guest_fee, Decimal(0), Decimal("1e9"), "extra_guest_fee")
        policy = await self.settings(session)
        policy.deposit_percent = deposit_percent
        policy.weekend_multiplier = weekend_multiplier
        policy.default_min_nights = default_min_nights
        policy.extra_guest_fee = extra_guest_fee
        await session.flush()
        return policy

    async def update_long_weekend_rule(
        self, session: AsyncSession, *, min_nights: int | None, whole_run: bool
    ) -> PriceSettings:
        """Nights a stay with a night on a long weekend needs: `min_nights` (1..60), the whole run
        (`whole_run`, as many nights as the run has days), or no rule (None and False)."""
        if whole_run:
            min_nights = None
        elif min_nights is not None:
            _within(Decimal(min_nights), Decimal(1), Decimal(MAX_MIN_NIGHTS), "long_weekend_min_nights")
        policy = await self.settings(session)
        policy.long_weekend_min_nights, policy.long_weekend_whole_run = min_nights, whole_run
        await session.flush()
        return policy

    async def update_booking_policy(
        self,
        session: AsyncSession,
        *,
        hold_minutes_mercadopago: int,
        hold_hours_transfer: int,
        cancellation_policy: str,
        bank_transfer_details: str,
    ) -> PriceSettings:
        """How long a hold waits for each payment method, and the texts guests are sent."""
        if not 5 <= hold_minutes_mercadopago <= 24 * 60 or not 1 <= hold_hours_transfer <= 7 * 24:
            raise InvalidHoldWindow("holds: 5..1440 minutes for Mercado Pago, 1..168 hours for transfers")
        texts = (cancellation_policy.strip(), bank_transfer_details.strip())
        if any(len(t) > MAX_POLICY_TEXT for t in texts):
            raise InvalidSetting(f"texts are limited to {MAX_POLICY_TEXT} characters")
        policy = await self.settings(session)
        policy.hold_minutes_mercadopago = hold_minutes_mercadopago
        policy.hold_hours_transfer = hold_hours_transfer
        policy.cancellation_policy, policy.bank_transfer_details = texts
        await session.flush()
        return policy

    async def stay_limits(self, session: AsyncSession) -> StayLimits:
        return PricingFacts(await self.settings(session), ()).stay_limits

    async def update_stay_limits(
        self, session: AsyncSession, *, max_nights: int, booking_horizon_days: int
    ) -> PriceSettings:
        """The longest stay and how many days ahead a stay may end; applied by the API, panel and chat."""
        if not 1 <= max_nights <= MAX_STAY_NIGHTS:
            raise InvalidStayLimits(f"max_nights must be 1..{MAX_STAY_NIGHTS}", field="max_nights")
        if not 1 <= booking_horizon_days <= MAX_HORIZON_DAYS:
            raise InvalidStayLimits(
                f"booking_horizon_days must be 1..{MAX_HORIZON_DAYS}", field="booking_horizon_days"
            )
        policy = await self.settings(session)
        policy.max_nights, policy.booking_horizon_days = max_nights, booking_horizon_days
        await session.flush()
        return policy

    async def update_house(
        self,
        session: AsyncSession,
        *,
        complex_name: str,
        check_in_time: time,
        check_out_time: time,
        checkin_instructions_days_before: int,
    ) -> PriceSettings:
        """The complex's name as guests read it, its check-in and check-out times, and how many days
        ahead the arrival instructions go out."""
        name = complex_name.strip()
        if not 1 <= len(name) <= 120:
            raise InvalidHouseRules("the complex needs a name of 1 to 120 characters", field="complex_name")
        if not 0 <= checkin_instructions_days_before <= 14:
            raise InvalidHouseRules("instructions go out 0 to 14 days before check-in")
        policy = await self.settings(session)
        policy.complex_name = name
        policy.check_in_time, policy.check_out_time = check_in_time, check_out_time
        policy.checkin_instructions_days_before = checkin_instructions_days_before
        await session.flush()
        return policy

    async def seasons(self, session: AsyncSession) -> list[Season]:
        """Dated seasons by start, then yearly ones by first night."""
        order = (Season.yearly, Season.start_date, Season.first_month, Season.first_day, Season.id)
        return list(await session.scalars(select(Season).order_by(*order)))

    async def add_season(self, session: AsyncSession, new: NewSeason) -> Season:
        """A new season; `InvalidSeason` (422) names the field that is wrong."""
        season = Season()
        _fill_season(season, new)
        try:
            async with session.begin_nested():
                session.add(season)
                await session.flush()
        except IntegrityError:  # the unit does not exist (or was just deleted)
            raise InvalidSeason(f"no unit {new.accommodation_id}", field="accommodation_id") from None
        await session.refresh(season)  # amounts as stored (scale of the column)
        return season

    async def season(self, session: AsyncSession, season_id: int) -> Season:
        season = await session.get(Season, season_id)
        if season is None:
            raise SeasonNotFound(f"there is no season {season_id}", season_id=season_id)
        return season

    async def update_season(self, session: AsyncSession, season_id: int, new: NewSeason) -> Season:
        """Replaces every field of a season (dated or yearly); quotes already made keep their amounts."""
        season = await self.season(session, season_id)
        _fill_season(season, new)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:
            raise InvalidSeason(f"no unit {new.accommodation_id}", field="accommodation_id") from None
        await session.refresh(season)
        return season

    async def delete_season(self, session: AsyncSession, season_id: int) -> None:
        season = await self.season(session, season_id)
        await session.delete(season)
        await session.flush()

    async def settings(self, session: AsyncSession) -> PriceSettings:
        """The operator's settings (one row), read once per session: the session keeps the row, so the
        identity map answers the next call without a query (and an edit made here is seen at once)."""
        row = await session.get(PriceSettings, 1)
        if row is None:  # the migration creates it; recreate with defaults if someone deleted it
            row = PriceSettings(id=1)
            session.add(row)
            await session.flush()
            await session.refresh(row)
        return keep_settings(session, row)

    async def timezone(self, session: AsyncSession) -> ZoneInfo:
        return ZoneInfo((await self.settings(session)).timezone)

    async def rules_for(
        self, session: AsyncSession, accommodation_id: int, *, within: tuple[date, date]
    ) -> PricingRules:
        """The rules that apply to one unit for nights in `within` (half-open)."""
        policy = await self.settings(session)
        seasons = await session.scalars(
            select(Season).where(season_applies(accommodation_id, within)).order_by(Season.id)
        )
        return PricingFacts(policy, tuple(seasons)).rules_for(accommodation_id)


_SETTINGS_KEPT = "alojamientos.price_settings"


def keep_settings(session: AsyncSession, row: PriceSettings) -> PriceSettings:
    """Hold a strong reference for the session's life (its identity map only holds weak ones)."""
    session.sync_session.info[_SETTINGS_KEPT] = row
    return row


def season_applies(
    accommodation_id: ColumnExpressionArgument[int] | int,
    within: tuple[date, date] | tuple[ColumnElement[date], ColumnElement[date]],
) -> ColumnElement[bool]:
    """Seasons that can price a night in `within` (half-open) of the unit `accommodation_id`: the
    complex's and the unit's own, dated ones overlapping the range and every yearly one."""
    start, end = within
    return and_(
        or_(Season.accommodation_id.is_(None), Season.accommodation_id == accommodation_id),
        or_(Season.yearly, and_(Season.start_date < end, Season.end_date > start)),
    )


@dataclass(frozen=True, slots=True)
class PricingFacts:
    """The operator's settings and the seasons that may price a range: all a quote reads from the
    database, loaded together (see `reservations.quotes.load`) and applied here without queries."""

    policy: PriceSettings
    seasons: tuple[Season, ...]

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.policy.timezone)

    @property
    def stay_limits(self) -> StayLimits:
        return StayLimits(max_nights=self.policy.max_nights, horizon_days=self.policy.booking_horizon_days)

    def rules_for(self, accommodation_id: int) -> PricingRules:
        """The rules for one unit: the complex's seasons and that unit's own."""
        policy = self.policy
        return PricingRules(
            weekend_multiplier=policy.weekend_multiplier,
            extra_guest_fee=policy.extra_guest_fee,
            deposit_percent=policy.deposit_percent,
            default_min_nights=policy.default_min_nights,
            seasons=tuple(
                season_rule(s) for s in self.seasons if s.accommodation_id in (None, accommodation_id)
            ),
            long_weekend_min_nights=long_weekend_minimum(policy),
        )


def payment_gaps(policy: PriceSettings) -> tuple[str, ...]:
    """What a hold's payment message still lacks: `bank_transfer_details` (empty by default) and a hold
    window (`hold_hours_transfer`, `hold_minutes_mercadopago`; the schema keeps both positive)."""
    gaps: tuple[str, ...] = () if policy.bank_transfer_details.strip() else ("bank_transfer_details",)
    for window in ("hold_hours_transfer", "hold_minutes_mercadopago"):
        if not getattr(policy, window):
            gaps += (window,)
    return gaps


pricing = PricingService()
