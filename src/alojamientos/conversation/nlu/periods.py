"""Periods guests name instead of dates, and weekdays of next week (nlu_conventions.md section 6).

`find_period` reads a named period from a normalised message: carnaval, Semana Santa/Pascua(s),
Navidad/Nochebuena, Año Nuevo/fin de año/recibir el año, "el feriado (finde largo, finde) del 17 de
junio", "el finde largo de abril" and "el próximo finde largo". The calendar itself (runs, anchors,
occurrence) lives in `alojamientos.kit.calendar_ar`; this module only maps words to its questions.

`next_week_qualified` says whether a weekday is "of next week" ("el jueves de la semana que viene",
"la semana que viene de jueves a domingo"), which moves it into the Monday-Sunday week after today's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from alojamientos.conversation.nlu.vocabulary import FULL_MONTH_ALT, MONTH_ALT, MONTHS
from alojamientos.kit import calendar_ar

PeriodKind = Literal["named", "holiday", "month_long_weekend", "next_long_weekend"]

NAMED: tuple[tuple[re.Pattern[str], calendar_ar.Anchor, str], ...] = (
    (re.compile(r"\bcarnaval(?:es)?\b"), "carnaval", "carnaval"),
    (re.compile(r"\bsemana santa\b|\bpascuas?\b"), "semana_santa", "Semana Santa"),
    (re.compile(r"\bnavidad\b|\bnoche ?buena\b"), "navidad", "Navidad"),
    (re.compile(r"\bano nuevo\b|\bfin de ano\b|\brecibir el ano\b"), "ano_nuevo", "Año Nuevo"),
)
"""Words naming a holiday period, its anchor in the calendar, and how to say it to the guest."""

HOLIDAY = re.compile(
    rf"\b(?:feriado|finde largo|finde xl|finde)\s(?:del|de)\s(?:dia\s)?(\d{{1,2}})\s(?:de\s)?({MONTH_ALT})\b"
)
"""'el feriado del 17 de junio', 'el finde largo del 9 de julio', 'el finde del 20 de noviembre'."""

MONTH_LONG_WEEKEND = re.compile(rf"\bfinde (?:largo|xl) (?:de|en)\s({FULL_MONTH_ALT})\b")
"""'el finde largo de abril' ('fin de semana largo' is normalised to 'finde largo')."""

NEXT_LONG_WEEKEND = re.compile(
    r"\b(?:proximo|siguiente) finde (?:largo|xl)\b|\bfinde (?:largo|xl) (?:que viene|proximo|siguiente)\b"
)

NOT_THE_STAY_BEFORE = re.compile(
    r"\b(?:feliz|felices|buen|buena|buenas|lindo|linda|lindas|hermos[oa]|pasen(?:\s(?:un|una|unas|unos))?|"
    r"despues de|antes de|pasad[oa]s?|fuera de|desde|hasta)\s(?:el\s|la\s|los\s|las\s)?$"
)
"""A wish ('feliz Navidad', 'felices Pascuas') or a bound ('después de Semana Santa'): no stay."""

NEXT_WEEK = r"(?:la\s)?(?:semana que viene|proxima semana|semana proxima|otra semana|semana siguiente)"
NEXT_WEEK_AFTER = re.compile(rf"^\s(?:de\s|del\s)?{NEXT_WEEK}\b")
"""'el jueves de la semana que viene', 'del lunes al miércoles de la próxima semana'."""
NEXT_WEEK_BEFORE = re.compile(rf"\b{NEXT_WEEK}\s?,?\s(?:de|del|desde el|desde|el)?\s?$")
"""'la semana que viene de jueves a domingo', 'la próxima semana, el martes'."""


@dataclass(frozen=True, slots=True)
class Period:
    """A period the guest named, the stay it gives, and the words it was read from."""

    kind: PeriodKind
    name: str
    """How the guest named it, for a reply: 'carnaval', '17 de junio', 'abril', 'próximo'."""
    window: calendar_ar.Window
    span: tuple[int, int]

    def as_json(self) -> dict[str, object]:
        """`{"kind", "name", "first", "last"}`: first and last are the run's rest days (ISO dates)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "first": self.window.run.first.isoformat(),
            "last": self.window.run.last.isoformat(),
        }


MONTH_NAMES = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()
)


def _said_as_stay(text: str, start: int) -> bool:
    return not NOT_THE_STAY_BEFORE.search(text[max(0, start - 20) : start])


def find_period(text: str, today: date) -> Period | None:
    """The period a normalised message names as its stay, and the stay it gives, or None.

    None too when it names two periods with different stays ('para Navidad y Año Nuevo').
    """
    found: list[Period] = []
    for match in HOLIDAY.finditer(text):
        day, month = int(match.group(1)), MONTHS[match.group(2)]
        holiday = calendar_ar.holiday_period(day, month, today)
        if holiday is not None:
            name = f"{day} de {MONTH_NAMES[month - 1]}"
            found.append(Period("holiday", name, holiday, match.span()))
    for match in NEXT_LONG_WEEKEND.finditer(text):
        upcoming = calendar_ar.next_long_weekend(today)
        if upcoming is not None:
            found.append(Period("next_long_weekend", "próximo", upcoming, match.span()))
    for match in MONTH_LONG_WEEKEND.finditer(text):
        month = MONTHS[match.group(1)]
        of_month = calendar_ar.long_weekend_of_month(month, today)
        if of_month is not None:
            found.append(Period("month_long_weekend", MONTH_NAMES[month - 1], of_month, match.span()))
    for pattern, anchor, name in NAMED:
        for match in pattern.finditer(text):
            named = calendar_ar.named_period(anchor, today)
            if named is not None:
                found.append(Period("named", name, named, match.span()))
    said = [period for period in found if _said_as_stay(text, period.span[0])]
    if len({period.window for period in said}) > 1:
        return None  # 'Navidad y Año Nuevo': two stays named, the guest is asked which dates
    return min(said, key=lambda period: period.span[0], default=None)


def followed_by_next_week(text: str, end: int) -> bool:
    """Whether the words after text[:end] say 'of next week' ('... de la semana que viene')."""
    return bool(NEXT_WEEK_AFTER.search(text[end : end + 40]))


def next_week_qualified(text: str, start: int, end: int) -> bool:
    """Whether the weekday at text[start:end] is said to be in next week, by the words after or before it."""
    return followed_by_next_week(text, end) or bool(NEXT_WEEK_BEFORE.search(text[max(0, start - 40) : start]))
