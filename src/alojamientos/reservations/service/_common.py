"""What the service's parts share: event reasons, reservation codes, the inputs they take."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from alojamientos.kit.money import round_money
from alojamientos.pricing.rules import Quote
from alojamientos.reservations.errors import (
    InvalidAccommodation,
    InvalidPhotoUrl,
    InvalidPrice,
)
from alojamientos.reservations.models import (
    Accommodation,
    Reservation,
    ReservationSource,
    ReservationStatus,
)
from alojamientos.reservations.schemas import MAX_PHOTOS, photo_url

log = logging.getLogger(__name__)

NOTIFY = "reservation.notify"  # handled in notifications.tasks: tells the guest and the operator
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I/1, O/0: read aloud over the phone
CODE_LENGTH = 6
# `ReservationEvent.reason` of changes that keep the status: notifications.tasks tells the guest about
# a changed stay, and nobody about corrected guest details.
STAY_CHANGED = "stay_changed"
GUEST_UPDATED = "guest_updated"


_CODE_DIGITS = frozenset("23456789")


def new_code() -> str:
    """Six characters with at least one digit and one letter, so no Spanish word is ever a code."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if _CODE_DIGITS & set(code) and set(code) - _CODE_DIGITS:
            return code


# A code as a guest types it: six characters from the alphabet, at least one of them a digit.
CODE_PATTERN = re.compile(r"\b(?=[A-Z2-9]*[2-9])(?=[2-9]*[A-Z])[A-HJ-NP-Z2-9]{6}\b")


def find_code(text: str) -> str | None:
    match = CODE_PATTERN.search(text.upper())
    return match.group(0) if match else None


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


def _checked_unit(fields: UnitFields, current: Accommodation | None) -> dict[str, Any]:
    """The values to store, all validated before anything is assigned (a refusal changes nothing)."""
    values = {k: getattr(fields, k) for k in UnitFields.__slots__ if getattr(fields, k) is not None}
    if "name" in values:
        values["name"] = values["name"].strip()
        if not 1 <= len(values["name"]) <= 120:
            raise InvalidAccommodation("the name needs 1 to 120 characters", field="name")
    capacity = values.get("capacity", current.capacity if current else None)
    if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidAccommodation(f"capacity must be 1..{MAX_CAPACITY}", field="capacity")
    occupancy = values.get("base_occupancy", current.base_occupancy if current else min(2, capacity))
    if not 1 <= occupancy <= capacity:
        raise InvalidAccommodation("base_occupancy must be 1..capacity", field="base_occupancy")
    values["base_occupancy"] = occupancy
    price = values.get("base_price", current.base_price if current else None)
    if price is None or not price.is_finite() or price < 0 or price >= Decimal("1e10"):
        raise InvalidAccommodation("base_price must be a non-negative amount", field="base_price")
    if "photos" in values:
        if len(values["photos"]) > MAX_PHOTOS:
            raise InvalidPhotoUrl(f"at most {MAX_PHOTOS} photos", field="photos")
        try:
            values["photos"] = [photo_url(url) for url in values["photos"]]
        except ValueError as exc:
            raise InvalidPhotoUrl(str(exc), field="photos") from None
    return values


def _stay_facts(stay: Reservation, unit_name: str) -> dict[str, Any]:
    """A stay as the timeline keeps it (JSON): enough to say, in words, what it was."""
    return {
        "accommodation_id": stay.accommodation_id,
        "unit": unit_name,
        "check_in": stay.check_in.isoformat(),
        "check_out": stay.check_out.isoformat(),
        "guests": stay.guests,
        "total": str(stay.total_amount),
        "deposit": str(stay.deposit_amount),
        "price_reason": stay.price_reason,
    }


def _violates(exc: IntegrityError, constraint: str) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint


def _price_facts(price: Price) -> dict[str, Any]:
    """An agreed price as the timeline keeps it (JSON)."""
    return {
        "total": str(price.total),
        "list_total": str(price.list_amount) if price.list_amount is not None else None,
        "reason": price.reason,
    }
