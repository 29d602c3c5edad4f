from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

from alojamientos.kit.inputs import Id
from alojamientos.kit.phone import InvalidPhone, to_e164

Money = Annotated[Decimal, PlainSerializer(lambda d: str(d), return_type=str, when_used="json")]


def _e164(value: str) -> str:
    try:
        return to_e164(value)
    except InvalidPhone as exc:
        raise ValueError(str(exc)) from exc


Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(_e164)]

MAX_PHOTOS = 30
MAX_GUESTS = 50  # the largest unit takes at most this many (reservations.types.MAX_CAPACITY)
LONG_TEXT = 5000  # descriptions, instructions, notes
Guests = Annotated[int, Field(ge=1, le=MAX_GUESTS)]
Amenity = Annotated[str, StringConstraints(max_length=80)]


def photo_url(value: str) -> str:
    """A photo is an absolute http(s) URL: anything else (javascript:, data:, a path) is refused."""
    url = value.strip()
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if (
        scheme.lower() not in ("http", "https")
        or not host
        or len(url) > 2000
        or any(c.isspace() for c in url)
    ):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return url


PhotoUrl = Annotated[str, AfterValidator(photo_url)]


class Stay(BaseModel):
    check_in: date
    check_out: date

    @model_validator(mode="after")
    def _check_out_after_check_in(self) -> Self:
        if self.check_out <= self.check_in:
            raise ValueError("check_out must be after check_in")
        return self


class AccommodationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    capacity: int = Field(ge=1, le=MAX_GUESTS)
    base_price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    base_occupancy: int | None = Field(default=None, ge=1, le=MAX_GUESTS)
    description: str = Field(default="", max_length=LONG_TEXT)
    amenities: list[Amenity] = Field(default=[], max_length=50)
    photos: list[PhotoUrl] = Field(default=[], max_length=MAX_PHOTOS)
    check_in_instructions: str = Field(default="", max_length=LONG_TEXT)
    active: bool = True

    @model_validator(mode="after")
    def _occupancy_within_capacity(self) -> Self:
        if self.base_occupancy is not None and self.base_occupancy > self.capacity:
            raise ValueError("base_occupancy cannot exceed capacity")
        return self


class AccommodationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    capacity: int
    base_occupancy: int
    base_price: Money
    description: str
    amenities: list[str]
    photos: list[str]
    check_in_instructions: str
    active: bool
    ical_export_url: str = ""


class NightOut(BaseModel):
    """One night and why it costs what it does: base (the unit's or `season`'s) + weekend surcharge
    (a Friday or Saturday, or the eve of `holiday`) + extra-guest fee = amount."""

    model_config = ConfigDict(from_attributes=True)

    date: date
    base: Money
    season: str | None
    weekend: bool
    holiday: str | None
    weekend_surcharge: Money
    extra_guests: int
    extra_guest_fee: Money
    amount: Money


class QuoteRequest(Stay):
    accommodation_id: Id
    guests: Guests


class QuoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    accommodation_id: int
    check_in: date
    check_out: date
    guests: int
    nights: list[NightOut]
    total: Money
    deposit_percent: Money
    deposit: Money
    min_nights: int
    min_nights_season: str | None


class AvailableUnit(BaseModel):
    accommodation: AccommodationOut
    quote: QuoteOut


class AvailabilityOut(BaseModel):
    check_in: date
    check_out: date
    guests: int
    available: list[AvailableUnit]


MAX_AMOUNT = Decimal("999999999.99")


class AgreedPriceIn(BaseModel):
    """Exactly one of `total`, `discount_amount` (pesos off the list total) or `discount_percent`."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)
    total: Decimal | None = Field(default=None, ge=0, le=MAX_AMOUNT, decimal_places=2)
    discount_amount: Decimal | None = Field(default=None, gt=0, le=MAX_AMOUNT, decimal_places=2)
    discount_percent: Decimal | None = Field(default=None, gt=0, le=100, decimal_places=2)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.total, self.discount_amount, self.discount_percent) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of total, discount_amount or discount_percent")
        return self


class PriceRequest(BaseModel):
    """An agreed price for the stay, or `agreed_price: null` to go back to the price list."""

    model_config = ConfigDict(extra="forbid")

    agreed_price: AgreedPriceIn | None


class ReservationCreate(Stay):
    model_config = ConfigDict(extra="forbid")

    accommodation_id: Id
    guests: Guests
    guest_name: str = Field(min_length=1, max_length=200)
    guest_phone: Phone
    guest_email: EmailStr | None = None
    status: Literal["pre_reserved", "confirmed"] = "pre_reserved"
    payment_method: Literal["mercadopago", "transfer"] = "transfer"
    notes: str = Field(default="", max_length=LONG_TEXT)
    agreed_price: AgreedPriceIn | None = None
    # Book past the complex's stay rules (minimum nights…), and why; recorded in the events.
    override_reason: str | None = Field(default=None, min_length=1, max_length=500)


class ChangeRequest(Stay):
    """Other dates, and optionally another unit or party size (left out: as they are now)."""

    model_config = ConfigDict(extra="forbid")

    accommodation_id: Id | None = None
    guests: Guests | None = None
    # Required when the stay has an agreed price (409 price_choice_required otherwise): keep that
    # total for the new stay, or take the price list's.
    price: Literal["keep", "reprice"] | None = None
    # Move past the complex's stay rules (minimum nights…), and why; recorded in the event.
    override_reason: str | None = Field(default=None, min_length=1, max_length=500)


class GuestUpdate(BaseModel):
    """Who the guest is; a field left out stays as it is, `null` clears the phone or e-mail."""

    model_config = ConfigDict(extra="forbid")

    guest_name: str | None = Field(default=None, min_length=1, max_length=200)
    guest_phone: Phone | None = None
    guest_email: EmailStr | None = None


class BlockCreate(Stay):
    """Nights a unit is closed for our own reasons; `reason` is what the calendar shows."""

    model_config = ConfigDict(extra="forbid")

    accommodation_id: Id
    reason: str = Field(default="", max_length=200)


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    data: dict[str, Any]
    created_at: datetime


class ReservationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    accommodation_id: int
    check_in: date
    check_out: date
    guests: int
    guest_name: str
    guest_phone: str | None
    guest_email: str | None
    status: str
    source: str
    total_amount: Money
    deposit_amount: Money
    paid_amount: Money
    owed_amount: Money  # total - paid, never below zero
    overpaid_amount: Money  # paid above the total: to give back
    price_reason: str | None  # set when the total is an agreed price
    list_amount: Money | None  # what the price list asks, when the price is agreed
    expires_at: datetime | None
    notes: str
    kind: str
    created_at: datetime
    updated_at: datetime


class ReservationDetail(ReservationOut):
    events: list[EventOut]


class ReservationList(BaseModel):
    items: list[ReservationOut]
    count: int
