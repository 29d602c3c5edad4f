"""Date atoms: every date expression of a normalised message, with the role the words around it give.

Two passes over the output of `normalize`:

1. scan: find atoms (day+month, numeric d/m[/y], "el 15", weekdays, hoy/mañana, finde, the nights of
   "la noche del 7"), most specific patterns first so each piece of text is read once;
2. role: mark each atom as a check-out ("hasta", "nos vamos", the second end of "del X al Y"), an old
   value being replaced ("en vez del 10"), or the date of some other event ("mañana te mando el
   comprobante").

`dates.extract_stay` then pairs and resolves them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from alojamientos.conversation.nlu import daymath
from alojamientos.conversation.nlu.vocabulary import (
    MONTH_ALT,
    MONTHS,
    NOT_A_DAY_UNITS,
    WEEKDAY_ALT,
    WEEKDAYS,
)

Kind = Literal["date", "weekday", "relative", "weekend"]
Span = tuple[int, int]

RELATIVE_DAYS = {"hoy": 0, "manana": 1, "pasado manana": 2, "esta noche": 0}

_TAIL = rf"(?:\s(?:el|la|los|las|este|esta|dia|proximo|de|del|{WEEKDAY_ALT}))*\s?$"

NIGHTS_LIST = re.compile(
    r"\b(?:la|las|una) noches? (?:del|de los dias|del dia|de los|de)\s(\d{1,2})((?:\s?,\s?\d{1,2})*)"
    r"(?:\s?,?\s(?:y|e)\s(?:el\s|del\s)?(\d{1,2}))?(?![\d/.\-])"
    rf"(?:\s(?:de\s|del\s)?({MONTH_ALT})\b)?"
)
"""'la noche del 7', 'las noches del 7 y 8', 'las noches del 2, 3 y 4 de enero'."""

MONTH_DATE = re.compile(
    rf"\b(\d{{1,2}})\s(?:de\s|del\s)?({MONTH_ALT})\b(?! del plata)"
    r"(?:\s(?:de\s|del\s)?(\d{4})\b|\s(?:de|del)\s(\d{2})\b)?"
)
"""'15 de marzo', '15 mar', '15 de marzo de 2027', '3 de enero del 27'."""

YEAR_FIRST_DATE = re.compile(r"(?<![\d/.\-$])(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})(?![\d]|[/.\-]\d)")
"""'2027-01-05' (ISO 8601), '2027/01/05', '2027-1-5': year, month, day, always in that order."""

NUMERIC_DATE = re.compile(
    r"(?<![\d/.\-$])(?<!\blas )(\d{1,2})([/.\-])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d]|[/.\-]\d)"
    rf"(?!\s?%|\s?(?:{NOT_A_DAY_UNITS})\b)"
)
"""'15/3', '15-03', '15.3', '15/3/27', '15-03-2027': always day first. Not times ('a las 10.10'),
fractions and counts ('1/2 hora', '3/4 personas', '2.5 km')."""

_DAY_CUES = ("el ", "del ", "al ", "dia ", "dias ", "hasta ", "desde ", "- ", "-")
_DAY_LOOKBEHIND = "|".join(
    [rf"(?<=\b{re.escape(cue)})" for cue in _DAY_CUES] + [rf"(?<=\b{name} )" for name in WEEKDAYS]
)
DAY_ONLY = re.compile(
    rf"(?=\d)(?:{_DAY_LOOKBEHIND}|(?<![\d/.])(?=\d{{1,2}}\s(?:al|a|-)\s(?:el\s)?\d))"
    r"(\d{1,2})(?![\d/]|[.\-]\d)(?!\s?(?:%|\$|:\d|,\d))"
    rf"(?!\s(?:{NOT_A_DAY_UNITS})\b)"
)
"""A bare day number, only after a cue ('el 15', 'del 15', 'viernes 16') or before 'al N'."""

WEEKDAY = re.compile(rf"(?<!\blos )(?<!\blas )\b({WEEKDAY_ALT})\b(?!\s\d)")
RELATIVE = re.compile(r"\bpasado manana\b|(?<!\bla )\bmanana\b|\bhoy\b|\besta noche\b")
ONE_NIGHT_BEFORE = re.compile(r"\b(?:para|por|solo|solamente|nomas)\s$")
"""'para esta noche' is that one night, like 'la noche del 7'."""
WEEKEND = re.compile(r"\bfinde\b")

WEEKEND_VAGUE_BEFORE = re.compile(
    r"\b(?:un|cualquier|algun|otro|los|cada|todos los|ese|aquel|primer|ultimo|segundo|tercer|cuarto|"
    r"buen|lindo|feliz|excelente|hermoso)\s$"
)
"""A weekend that is not a stay: vague ('un finde'), ordinal, or a wish ('buen finde!')."""
WEEKEND_VAGUE_AFTER = re.compile(
    rf"^\s(?:largo|xl|extra|de\s(?:{MONTH_ALT}|\d)|del\s(?:\d|mes)|patrio|de pascua|de carnaval)"
)
WEEKEND_NEXT_BEFORE = re.compile(r"\b(?:proximo|siguiente)\s$")
WEEKEND_NEXT_AFTER = re.compile(r"^\s(?:que viene|proximo|siguiente)\b")
WEEKEND_THIS_BEFORE = re.compile(r"\beste\s$")

CHECKOUT_CUE = re.compile(
    r"\b(?:hasta|nos vamos|nos iriamos|nos volvemos|volvemos|salimos|saldriamos|saldremos|me voy|me iria|"
    r"me vuelvo|salgo|salir|"
    r"salida(?: es| seria| sera)?|checkout(?: es| seria| sera)?|regresamos|deja(?:mos|r) la cabana|"
    rf"entregamos la cabana|nos retiramos|irnos|nos vamos a ir){_TAIL}"
)
"""Words naming the departure: the next date is the check-out."""

CHECKOUT_AFTER = re.compile(
    r"^\s(?:nos vamos|nos iriamos|me voy|me iria|nos volvemos|dejamos la cabana|es la salida|seria la salida|"
    r"hacemos el checkout)\b"
)
"""The same words after the date: 'el 23 nos vamos'."""

CHAIN_GAP = re.compile(
    r"\s?(?:,\s)?(?:al|a|-|hasta|y hasta|y nos vamos|y salimos|y volvemos|y la salida es|y la salida seria)"
    rf"\s?(?:el\s|la\s)?(?:dia\s)?(?:(?:{WEEKDAY_ALT})\s)?"
)
"""What may stand between the two ends of a range: 'del 15 al 18', '15/3 - 18/3'."""

BETWEEN_GAP = re.compile(r"\s(?:y|e)\s(?:el\s)?")
BETWEEN_BEFORE = re.compile(r"\bentre\s(?:el\s|los dias\s)?$")

OLD_CUE = re.compile(
    r"\b(?:en vez|en lugar|envez|era|eran|teniamos|tenia reservado|tenemos reservado|tengo reservado)"
    rf"(?:\s(?:de|del|para|desde))?{_TAIL}"
)
"""The value being replaced in a modification: 'en vez del 10 al 12'."""

NIGHT_PREFIX = re.compile(r"\b(?:la|una|las) noches? (?:del|de el|de|del dia|de los dias)\s?$")
NIGHT_LIST_GAP = re.compile(r"\s?,?\s?(?:(?:y|e)\s)?(?:el\s|del\s|la del\s)?")
"""Between the nights of a list: 'las noches del 30, 31 de diciembre y 1 de enero'."""

EVENT_VERB = re.compile(
    r"\b(?:te|le|les)\s(?:mando|paso|pasamos|mandamos|transfiero|transferimos|deposito|depositamos|"
    r"hago|hacemos|confirmo|confirmamos|aviso|avisamos|escribo|escribimos|llamo|llamamos|contesto|"
    r"respondo|envio|enviamos|giro|digo|decimos)\b|\b(?:pago|pagamos|abono|abonamos|transfiero|"
    r"transferimos|deposito|depositamos|vence|vencimiento|cobro|me pagan|cobramos)\b"
)
"""Verbs of other events: a bare date in the same clause is not the stay."""

STAY_LEAD = re.compile(
    r"\b(?:del|desde|partir del?|para|llegamos|llego|llegaria|llegariamos|llegando|entramos|entrando|"
    r"ingresamos|ingresando|ingreso|hasta|al|noches?\sdel?|salimos|nos vamos|salida|reserva|reservar|"
    rf"reservame|quedarnos|estadia|checkin){_TAIL}"
)
CLAUSE_BREAK = re.compile(r"[,.;?!]")


@dataclass(slots=True)
class Atom:
    """One date expression found in the text, before it is resolved against `today`."""

    start: int
    end: int
    kind: Kind
    day: int = 0
    month: int | None = None
    year: int | None = None
    value: int = 0
    """Weekday (Monday = 0), day offset for hoy/mañana, or weeks ahead for a weekend."""
    checkout: bool = False
    old: bool = False
    event: bool = False
    single_night: bool = False
    night_end: bool = False
    """Last night of 'las noches del 7 y 8': the check-out is the day after it."""


def _overlaps(start: int, end: int, taken: list[Span]) -> bool:
    """Whether a span overlaps one already read by an earlier, more specific pattern."""
    return any(start < t_end and end > t_start for t_start, t_end in taken)


def _nights_lists(text: str, taken: list[Span]) -> list[Atom]:
    """Atoms for 'la noche del 7' and 'las noches del 7 y 8 [de enero]'."""
    atoms: list[Atom] = []
    for match in NIGHTS_LIST.finditer(text):
        numbers = [int(match.group(1)), *map(int, re.findall(r"\d{1,2}", match.group(2)))]
        if match.group(3):
            numbers.append(int(match.group(3)))
        month = MONTHS.get(match.group(4) or "")
        first, last = numbers[0], numbers[-1]
        first_month = month
        if month is not None and first > last:
            first_month = 12 if month == 1 else month - 1
        start, end = match.start(1), match.end()
        taken.append((match.start(), end))
        if len(numbers) == 1:
            atoms.append(Atom(start, end, "date", day=first, month=month, single_night=True))
            continue
        atoms.append(Atom(start, match.end(1), "date", day=first, month=first_month))
        atoms.append(Atom(match.end(1), end, "date", day=last, month=month, checkout=True, night_end=True))
    return atoms


def _explicit_dates(text: str, taken: list[Span]) -> list[Atom]:
    """Atoms with a month: '15 de marzo [de 2027]', numeric '15/3[/27]' and year-first '2027-03-15'."""
    atoms: list[Atom] = []
    for match in MONTH_DATE.finditer(text):
        if _overlaps(match.start(), match.end(), taken):
            continue
        year_text = match.group(3) or match.group(4)
        year = daymath.full_year(int(year_text)) if year_text else None
        atoms.append(
            Atom(
                match.start(),
                match.end(),
                "date",
                day=int(match.group(1)),
                month=MONTHS[match.group(2)],
                year=year,
            )
        )
        taken.append((match.start(), match.end()))
    for match in YEAR_FIRST_DATE.finditer(text):
        if _overlaps(match.start(), match.end(), taken):
            continue
        # The span is read even when it is no date ('2027-13-01'), so that none of its pieces is
        # taken for a day or a day/month later. '2027-02-30' stays an atom, like '30/2': it still
        # ends a range's first half and resolves to no date.
        taken.append((match.start(), match.end()))
        year, month, day = (int(match.group(n)) for n in (1, 3, 4))
        if 1 <= day <= 31 and 1 <= month <= 12:
            atoms.append(Atom(match.start(), match.end(), "date", day=day, month=month, year=year))
    for match in NUMERIC_DATE.finditer(text):
        day, month = int(match.group(1)), int(match.group(3))
        if _overlaps(match.start(), match.end(), taken):
            continue
        if not (1 <= day <= 31 and 1 <= month <= 12):
            taken.append((match.start(), match.end()))  # '18.30', '45/13': no date, nor a day inside
            continue
        year = daymath.full_year(int(match.group(4))) if match.group(4) else None
        atoms.append(Atom(match.start(), match.end(), "date", day=day, month=month, year=year))
        taken.append((match.start(), match.end()))
    return atoms


def _other_atoms(text: str, taken: list[Span]) -> list[Atom]:
    """Atoms without a month: day numbers, weekdays, hoy/mañana and weekends."""
    atoms: list[Atom] = []
    for match in DAY_ONLY.finditer(text):
        if not _overlaps(match.start(), match.end(), taken):
            atoms.append(Atom(match.start(), match.end(), "date", day=int(match.group(1))))
    for match in WEEKDAY.finditer(text):
        if not _overlaps(match.start(), match.end(), taken):
            atoms.append(Atom(match.start(), match.end(), "weekday", value=WEEKDAYS[match.group(1)]))
    for match in RELATIVE.finditer(text):
        if not _overlaps(match.start(), match.end(), taken):
            one_night = match.group(0) == "esta noche" and bool(
                ONE_NIGHT_BEFORE.search(text[max(0, match.start() - 12) : match.start()])
            )
            atoms.append(
                Atom(
                    match.start(),
                    match.end(),
                    "relative",
                    value=RELATIVE_DAYS[match.group(0)],
                    single_night=one_night,
                )
            )
    for match in WEEKEND.finditer(text):
        weeks = _weekend_weeks(text[: match.start()], text[match.end() :])
        if weeks is not None and not _overlaps(match.start(), match.end(), taken):
            atoms.append(Atom(match.start(), match.end(), "weekend", value=weeks))
    return atoms


def _weekend_weeks(before: str, after: str) -> int | None:
    """Weeks after the coming weekend that 'finde' names (0 or 1), or None for a vague one."""
    before, after = before[-30:], after[:30]
    if WEEKEND_VAGUE_BEFORE.search(before) or WEEKEND_VAGUE_AFTER.search(after):
        return None
    if WEEKEND_NEXT_BEFORE.search(before):
        return 1
    if WEEKEND_NEXT_AFTER.search(after) and not WEEKEND_THIS_BEFORE.search(before):
        return 1
    return 0


def _clause(text: str, start: int, end: int) -> str:
    """The clause around a span: text between the nearest punctuation marks."""
    left = max((m.end() for m in CLAUSE_BREAK.finditer(text, 0, start)), default=0)
    right_match = CLAUSE_BREAK.search(text, end)
    return text[left : right_match.start() if right_match else len(text)]


def _assign_roles(text: str, atoms: list[Atom]) -> None:
    """Mark check-out, old and other-event atoms from the words around them."""
    previous: Atom | None = None
    for atom in atoms:
        before = text[max(0, atom.start - 60) : atom.start]
        gap = text[previous.end : atom.start] if previous else ""
        chained = previous is not None and previous.kind != "weekend" and _is_chain(text, previous, gap)
        if atom.kind != "weekend":
            after = text[atom.end : atom.end + 25]
            atom.checkout = (
                atom.checkout or chained or bool(CHECKOUT_CUE.search(before) or CHECKOUT_AFTER.search(after))
            )
        if (
            previous is not None
            and (previous.night_end or previous.single_night)
            and NIGHT_LIST_GAP.fullmatch(gap)
        ):
            atom.checkout = atom.night_end = True
            previous.single_night = False
        atom.old = bool(OLD_CUE.search(before)) or (chained and previous is not None and previous.old)
        atom.single_night = atom.single_night or bool(NIGHT_PREFIX.search(before))
        atom.event = (
            not chained
            and not atom.night_end
            and atom.kind != "weekend"
            and not STAY_LEAD.search(before)
            and bool(EVENT_VERB.search(_clause(text, atom.start, atom.end)))
        )
        previous = atom


def _is_chain(text: str, previous: Atom, gap: str) -> bool:
    """Whether the gap joins two atoms into one range ('al', '-', 'hasta', 'entre X y Y')."""
    if CHAIN_GAP.fullmatch(gap):
        return True
    before_previous = text[max(0, previous.start - 20) : previous.start]
    return bool(BETWEEN_GAP.fullmatch(gap) and BETWEEN_BEFORE.search(before_previous))


def scan(text: str) -> list[Atom]:
    """All date atoms of a normalised text, in reading order, with their roles assigned."""
    taken: list[Span] = []
    atoms = _nights_lists(text, taken)
    atoms += _explicit_dates(text, taken)
    atoms += _other_atoms(text, taken)
    atoms.sort(key=lambda atom: atom.start)
    _assign_roles(text, atoms)
    return atoms
