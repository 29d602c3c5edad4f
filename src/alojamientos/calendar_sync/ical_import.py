"""Pure parsing of an iCalendar feed into the nights it blocks. No I/O, no database.

Conventions (what Airbnb, Booking.com, VRBO and Google Calendar exports need):
- all-day events: DTEND is exclusive; no DTEND means one night; DURATION is honoured;
- timed events block from the local date of their start to the local date of their end, in the
  complex's timezone, and always at least one night (TZID, UTC `Z` and floating times handled;
  floating times use the feed's X-WR-TIMEZONE when it names one);
- STATUS:CANCELLED is ignored; recurring events are expanded over the sync horizon.

One odd event never refuses the feed: every event is read on its own (grouped by UID with its
RECURRENCE-ID overrides, RFC 5545 §3.8.4.4). An event we cannot read at all (no DTSTART, two of
them, a broken DTSTART/DTEND/DURATION: §3.6.1, §3.8.2) is reported in `ParsedFeed.skipped`; an event
whose recurrence alone is unusable (RRULE/RDATE/EXDATE, §3.8.5) is imported from its DTSTART and its
recurrence is reported as skipped. Only a file that is not iCalendar at all raises `IcalError`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events

from alojamientos.observability.metrics import ERRORS

log = logging.getLogger(__name__)

# Summaries that mean "closed" rather than "booked": shown to the operator as blocks.
BLOCK_WORDS = ("not available", "blocked", "closed", "no disponible", "bloqueado", "unavailable")
RECURRENCE = ("RRULE", "RDATE", "EXDATE", "EXRULE")
MAX_RAW_CHARS = 4000  # what we keep of one skipped event's lines for the operator

# Why an event (or its recurrence) was skipped: code -> a line in English (the CLI and the API).
SKIP_REASONS = {
    "no_start": "it has no start date (DTSTART)",
    "two_starts": "it has more than one start date (DTSTART)",
    "bad_start": "its start date (DTSTART) cannot be read",
    "bad_end": "its end date (DTEND) cannot be read",
    "bad_duration": "its length (DURATION) cannot be read",
    "unreadable": "it cannot be read",
    "bad_recurrence": "its repetition (RRULE/RDATE/EXDATE) cannot be read; only its first date was imported",
}


class IcalError(ValueError):
    """The file is not an iCalendar file at all; nothing is changed when this is raised.

    The message is one line a person can act on; the parser's own detail goes to the log."""


@dataclass(frozen=True, slots=True)
class ImportedEvent:
    uid: str  # the identity of the stay: the event's UID, plus `#<date>` for one occurrence of a series
    check_in: date
    check_out: date
    summary: str
    is_block: bool
    base_uid: str = ""  # the event's UID alone (empty when the event has none)


@dataclass(frozen=True, slots=True)
class SkippedEvent:
    """An event (partial=False) or an event's recurrence (partial=True) that could not be read."""

    uid: str | None
    reason: str  # a key of SKIP_REASONS
    raw: str  # the event's lines as the feed sent them
    partial: bool = False

    def line(self) -> str:
        return f"{self.uid or 'an event without UID'}: {SKIP_REASONS[self.reason]}"

    def as_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "reason": self.reason, "raw": self.raw, "partial": self.partial}


@dataclass(slots=True)
class ParsedFeed:
    events: list[ImportedEvent] = field(default_factory=list)
    skipped: list[SkippedEvent] = field(default_factory=list)


class _Unreadable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_feed(data: bytes, *, tz: ZoneInfo, start: date, end: date) -> ParsedFeed:
    """Occupying events of the feed that touch `[start, end)`, one per stay sorted by date, and the
    events that could not be read. Raises `IcalError` only when `data` is not iCalendar."""
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as exc:  # the parser raises several types for files that are not iCalendar
        log.info("ical.not_a_calendar", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
        raise IcalError("not an iCalendar file") from exc
    calendars = [c for c in calendars if c.name == "VCALENDAR"]
    if not calendars:
        raise IcalError("not an iCalendar file: no VCALENDAR")
    raws = iter(_raw_events(data))
    parsed = ParsedFeed()
    events: dict[str, ImportedEvent] = {}
    for calendar in calendars:  # a second VCALENDAR in the same file is read like the first
        reader = _Reader(calendar, tz, _feed_timezone(calendar) or tz, start, end)
        groups: dict[str, list[tuple[Any, str]]] = {}
        for index, component in enumerate(calendar.walk("VEVENT")):
            key = str(component.get("UID", "")).strip() or f"\x00{index}"  # no UID: an event of its own
            groups.setdefault(key, []).append((component, next(raws, "")))
        readable: dict[str, list[Any]] = {}
        for key, members in groups.items():
            try:
                for component, _ in members:
                    _check(component)
            except _Unreadable as exc:
                parsed.skipped.append(SkippedEvent(_owner(key), exc.reason, _raw(members)))
                continue
            readable[key] = [c for c, _ in members]
        for event in reader.read(readable, groups, parsed.skipped):
            events[event.uid] = event
    for skipped in parsed.skipped:
        log.warning("ical.event_skipped", extra={"uid": skipped.uid, "reason": skipped.reason})
        ERRORS.labels(where="ical.event_skipped").inc()
    parsed.events = sorted(events.values(), key=lambda e: (e.check_in, e.uid))
    return parsed


def _owner(key: str) -> str | None:
    return None if key.startswith("\x00") else key


def _raw(members: list[tuple[Any, str]]) -> str:
    return "\r\n".join(r for _, r in members)[:MAX_RAW_CHARS]


def _recurring(components: list[Any]) -> bool:
    return any(c.get(name) is not None for c in components for name in (*RECURRENCE, "RECURRENCE-ID"))


@dataclass(slots=True)
class _Reader:
    """Expands the readable events of one VCALENDAR over `[start, end)`."""

    calendar: icalendar.Calendar
    tz: ZoneInfo
    floating_tz: ZoneInfo
    start: date
    end: date

    def read(
        self,
        readable: dict[str, list[Any]],
        groups: dict[str, list[tuple[Any, str]]],
        skipped: list[SkippedEvent],
    ) -> list[ImportedEvent]:
        # The usual feed expands in one pass; if anything in it is odd, each event is read on its own.
        together = {key: components for key, components in readable.items() if _owner(key)}
        try:
            recurring = {key: _recurring(components) for key, components in together.items()}
            occurrences = self._expand([c for components in together.values() for c in components])
            events = [
                self._event(o, key, recurring[key])
                for o in occurrences
                if (key := str(o.get("UID", "")).strip()) in recurring
            ]
            alone = [key for key in readable if key not in together]
        except Exception as exc:  # the expansion library raises many types for broken rules
            log.info("ical.feed_expanded_per_event", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            events, alone = [], list(readable)
        for key in alone:
            events += self._group(_owner(key), readable[key], _raw(groups[key]), skipped)
        return [e for e in events if e is not None]

    def _group(
        self, uid: str | None, components: list[Any], raw: str, skipped: list[SkippedEvent]
    ) -> list[ImportedEvent | None]:
        """One event with its overrides; what cannot be read is added to `skipped`."""
        recurring = _recurring(components)
        try:
            return [self._event(o, uid, recurring) for o in self._expand(components)]
        except Exception as exc:  # the expansion library raises many types for broken rules
            _log_unreadable(uid, exc)
            if not recurring:
                skipped.append(SkippedEvent(uid, "unreadable", raw))
                return []
        # Only the recurrence is unreadable: import the event from its DTSTART alone (§3.8.5 adds
        # dates to DTSTART's own, never removes it) and report the repetition as skipped.
        master = next((c for c in components if c.get("RECURRENCE-ID") is None), components[0]).copy()
        for name in (*RECURRENCE, "RECURRENCE-ID"):
            master.pop(name, None)
        try:
            events = [self._event(o, uid, False) for o in self._expand([master])]
        except Exception as exc:
            _log_unreadable(uid, exc)
            skipped.append(SkippedEvent(uid, "unreadable", raw))
            return []
        skipped.append(SkippedEvent(uid, "bad_recurrence", raw, partial=True))
        return events

    def _expand(self, components: list[Any]) -> list[Any]:
        alone = icalendar.Calendar()
        for name, value in self.calendar.items():  # X-WR-TIMEZONE and the like
            alone[name] = value
        for timezone in self.calendar.walk("VTIMEZONE"):
            alone.add_component(timezone)
        for component in components:
            alone.add_component(component)
        return list(recurring_ical_events.of(alone, components=["VEVENT"]).between(self.start, self.end))

    def _event(self, component: Any, uid: str | None, recurring: bool) -> ImportedEvent | None:
        if str(component.get("STATUS", "")).upper() == "CANCELLED":
            return None
        first = _local_date(component.get("DTSTART").dt, self.tz, self.floating_tz)
        dtend = component.get("DTEND")
        last = _local_date(dtend.dt, self.tz, self.floating_tz) if dtend is not None else first
        if last <= first:  # no DTEND, a zero-length or same-day timed event: still one night
            last = first + timedelta(days=1)
        summary = str(component.get("SUMMARY", "")).strip()
        identity = (
            uid
            or hashlib.sha1(  # noqa: S324 - an identifier, not security
                f"{first}{last}{summary}".encode()
            ).hexdigest()
        )
        if recurring:  # one occurrence of a series; a one-off event is its UID alone, wherever it moves
            occurrence = component.get("RECURRENCE-ID") or component.get("DTSTART")
            identity = f"{identity}#{_local_date(occurrence.dt, self.tz, self.floating_tz).isoformat()}"
        lowered = summary.lower()
        is_block = any(word in lowered for word in BLOCK_WORDS)
        return ImportedEvent(identity, first, last, summary, is_block, base_uid=uid or "")


def _check(component: Any) -> None:
    """The dates an event cannot do without, each exactly once and readable (RFC 5545 §3.6.1)."""
    broken = {str(name).upper() for name, _ in getattr(component, "errors", [])}
    for name, reason in (("DTSTART", "bad_start"), ("DTEND", "bad_end"), ("DURATION", "bad_duration")):
        value = component.get(name)
        if value is None:
            if name == "DTSTART":
                raise _Unreadable("no_start")
            continue
        if isinstance(value, list):
            raise _Unreadable("two_starts" if name == "DTSTART" else reason)
        if name in broken:
            raise _Unreadable(reason)
        try:
            value.dt  # noqa: B018 - a broken property raises here
        except Exception as exc:
            raise _Unreadable(reason) from exc


def _log_unreadable(uid: str | None, exc: Exception) -> None:
    log.info(
        "ical.event_unreadable_detail", extra={"uid": uid, "error": f"{type(exc).__name__}: {exc}"[:300]}
    )


def _feed_timezone(calendar: icalendar.Calendar) -> ZoneInfo | None:
    name = calendar.get("X-WR-TIMEZONE")
    if not name:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local_date(value: date | datetime, tz: ZoneInfo, floating_tz: ZoneInfo) -> date:
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=floating_tz)
    return value.astimezone(tz).date()


_BEGIN, _END = re.compile(rb"^BEGIN:VEVENT\s*$", re.I), re.compile(rb"^END:VEVENT\s*$", re.I)


def _raw_events(data: bytes) -> Iterable[str]:
    """Each VEVENT's lines as sent (folded lines kept), in file order, for the operator to read."""
    lines: list[bytes] | None = None
    for line in data.splitlines():
        if lines is None:
            if _BEGIN.match(line):
                lines = [line]
        else:
            lines.append(line)
            if _END.match(line):
                yield b"\r\n".join(lines).decode("utf-8", "replace")
                lines = None
