"""Reservation rules: availability, quotes and every state change.

PostgreSQL decides overlaps (the `reservations_no_overlap` exclusion constraint) and every state
change is a conditional UPDATE whose row count says whether it happened; each one writes its
`ReservationEvent` in the same transaction. Nothing here commits: the caller owns the transaction.

One service object, its methods in private modules by topic (units, quotes, holds, changes,
transitions); callers import only from here.
"""

from __future__ import annotations

from alojamientos.reservations.service import _changes, _holds, _quotes, _transitions, _units
from alojamientos.reservations.service._changes import PriceChoice
from alojamientos.reservations.service._common import (
    CODE_PATTERN,
    GUEST_UPDATED,
    MAX_CAPACITY,
    NOTIFY,
    STAY_CHANGED,
    AgreedPrice,
    NewBlock,
    NewStay,
    Price,
    UnitFields,
    UnitQuote,
    find_code,
    new_code,
)
from alojamientos.reservations.service._quotes import rule_refusals

__all__ = [
    "CODE_PATTERN",
    "GUEST_UPDATED",
    "MAX_CAPACITY",
    "NOTIFY",
    "STAY_CHANGED",
    "AgreedPrice",
    "NewBlock",
    "NewStay",
    "Price",
    "PriceChoice",
    "ReservationService",
    "UnitFields",
    "UnitQuote",
    "find_code",
    "new_code",
    "reservation",
    "rule_refusals",
]


class ReservationService:
    # -- units and reading ---------------------------------------------------------------------------
    create_accommodation = _units.create_accommodation
    update_accommodation = _units.update_accommodation
    _name_free = _units._name_free
    _save_unit = _units._save_unit
    accommodation = _units.accommodation
    get = _units.get

    # -- quotes and availability ---------------------------------------------------------------------
    quote = _quotes.quote
    checked_quote = _quotes.checked_quote
    bookable_quote = _quotes.bookable_quote
    availability = _quotes.availability
    _not_in_past = _quotes._not_in_past
    _bookable = _quotes._bookable

    # -- new holds and blocks ------------------------------------------------------------------------
    hold = _holds.hold
    block = _holds.block
    unblock = _holds.unblock
    _hold_window = _holds._hold_window
    _insert = _holds._insert
    clash = _holds.clash
    _dates_unavailable = _holds._dates_unavailable

    # -- changes in place ----------------------------------------------------------------------------
    change_stay = _changes.change_stay
    set_price = _changes.set_price
    update_guest = _changes.update_guest
    set_notes = _changes.set_notes

    # -- state changes -------------------------------------------------------------------------------
    confirm = _transitions.confirm
    cancel = _transitions.cancel
    reopen_hold = _transitions.reopen_hold
    no_show = _transitions.no_show
    complete = _transitions.complete
    expire_due = _transitions.expire_due
    _locked = _transitions._locked
    _transition = _transitions._transition
    record_event = _transitions.record_event


reservation = ReservationService()
