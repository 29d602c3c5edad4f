"""The values the reservation modules share: the inputs they take and the prices they store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from alojamientos.kit.money import round_money
from alojamientos.pricing.rules import Quote
from alojamientos.reservations.errors import (
    InvalidPrice,
)
from alojamientos.reservations.models import (
    Accommodation,
    ReservationSource,
    ReservationStatus,
)


@dataclass(frozen=True, slots=True)
class UnitQuote:
    accommodation: Accommodation
    quote: Quote


MAX_PRICE = Decimal("999999999.99")
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class AgreedPrice:
    """What the operator agreed with the guest instead of the price list: exactly one of a `total`,
    a `discount_amount` (pesos off the list total) or a `discount_percent` (0 < % <= 100), and why."""

    reason: str
    total: Decimal | None = None
    discount_amount: Decimal | None = None
    discount_percent: Decimal | None = None

    def applied_to(self, list_total: Decimal) -> tuple[Decimal, str]:
        """The total the guest pays for a stay the list prices at `list_total`, and the clean reason."""
        reason = " ".join(self.reason.split())
        if not 1 <= len(reason) <= MAX_REASON:
            raise InvalidPrice(
                f"say why the price is agreed, in 1 to {MAX_REASON} characters", field="reason"
            )
        given = [v for v in (self.total, self.discount_amount, self.discount_percent) if v is not None]
        if len(given) != 1 or not given[0].is_finite():
            raise InvalidPrice("give exactly one of total, discount_amount or discount_percent")
        if self.total is not None:
            if not 0 <= self.total <= MAX_PRICE:
                raise InvalidPrice(f"the total must be within 0..{MAX_PRICE}", field="total")
            return round_money(self.total), reason
        if self.discount_amount is not None:
            if not 0 < self.discount_amount <= list_total:
                raise InvalidPrice(
                    f"the discount must be more than 0 and at most the list total {list_total}",
                    field="discount_amount",
                )
            return round_money(list_total - self.discount_amount), reason
        assert self.discount_percent is not None
        if not 0 < self.discount_percent <= 100:
            raise InvalidPrice(
                "the discount must be more than 0 % and at most 100 %", field="discount_percent"
            )
        return round_money(list_total * (100 - self.discount_percent) / 100), reason


@dataclass(frozen=True, slots=True)
class Price:
    """What a reservation row stores about its price: total and deposit, and for an agreed price
    the reason and what the list says (both None when the list price applies)."""

    total: Decimal
    deposit: Decimal
    list_amount: Decimal | None
    reason: str | None

    @classmethod
    def of(cls, stay_quote: Quote, agreed: AgreedPrice | None) -> Price:
        """The list's price, or the agreed one; the deposit is the quote's percentage of the total."""
        if agreed is None:
            return cls(stay_quote.total, stay_quote.deposit, None, None)
        total, reason = agreed.applied_to(stay_quote.total)
        return cls(total, round_money(total * stay_quote.deposit_percent / 100), stay_quote.total, reason)

    @classmethod
    def kept(cls, stay_quote: Quote, total: Decimal, reason: str) -> Price:
        """The same agreed total for a stay that moved: the list's figure is the new stay's."""
        return cls.of(stay_quote, AgreedPrice(reason=reason, total=total))


@dataclass(frozen=True, slots=True)
class NewStay:
    accommodation_id: int
    check_in: date
    check_out: date
    guests: int
    guest_name: str
    guest_phone: str | None
    guest_email: str | None = None
    source: ReservationSource = ReservationSource.admin
    status: ReservationStatus = ReservationStatus.pre_reserved
    payment_method: str = "transfer"
    notes: str = ""
    price: AgreedPrice | None = None  # None: what the price list says
    override_reason: str | None = None  # book past the stay rules (operators only), and why


@dataclass(frozen=True, slots=True)
class NewBlock:
    """Dates a unit is closed for our own reasons (maintenance, the owner's family): no guest, no price."""

    accommodation_id: int
    check_in: date
    check_out: date
    reason: str


@dataclass(frozen=True, slots=True)
class UnitFields:
    """Everything the operator sets on a unit; on update, None leaves a field as it is."""

    name: str | None = None
    capacity: int | None = None
    base_occupancy: int | None = None
    base_price: Decimal | None = None
    description: str | None = None
    amenities: list[str] | None = None
    photos: list[str] | None = None
    check_in_instructions: str | None = None
    active: bool | None = None


MAX_CAPACITY = 50

# Moving a stay with an agreed price: keep that total, or take the list's price for the new stay.
PriceChoice = Literal["keep", "reprice"]
