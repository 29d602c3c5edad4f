from __future__ import annotations

from alojamientos.errors import Conflict, InvalidInput, NotFound


class DatesUnavailable(Conflict):
    code = "dates_unavailable"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class AccommodationNotFound(NotFound):
    code = "accommodation_not_found"


class ReservationNotFound(NotFound):
    code = "reservation_not_found"


class TooManyGuests(InvalidInput):
    code = "too_many_guests"


class PastDates(InvalidInput):
    code = "past_dates"


class StayRule(InvalidInput):
    """One of the complex's booking rules refuses the stay. Guests and the bot are bound by it; an
    operator may book past it with a reason (`override_reason`), recorded in the timeline."""

    code = "stay_rule"


class MinimumStay(StayRule):
    code = "minimum_stay"


class InvalidOverride(InvalidInput):
    """Booking past a rule needs an operator and a reason."""

    code = "invalid_override"


class InvalidPrice(InvalidInput):
    """An agreed price: exactly one of total, discount amount or discount %, within bounds, and why."""

    code = "invalid_price"


class PriceChoiceRequired(Conflict):
    """A stay with an agreed price is moving: keep that price, or price the new stay from the list?"""

    code = "price_choice_required"


class AccommodationInactive(InvalidInput):
    code = "accommodation_inactive"


class WrongKind(InvalidInput):
    """The action is for guest stays only, or for blocks only."""

    code = "wrong_kind"


class AccommodationExists(Conflict):
    code = "accommodation_exists"


class InvalidAccommodation(InvalidInput):
    code = "invalid_accommodation"


class InvalidPhotoUrl(InvalidInput):
    code = "invalid_photo_url"


class NotArrivedYet(InvalidInput):
    """A no-show is known only from the check-in day on."""

    code = "not_arrived_yet"


class NothingChanged(InvalidInput):
    """A change that would leave the reservation exactly as it is (a stale or repeated form)."""

    code = "nothing_changed"


class InvalidGuest(InvalidInput):
    """A guest needs a name; an e-mail, when given, has to look like one."""

    code = "invalid_guest"


class PaymentMethodUnavailable(InvalidInput):
    """A hold whose payment method cannot work (Mercado Pago not configured, or its flag off)."""

    code = "payment_method_unavailable"


class EmptyStay(InvalidInput):
    """Check-out on or before check-in."""

    code = "empty_stay"


class StayTooLong(InvalidInput):
    """Longer than the operator's maximum number of nights (Ajustes → Precios y reglas)."""

    code = "stay_too_long"


class BeyondHorizon(InvalidInput):
    """Ends later than the operator's booking horizon allows (Ajustes → Precios y reglas)."""

    code = "beyond_booking_horizon"
