"""Pure parsing of an iCalendar feed into the nights it blocks. No I/O, no database.

Conventions (what Airbnb, Booking.com, VRBO and Google Calendar exports need):
- all-day events: DTEND is exclusive; no DTEND means one night; DURATION is honoured;
- timed events block from the local date of their start to the local date of their end, in the
  complex's timezone, and always at least one night (TZID, UTC `Z` and floating times handled;
  floating times use the feed's X-WR-TIMEZONE when it names one);
- STATUS:CANCELLED is ignored; recurring events are expanded over the sync horizon.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events

# Summaries that mean "closed" rather than "booked": shown to the operator as blocks.
BLOCK_WORDS = ("not available", "blocked", "closed", "no disponible", "bloqueado", "unavailable")


class IcalError(ValueError):
    """The feed is not a usable iCalendar file; nothing is changed when this is raised."""


@dataclass(frozen=True, slots=True)
class ImportedEvent:
    uid: str
    check_in: date
    check_out: date
    summary: str
    is_block: bool


def parse_feed(data: bytes, *, tz: ZoneInfo, start: date, end: date) -> list[ImportedEvent]:
    """Occupying events of the feed that touch `[start, end)`, one per stay, sorted by date."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise IcalError(f"not an iCalendar file: {exc}") from exc
    if calendar.name != "VCALENDAR":
        raise IcalError("not an iCalendar file: no VCALENDAR")
    floating_tz = _feed_timezone(calendar) or tz
    try:
        occurrences = recurring_ical_events.of(calendar, components=["VEVENT"]).between(start, end)
    except Exception as exc:  # the library raises several types for broken rules and dates
        raise IcalError(f"cannot expand the events: {type(exc).__name__}: {exc}") from exc
    events: dict[str, ImportedEvent] = {}
    for occurrence in occurrences:
        event = _event(occurrence, tz, floating_tz)
        if event is not None:
            events[event.uid] = event
    return sorted(events.values(), key=lambda e: (e.check_in, e.uid))


def _feed_timezone(calendar: icalendar.Calendar) -> ZoneInfo | None:
    name = calendar.get("X-WR-TIMEZONE")
    if not name:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _event(component: Any, tz: ZoneInfo, floating_tz: ZoneInfo) -> ImportedEvent | None:
    if str(component.get("STATUS", "")).upper() == "CANCELLED":
        return None
    dtstart = component.get("DTSTART")
    if dtstart is None:
        return None
    first = _local_date(dtstart.dt, tz, floating_tz)
    dtend = component.get("DTEND")
    last = _local_date(dtend.dt, tz, floating_tz) if dtend is not None else first
    if last <= first:  # no DTEND, a zero-length or same-day timed event: still one night
        last = first + timedelta(days=1)
    summary = str(component.get("SUMMARY", "")).strip()
    uid = (
        str(component.get("UID", "")).strip()
        or hashlib.sha1(  # noqa: S324 - an identifier, not security
            f"{first}{last}{summary}".encode()
        ).hexdigest()
    )
    if component.get("RRULE") or component.get("RECURRENCE-ID"):
        uid = f"{uid}#{first.isoformat()}"
    lowered = summary.lower()
    return ImportedEvent(uid, first, last, summary, any(word in lowered for word in BLOCK_WORDS))


def _local_date(value: date | datetime, tz: ZoneInfo, floating_tz: ZoneInfo) -> date:
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=floating_tz)
    return value.astimezone(tz).date()
