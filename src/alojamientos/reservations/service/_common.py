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

from alojamientos.pricing.rules import Quote
from alojamientos.reservations.errors import (
    InvalidAccommodation,
    InvalidPhotoUrl,
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
    }


def _violates(exc: IntegrityError, constraint: str) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint
