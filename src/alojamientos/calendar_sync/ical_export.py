"""The availability feed other channels import: RFC 5545, one all-day event per occupied stay,
no guest data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import icalendar

from alojamientos.config import Settings
from alojamientos.reservations.models import Accommodation, Reservation


def export_url(settings: Settings, unit: Accommodation) -> str:
    """The unit's availability feed, as given to Airbnb or Booking.com (the token is its only secret)."""
    return f"{settings.public_base_url.rstrip('/')}/api/v1/ical/{unit.id}.ics?token={unit.ical_token}"


PRODID = "-//alojamientos//Disponibilidad//ES"


def export_calendar(unit_name: str, unit_id: int, stays: Iterable[Reservation], *, domain: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{unit_name} – ocupación")
    for stay in stays:
        event = icalendar.Event()
        # Stable across fetches: the reservation's own code (or the imported block's identity).
        event.add("uid", f"{stay.code}-{unit_id}@{domain}")
        event.add("dtstamp", (stay.updated_at or datetime.now(UTC)).astimezone(UTC))
        event.add("dtstart", stay.check_in)
        event.add("dtend", stay.check_out)
        event.add("summary", "No disponible" if stay.kind == "block" else "Reservado")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
