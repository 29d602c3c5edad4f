"""Seasons, the rules every quote applies and the booking policy, over the JSON API.

Each route calls the same `pricing` service function as the panel's Ajustes → Precios y reglas, so an
action has one code path and one set of refusals (422 `invalid_season`, `invalid_setting`,
`invalid_hold_window`; 404 `season_not_found`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alojamientos.auth.deps import CurrentOperator
from alojamientos.db import SessionDep
from alojamientos.errors import error_responses
from alojamientos.kit.inputs import Count, Id
from alojamientos.pricing.models import PriceSettings, Season
from alojamientos.pricing.rules import YearlyDates
from alojamientos.pricing.service import (
    MAX_HORIZON_DAYS,
    MAX_STAY_NIGHTS,
    NewSeason,
    long_weekend_minimum,
    pricing,
)
from alojamientos.reservations.schemas import Money

router = APIRouter(prefix="/api/v1", tags=["pricing"])


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    meaning = {
        401: "No bearer token, or an expired one.",
        404: "No season with that id (`season_not_found`).",
        422: "Refused input: `invalid_input` (shape), or the rule broken, with the field when known.",
    }
    return error_responses({status: meaning[status] for status in statuses})


DayMonth = Annotated[
    str, Field(pattern=r"^\d{2}-\d{2}$", description="`MM-DD`, e.g. `12-15`; `02-29` is February's last day")
]


def _day_month(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


class SeasonIn(BaseModel):
    """A dated season (`start_date` .. `end_date`, the end night left out) or a yearly one (`yearly`
    with `first_night` and `last_night`, both included, crossing New Year when the last comes first).
    Exactly one of `price_per_night` (ARS) and `multiplier` (of each unit's base price)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    accommodation_id: Id | None = Field(default=None, description="None: every unit")
    yearly: bool = False
    start_date: date | None = None
    end_date: date | None = None
    first_night: DayMonth | None = None
    last_night: DayMonth | None = None
    price_per_night: Decimal | None = None
    multiplier: Decimal | None = None
    min_nights: Count | None = None

    @model_validator(mode="after")
    def _yearly_has_its_nights(self) -> SeasonIn:
        if self.yearly and (self.first_night is None or self.last_night is None):
            raise ValueError("a yearly season needs first_night and last_night (MM-DD)")
        if not self.yearly and (self.first_night is not None or self.last_night is not None):
            raise ValueError("first_night and last_night are for yearly seasons")
        return self

    def new_season(self) -> NewSeason:
        yearly = None
        if self.yearly:
            assert self.first_night is not None and self.last_night is not None
            yearly = YearlyDates(first=_day_month(self.first_night), last=_day_month(self.last_night))
        return NewSeason(
            name=self.name,
            start=self.start_date,
            end=self.end_date,
            accommodation_id=self.accommodation_id,
            price_per_night=self.price_per_night,
            multiplier=self.multiplier,
            min_nights=self.min_nights,
            yearly=yearly,
        )


class SeasonOut(BaseModel):
    id: int
    name: str
    accommodation_id: int | None
    yearly: bool
    start_date: date | None
    end_date: date | None
    first_night: str | None
    last_night: str | None
    price_per_night: Money | None
    multiplier: Money | None
    min_nights: int | None

    @classmethod
    def of(cls, season: Season) -> SeasonOut:
        def day_month(month: int | None, day: int | None) -> str | None:
            return f"{month:02d}-{day:02d}" if month and day else None

        return cls(
            id=season.id,
            name=season.name,
            accommodation_id=season.accommodation_id,
            yearly=season.yearly,
            start_date=season.start_date,
            end_date=season.end_date,
            first_night=day_month(season.first_month, season.first_day),
            last_night=day_month(season.last_month, season.last_day),
            price_per_night=season.price_per_night,
            multiplier=season.multiplier,
            min_nights=season.min_nights,
        )


class PricingRulesIn(BaseModel):
    """The rules every new quote applies; reservations already made keep their amounts.

    `long_weekend_min_nights`: a number of nights, `"whole_run"` (as many nights as the long weekend
    has days) or null (no rule); it applies to any stay with a night on a long weekend.
    """

    model_config = ConfigDict(extra="forbid")

    deposit_percent: Decimal = Field(description="0..100")
    weekend_multiplier: Decimal = Field(description="0.01..10; 1.2 is a 20 % surcharge")
    default_min_nights: Count = Field(description="1..60")
    extra_guest_fee: Decimal = Field(description="ARS per night per guest above a unit's base occupancy")
    long_weekend_min_nights: Count | Literal["whole_run"] | None = None


class PricingRulesOut(PricingRulesIn):
    deposit_percent: Money
    weekend_multiplier: Money
    extra_guest_fee: Money

    @classmethod
    def of(cls, policy: PriceSettings) -> PricingRulesOut:
        return cls(
            deposit_percent=policy.deposit_percent,
            weekend_multiplier=policy.weekend_multiplier,
            default_min_nights=policy.default_min_nights,
            extra_guest_fee=policy.extra_guest_fee,
            long_weekend_min_nights=long_weekend_minimum(policy),
        )


class BookingPolicyIn(BaseModel):
    """How long a hold waits for each payment method, and the texts guests are sent."""

    model_config = ConfigDict(extra="forbid")

    hold_minutes_mercadopago: Count = Field(description="5..1440")
    hold_hours_transfer: Count = Field(description="1..168")
    cancellation_policy: str = Field(default="", max_length=8000)
    bank_transfer_details: str = Field(default="", max_length=8000)


class BookingPolicyOut(BookingPolicyIn):
    @classmethod
    def of(cls, policy: PriceSettings) -> BookingPolicyOut:
        return cls(
            hold_minutes_mercadopago=policy.hold_minutes_mercadopago,
            hold_hours_transfer=policy.hold_hours_transfer,
            cancellation_policy=policy.cancellation_policy,
            bank_transfer_details=policy.bank_transfer_details,
        )


@router.get("/seasons", response_model=list[SeasonOut], responses=_errors(401))
async def list_seasons(session: SessionDep, operator: CurrentOperator) -> list[SeasonOut]:
    """Dated seasons by start date, then yearly ones by first night."""
    return [SeasonOut.of(s) for s in await pricing.seasons(session)]


@router.post("/seasons", status_code=201, response_model=SeasonOut, responses=_errors(401, 422))
async def create_season(body: SeasonIn, session: SessionDep, operator: CurrentOperator) -> SeasonOut:
    return SeasonOut.of(await pricing.add_season(session, body.new_season()))


@router.get("/seasons/{season_id}", response_model=SeasonOut, responses=_errors(401, 404))
async def get_season(season_id: Id, session: SessionDep, operator: CurrentOperator) -> SeasonOut:
    return SeasonOut.of(await pricing.season(session, season_id))


@router.put("/seasons/{season_id}", response_model=SeasonOut, responses=_errors(401, 404, 422))
async def update_season(
    season_id: Id, body: SeasonIn, session: SessionDep, operator: CurrentOperator
) -> SeasonOut:
    """Replaces every field (a dated season may become yearly and back)."""
    return SeasonOut.of(await pricing.update_season(session, season_id, body.new_season()))


@router.delete("/seasons/{season_id}", status_code=204, responses=_errors(401, 404))
async def delete_season(season_id: Id, session: SessionDep, operator: CurrentOperator) -> Response:
    await pricing.delete_season(session, season_id)
    return Response(status_code=204)


@router.get("/settings/pricing", response_model=PricingRulesOut, responses=_errors(401))
async def get_pricing_rules(session: SessionDep, operator: CurrentOperator) -> PricingRulesOut:
    return PricingRulesOut.of(await pricing.settings(session))


@router.put("/settings/pricing", response_model=PricingRulesOut, responses=_errors(401, 422))
async def set_pricing_rules(
    body: PricingRulesIn, session: SessionDep, operator: CurrentOperator
) -> PricingRulesOut:
    await pricing.update_rules(
        session,
        deposit_percent=body.deposit_percent,
        weekend_multiplier=body.weekend_multiplier,
        default_min_nights=body.default_min_nights,
        extra_guest_fee=body.extra_guest_fee,
    )
    wanted = body.long_weekend_min_nights
    policy = await pricing.update_long_weekend_rule(
        session, min_nights=wanted if isinstance(wanted, int) else None, whole_run=wanted == "whole_run"
    )
    await session.refresh(policy)  # amounts as stored (scale of each column)
    return PricingRulesOut.of(policy)


@router.get("/settings/booking", response_model=BookingPolicyOut, responses=_errors(401))
async def get_booking_policy(session: SessionDep, operator: CurrentOperator) -> BookingPolicyOut:
    return BookingPolicyOut.of(await pricing.settings(session))


@router.put("/settings/booking", response_model=BookingPolicyOut, responses=_errors(401, 422))
async def set_booking_policy(
    body: BookingPolicyIn, session: SessionDep, operator: CurrentOperator
) -> BookingPolicyOut:
    policy = await pricing.update_booking_policy(
        session,
        hold_minutes_mercadopago=body.hold_minutes_mercadopago,
        hold_hours_transfer=body.hold_hours_transfer,
        cancellation_policy=body.cancellation_policy,
        bank_transfer_details=body.bank_transfer_details,
    )
    return BookingPolicyOut.of(policy)


class StayLimitsIO(BaseModel):
    """The stay limits every booking path applies (API, panel, chat)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    max_nights: Annotated[int, Field(ge=1, le=MAX_STAY_NIGHTS, description="the longest stay, in nights")]
    booking_horizon_days: Annotated[
        int,
        Field(ge=1, le=MAX_HORIZON_DAYS, description="a stay must end within this many days from today"),
    ]


@router.get("/settings/stay-limits", response_model=StayLimitsIO, responses=_errors(401))
async def get_stay_limits(session: SessionDep, operator: CurrentOperator) -> PriceSettings:
    return await pricing.settings(session)


@router.put("/settings/stay-limits", response_model=StayLimitsIO, responses=_errors(401, 422))
async def set_stay_limits(
    body: StayLimitsIO, session: SessionDep, operator: CurrentOperator
) -> PriceSettings:
    return await pricing.update_stay_limits(
        session, max_nights=body.max_nights, booking_horizon_days=body.booking_horizon_days
    )
