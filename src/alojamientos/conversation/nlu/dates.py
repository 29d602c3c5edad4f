"""Stay dates from a normalised message: check-in, check-out and a length in nights.

The grammar works in three passes over the output of `normalize`:

1. scan: find date *atoms* (day+month, numeric d/m[/y], "el 15", weekdays, hoy/mañana, finde);
2. role: mark each atom as a check-out ("hasta", "nos vamos", the second end of "del X al Y"),
   an old value being replaced ("en vez del 10"), or the date of some other event
   ("mañana te mando el comprobante");
3. resolve: pair check-in and check-out atoms into stays, pick one, and turn it into dates with the
   rules of the conventions (check-in from `today`, check-out from the check-in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from alojamientos.conversation.nlu import daymath
from alojamientos.conversation.nlu.vocabulary import (
    FULL_MONTH_ALT,
    MONTH_ALT,
    MONTHS,
    NOT_A_DAY_UNITS,
    WEEKDAY_ALT,
    WEEKDAYS,
)

Kind = Literal["date", "weekday", "relative", "weekend"]
Span = tuple[int, int]

WEEKEND_NIGHTS = 2
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

NUMERIC_DATE = re.compile(
    r"(?<![\d/.\-$])(\d{1,2})([/.\-])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d]|[/.\-]\d)"
    r"(?!\s?(?:km|kms|mts|metros|cuadras|%|hs|horas|personas|pax|mil|lucas|pesos)\b)"
)
"""'15/3', '15-03', '15.3', '15/3/27', '15-03-2027': always day first."""

_DAY_CUES = ("el ", "del ", "al ", "dia ", "dias ", "hasta ", "desde ", "- ", "-")
_DAY_LOOKBEHIND = "|".join(
    [rf"(?<=\b{re.escape(cue)})" for cue in _DAY_CUES] + [rf"(?<=\b{name} )" for name in WEEKDAYS]
)
DAY_ONLY = re.compile(
    rf"(?:{_DAY_LOOKBEHIND}|(?<![\d/.])(?=\d{{1,2}}\s(?:al|a|-)\s(?:el\s)?\d))"
    r"(\d{1,2})(?![\d/]|[.\-]\d)(?!\s?(?:%|\$|:\d|,\d))"
    rf"(?!\s(?:{NOT_A_DAY_UNITS})\b)"
)
"""A bare day number, only after a cue ('el 15', 'del 15', 'viernes 16') or before 'al N'."""

WEEKDAY = re.compile(rf"(?<!\blos )(?<!\blas )\b({WEEKDAY_ALT})\b(?!\s\d)")
RELATIVE = re.compile(r"\bpasado manana\b|(?<!\bla )\bmanana\b|\bhoy\b|\besta noche\b")
ONE_NIGHT_BEFORE = re.compile(r"\b(?:para|por|solo|solamente|nomas)\s$")
"""'para esta noche' is that one night, like 'la noche del 7'."""
WEEKEND = re.compile(r"\bfinde\b")
LENGTH = re.compile(r"\b(\d{1,2}|una|un)\s(noches?|semanas?)\b(?!\smas\b)")
MONTH_WORD = re.compile(rf"\b({FULL_MONTH_ALT})\b")

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
    r"me vuelvo|salgo|"
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

NIGHT_PREFIX = re.compile(r"\b(?:la|una) noche (?:del|de el|de|del dia)\s?$")

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


@dataclass(slots=True)
class _Draft:
    check_in: Atom | None
    check_out: Atom | None

    @property
    def old(self) -> bool:
        first = self.check_in or self.check_out
        return first is not None and first.old


@dataclass(frozen=True, slots=True)
class Stay:
    """The stay a message talks about, plus the text spans that were read as dates or lengths."""

    check_in: date | None
    check_out: date | None
    nights: int | None
    spans: tuple[Span, ...]


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
    """Atoms with a month: '15 de marzo [de 2027]' and numeric '15/3[/27]'."""
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
    for match in NUMERIC_DATE.finditer(text):
        day, month = int(match.group(1)), int(match.group(3))
        if not (1 <= day <= 31 and 1 <= month <= 12) or _overlaps(match.start(), match.end(), taken):
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


def _drafts(atoms: list[Atom]) -> list[_Draft]:
    """Group atoms into candidate stays: a check-in followed by its check-out, if any."""
    drafts: list[_Draft] = []
    for atom in atoms:
        if atom.event:
            continue
        if atom.kind == "weekend":
            drafts.append(_Draft(atom, atom))
            continue
        last = drafts[-1] if drafts else None
        if (
            atom.checkout
            and last is not None
            and last.check_in is not None
            and last.check_out is None
            and last.old == atom.old
        ):
            last.check_out = atom
        elif atom.checkout:
            drafts.append(_Draft(None, atom))
        else:
            drafts.append(_Draft(atom, None))
    return drafts


def _choose(drafts: list[_Draft], length: int | None) -> _Draft | None:
    """The stay the message is about: current over replaced, then the most complete, then the first."""
    current = [draft for draft in drafts if not draft.old] or drafts

    def completeness(draft: _Draft) -> int:
        if draft.check_in is None:
            return 0
        if draft.check_out is not None or draft.check_in.single_night or length is not None:
            return 2
        return 1

    return max(current, key=completeness, default=None)


def _with_month(atom: Atom | None, other: Atom | None, context_month: int | None) -> Atom | None:
    """Give a day-only check-in the month written once on the check-out, or the message's month."""
    if atom is None or atom.kind != "date" or atom.month is not None:
        return atom
    if other is not None and other is not atom and other.kind == "date" and other.month is not None:
        month, year = other.month, other.year
        if atom.day > other.day:
            month -= 1
            if month == 0:
                month, year = 12, (year - 1 if year else None)
        return replace(atom, month=month, year=year)
    if context_month is not None:
        return replace(atom, month=context_month)
    return atom


def _resolve(atom: Atom, anchor: date, strict: bool, today: date) -> date | None:
    """Turn an atom into a date: the first match on/after (or strictly after) the anchor."""
    if atom.kind == "relative":
        return daymath.shift(today, atom.value)
    if atom.kind == "weekday":
        return daymath.next_weekday(atom.value, anchor)
    if atom.kind == "weekend":
        friday = daymath.weekend_friday(today)
        return daymath.shift(friday, 7 * atom.value) if friday else None
    if atom.year is not None and atom.month is not None:
        return daymath.make_date(atom.year, atom.month, atom.day)
    if atom.month is not None:
        return daymath.next_day_month(atom.day, atom.month, anchor, strict=strict)
    return daymath.next_day_of_month(atom.day, anchor, strict=strict)


def _context_month(text: str, atoms: list[Atom]) -> int | None:
    """The one month named on its own ('en julio, del 10 al 17'), if exactly one is."""
    months = {
        MONTHS[m.group(1)]
        for m in MONTH_WORD.finditer(text)
        if not any(a.start <= m.start() < a.end for a in atoms)
    }
    return months.pop() if len(months) == 1 else None


def _first_length(text: str) -> tuple[int | None, list[Span]]:
    """The first stay length in nights ('3 noches', 'una semana') and the spans of all of them."""
    nights: int | None = None
    spans: list[Span] = []
    for match in LENGTH.finditer(text):
        count = 1 if match.group(1) in ("un", "una") else int(match.group(1))
        value = count * 7 if match.group(2).startswith("semana") else count
        if nights is None and value > 0:
            nights = value
        spans.append((match.start(), match.end()))
    return nights, spans


def scan(text: str) -> list[Atom]:
    """All date atoms of a normalised text, in reading order, with their roles assigned."""
    taken: list[Span] = []
    atoms = _nights_lists(text, taken)
    atoms += _explicit_dates(text, taken)
    atoms += _other_atoms(text, taken)
    atoms.sort(key=lambda atom: atom.start)
    _assign_roles(text, atoms)
    return atoms


def extract_stay(text: str, today: date) -> Stay:
    """Check-in, check-out and nights of the stay a normalised message talks about."""
    atoms = scan(text)
    length, length_spans = _first_length(text)
    spans = tuple([(a.start, a.end) for a in atoms] + length_spans)
    draft = _choose(_drafts(atoms), length)
    if draft is None:
        return Stay(None, None, length, spans)
    context_month = _context_month(text, atoms)
    first = _with_month(draft.check_in, draft.check_out, context_month)
    last = _with_month(draft.check_out, None, context_month) if first is None else draft.check_out
    check_in = _resolve(first, today, False, today) if first else None
    check_out: date | None = None
    if first is not None and first.kind == "weekend":
        check_out = daymath.shift(check_in, WEEKEND_NIGHTS) if check_in else None
    elif last is not None:
        check_out = _resolve(last, check_in or today, check_in is not None, today)
        if check_out is not None and last.night_end:
            check_out = daymath.shift(check_out, 1)
    elif check_in is not None and first is not None and first.single_night:
        check_out = daymath.shift(check_in, 1)
    elif check_in is not None and length is not None:
        check_out = daymath.shift(check_in, length)
    if check_in is not None and check_out is not None and check_out <= check_in:
        check_out = None
    nights = length
    if nights is None and first is not None and first.single_night:
        nights = 1
    elif nights is None and last is not None and last.night_end and check_in and check_out:
        nights = (check_out - check_in).days
    return Stay(check_in, check_out, nights, spans)
