"""What the bot says about the Argentine calendar (issue 15, points 2 and 3).

- `Understood`: the named period a stay was resolved from ("carnaval", "el próximo finde largo"),
  kept in the conversation so the reply can say it in dates ("El finde largo de carnaval va del
  viernes 5 al martes 9 de febrero (4 noches).") and so a correction in a later message ("llegamos el
  sábado", "nos vamos el lunes") is read against that stay, not against today.
- `vague_period`: phrases that name no single stay (vacaciones de invierno, las fiestas, "Navidad y
  Año Nuevo"); the bot asks, saying the phrase is vague (nlu_conventions.md 6.2).
- `calendar_question`: "¿cuándo es el próximo finde largo?", "¿qué findes largos quedan libres?",
  "próximos feriados", "¿cuándo es carnaval?": answered with long weekends and their free units
  (`weekends_reply`, from the reservations service's availability).

The calendar rules themselves live in `alojamientos.kit.calendar_ar`; nothing here places a holiday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.conversation import replies as r
from alojamientos.conversation.messages import Reply, Row
from alojamientos.conversation.nlu import Parsed
from alojamientos.conversation.nlu.normalize import normalize
from alojamientos.conversation.nlu.periods import MONTH_NAMES, Period
from alojamientos.conversation.nlu.vocabulary import MONTH_ALT
from alojamientos.kit import calendar_ar
from alojamientos.reservations import quotes

WEEKENDS_LISTED = 3
"""How many long weekends a "¿cuándo es el próximo finde largo?" answer lists."""
LISTING_HORIZON = timedelta(days=400)
"""Long weekends are looked for this far ahead (a year has about ten)."""
NEAR = timedelta(days=7)
"""A single arrival or departure this close to the understood stay corrects it as written."""
ROW_TITLE, ROW_DESCRIPTION = 24, 72
"""WhatsApp list row limits (characters)."""

WHEN = re.compile(r"\bcuando\s(?:es|son|cae|caen|hay|viene|vienen|sera|seran|empieza|arranca|seria|serian)\b")
"""'¿cuándo es carnaval?', '¿cuándo cae el próximo finde largo?'."""
LONG_WEEKEND_WORDS = re.compile(r"\bfinde (?:largo|xl)\b|\bferiados?\b")
MANY_WEEKENDS = re.compile(
    r"\bfindes (?:largos?|xl)\b|\bfinde largos\b|\bferiados (?:largos\b|que (?:vienen|quedan))|"
    r"\b(?:proximos|siguientes|que|cuales)\sferiados\b|\balgun (?:finde (?:largo|xl)|feriado)\b"
)
"""Long weekends in the plural, or any of them: 'qué findes largos quedan libres', 'próximos feriados'."""

VagueKind = Literal["invierno", "verano", "fiestas", "finde_largo"]
VAGUE: tuple[tuple[re.Pattern[str], VagueKind], ...] = (
    (re.compile(r"\bvacaciones de (?:invierno|julio)\b|\breceso invernal\b"), "invierno"),
    (re.compile(r"\bvacaciones de verano\b|\b(?:el|este|en|para el) verano\b"), "verano"),
    (re.compile(r"\b(?:las|para las|en las) fiestas\b"), "fiestas"),
)
BOTH_HOLIDAYS = (re.compile(r"\bnavidad\b|\bnoche ?buena\b"), re.compile(r"\bano nuevo\b|\bfin de ano\b"))
"""'Navidad y Año Nuevo': two stays named at once, as vague as 'las fiestas'."""
MONTH_WRITTEN = re.compile(rf"\b(?:{MONTH_ALT})\b|\d{{1,2}}\s?[/.-]\s?\d{{1,2}}")


@dataclass(frozen=True, slots=True)
class Understood:
    """A stay the bot resolved from a period's name: what to call it, the run and the stay.

    Stored in the conversation context as `as_json()` (ISO dates), read back with `from_json`.
    """

    kind: str
    name: str
    first: date
    last: date
    check_in: date
    check_out: date

    @classmethod
    def from_period(cls, period: Period) -> Understood:
        w = period.window
        return cls(period.kind, period.name, w.run.first, w.run.last, w.check_in, w.check_out)

    @classmethod
    def from_json(cls, data: Any) -> Understood | None:
        if not isinstance(data, dict):
            return None
        try:
            dates = {k: date.fromisoformat(data[k]) for k in ("first", "last", "check_in", "check_out")}
            return cls(kind=str(data["kind"]), name=str(data["name"]), **dates)
        except (KeyError, TypeError, ValueError):
            return None

    def as_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "name": self.name,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "check_in": self.check_in.isoformat(),
            "check_out": self.check_out.isoformat(),
        }

    def says(self) -> str:
        """'El finde largo de carnaval va del viernes 5 al martes 9 de febrero (4 noches).'"""
        return r.say(
            "period_stay",
            kind=self.kind,
            name=self.name,
            long=(self.last - self.first).days + 1 >= calendar_ar.LONG_WEEKEND_DAYS,
            check_in=self.check_in,
            check_out=self.check_out,
            nights=(self.check_out - self.check_in).days,
            moved=self._moved_holiday(),
        )

    def near(self, check_in: date | None, check_out: date | None) -> bool:
        """Whether a stay is still about this period (overlaps it, give or take a week)."""
        if check_in is None and check_out is None:
            return False
        start, end = check_in or check_out, check_out or check_in
        assert start is not None and end is not None
        return start <= self.check_out + NEAR and end >= self.check_in - NEAR

    def _moved_holiday(self) -> date | None:
        """For "el feriado del 17 de junio" observed on Monday 15 June: the day it moved to."""
        if self.kind != "holiday":
            return None
        day, _, month = self.name.partition(" de ")
        if not day.isdigit() or month not in MONTH_NAMES:
            return None
        month_number = MONTH_NAMES.index(month) + 1
        observed = calendar_ar.observed_holiday(int(day), month_number, self.first.year)
        if observed is None or (observed.day, observed.month) == (int(day), month_number):
            return None
        return observed


def announce(reply: Reply, understood: Understood) -> Reply:
    """The reply, preceded by the dates the period was understood as."""
    return replace(reply, text=f"{understood.says()}\n{reply.text}")


# -- corrections ------------------------------------------------------------------------------------


def _nearest(original: date, candidate: date, *, weekday: bool) -> date:
    """The date like `candidate` (same weekday, or same day of the month) nearest to `original`."""
    if weekday:
        back = (original.weekday() - candidate.weekday()) % 7
        before, after = original - timedelta(days=back), original + timedelta(days=(7 - back) % 7)
        return after if (after - original) <= (original - before) else before
    options = []
    for months in (-1, 0, 1):
        year, month = divmod(original.month - 1 + months, 12)
        try:
            options.append(date(original.year + year, month + 1, candidate.day))
        except ValueError:
            continue
    return min(options, key=lambda day: abs((day - original).days), default=candidate)


def corrected(parsed: Parsed, text: str, understood: Understood, check_in: date, check_out: date) -> Parsed:
    """A message changing the understood stay, read against that stay rather than against today.

    "llegamos el sábado" after carnaval (Fri 5 - Tue 9 February) is Saturday 6 February, not the
    coming Saturday, and the departure is kept; "nos vamos el lunes" is Monday 8, the arrival kept. A
    day written without a month ("llegamos el 6", "del 6 al 9") is that day nearest the stay. Dates
    with a month, or already near the stay, are taken as written. Returns `parsed` unchanged when the
    message is no such correction (it names a period of its own, or no date, or the stay moved on).
    """
    if parsed.period is not None or not (parsed.check_in or parsed.check_out):
        return parsed
    if not understood.near(check_in, check_out):
        return parsed
    normalized = normalize(text)
    weekday = bool(re.search(r"\b(?:lunes|martes|miercoles|jueves|viernes|sabado|domingo)\b", normalized))
    as_written = bool(MONTH_WRITTEN.search(normalized)) and not weekday

    def anchored(said: date, original: date) -> date:
        if as_written or understood.near(said, said):
            return said
        return _nearest(original, said, weekday=weekday)

    new_in, new_out = check_in, check_out
    if parsed.check_in:
        new_in = anchored(parsed.check_in, check_in)
    if parsed.check_out and parsed.check_in and weekday:  # "del sábado al lunes": the same nights
        new_out = new_in + (parsed.check_out - parsed.check_in)
    elif parsed.check_out:
        new_out = anchored(parsed.check_out, check_out)
    if new_out <= new_in:
        return parsed
    return replace(parsed, check_in=new_in, check_out=new_out, nights=None)


# -- vague periods ----------------------------------------------------------------------------------


def vague_period(text: str) -> VagueKind | None:
    """Which vague period the message names, if any (only asked about when it gives no dates)."""
    normalized = normalize(text)
    for pattern, kind in VAGUE:
        if pattern.search(normalized):
            return kind
    if all(pattern.search(normalized) for pattern in BOTH_HOLIDAYS):
        return "fiestas"
    return None


HOLIDAY_NAMES: tuple[tuple[calendar_ar.Anchor, str], ...] = (
    ("navidad", "Navidad"),
    ("ano_nuevo", "Año Nuevo"),
)


def vague_question(kind: VagueKind, today: date) -> Reply:
    """Asks for dates, saying why the phrase is not enough; for the holidays, with both stays."""
    values: dict[str, Any] = {"kind": kind}
    if kind == "fiestas":
        for anchor, name in HOLIDAY_NAMES:
            found = calendar_ar.named_period(anchor, today)
            values[anchor] = (
                Understood(
                    "named", name, found.run.first, found.run.last, found.check_in, found.check_out
                ).says()
                if found
                else None
            )
    return Reply(r.say("vague_period", **values))


# -- long weekends and their free units ---------------------------------------------------------------

Question = Literal["upcoming", "single"]


def calendar_question(text: str, parsed: Parsed) -> Question | None:
    """Whether the message asks about the calendar rather than for a stay.

    "upcoming": the next long weekends ('¿cuándo es el próximo finde largo?', 'próximos feriados',
    '¿qué findes largos quedan libres?', 'algún finde largo'); "single": when one named period falls
    ('¿cuándo es carnaval?').
    """
    normalized = normalize(text)
    if parsed.check_in is None and MANY_WEEKENDS.search(normalized):
        return "upcoming"
    if not WHEN.search(normalized):
        return None
    if parsed.period is None:
        return "upcoming" if LONG_WEEKEND_WORDS.search(normalized) else None
    return "upcoming" if parsed.period.kind == "next_long_weekend" else "single"


def upcoming_windows(today: date) -> list[calendar_ar.Window]:
    """The next long weekends starting after `today`, as stays (the evening before to the last day)."""
    start = today + timedelta(days=1)
    windows = []
    for run in calendar_ar.long_weekends(start, start + LISTING_HORIZON)[:WEEKENDS_LISTED]:
        found = calendar_ar.window(run, today)
        if found is not None:
            windows.append(found)
    return windows


async def weekends_reply(session: AsyncSession, stays: list[Understood], guests: int | None) -> Reply:
    """Each stay with its dates, nights and the units free for it, and a row to pick each free one.

    Free means offered by `quotes.availability` for the party (1 when unknown): no
    occupying stay, room enough, minimum nights met.
    """
    weekends, rows = [], []
    for stay in stays:
        offers = await quotes.availability(session, stay.check_in, stay.check_out, guests or 1)
        free = [o.accommodation.name for o in offers]
        weekends.append(
            {
                "says": stay.says(),
                "check_in": stay.check_in,
                "check_out": stay.check_out,
                "nights": (stay.check_out - stay.check_in).days,
                "free": free,
            }
        )
        if offers and len(stays) > 1:  # one period is already the stay: the party is asked next
            rows.append(
                Row(
                    f"alt:{stay.check_in.isoformat()}:{stay.check_out.isoformat()}",
                    _fit(
                        r.say("alternative_row", "title", check_in=stay.check_in, check_out=stay.check_out),
                        ROW_TITLE,
                    ),
                    _fit(
                        r.say(
                            "alternative_row",
                            "description",
                            count=len(offers),
                            total=min(o.quote.total for o in offers),
                        ),
                        ROW_DESCRIPTION,
                    ),
                )
            )
    text = r.say("long_weekends", weekends=weekends, guests=guests, single=len(stays) == 1)
    return Reply(text, rows=tuple(rows), list_button=r.say("long_weekends", "list_button"))


def upcoming(today: date) -> list[Understood]:
    """The next long weekends, as stays the bot can name ('El próximo finde largo va del…')."""
    stays = []
    for n, found in enumerate(upcoming_windows(today)):
        stays.append(
            Understood(
                "next_long_weekend" if n == 0 else "long_weekend",
                "próximo" if n == 0 else "",
                found.run.first,
                found.run.last,
                found.check_in,
                found.check_out,
            )
        )
    return stays


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
