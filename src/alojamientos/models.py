"""Every table, imported in one place for Alembic and for tests."""

from alojamientos.auth.models import Operator
from alojamientos.kit.models import Base
from alojamientos.pricing.models import PriceSettings, Season
from alojamientos.reservations.models import Accommodation, Reservation, ReservationEvent

__all__ = [
    "Accommodation",
    "Base",
    "Operator",
    "PriceSettings",
    "Reservation",
    "ReservationEvent",
    "Season",
]
