"""Stay dates from a normalised message: check-in, check-out and a length in nights.

The atoms found by `atoms.scan` are paired into candidate stays (a check-in and the check-out that
follows it), one stay is chosen (current over replaced, then the most complete), and its atoms are
resolved with the rules of the conventions: the check-in from `today`, the check-out from the
check-in, a month written once applying to both ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from alojamientos.conversation.nlu import daymath
from alojamientos.conversation.nlu.atoms import CHAIN_GAP, Atom, Span, scan
from alojamientos.conversation.nlu.periods import (
    Period,
    find_period,
    followed_by_next_week,
    next_week_qualified,
)
from alojamientos.conversation.nlu.vocabulary import FULL_MONTH_ALT, MONTHS
from alojamientos.kit import calendar_ar

WEEKEND_NIGHTS = 2
LENGTH = re.compile(r"\b(\d{1,2}|una|un)\s(noches?|semanas?)\b(?!\smas\b)")
"""A stay length: '3 noches', 'una semana', '2 semanas' (but not 'una noche más')."""
MONTH_WORD = re.compile(rf"\b({FULL_MONTH_ALT})\b")


@dataclass(slots=True)
class _Draft:
    """A candidate stay: a check-in atom and the check-out atom that follows it (either may be missing)."""

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
    period: Period | None = None
    """The named period ('carnaval', 'el finde largo de abril') the dates come from, if any."""


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
        if atom.night_end and last is not None and last.check_out is not None and last.check_out.night_end:
            last.check_out = atom  # one more night in 'las noches del 30, 31 y 1'
            continue
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


def _choose(drafts: list[_Draft], length: int | None, changing: bool) -> _Draft | None:
    """The stay the message is about: current over replaced, then the most complete, then the first.

    In a modification ('cambiar la reserva del 10 al 12 para el 17 al 19') the old stay usually
    comes first, so the last stay with a check-in wins instead.
    """
    current = [draft for draft in drafts if not draft.old] or drafts
    if changing:
        with_check_in = [draft for draft in current if draft.check_in is not None]
        if len(with_check_in) > 1:
            return with_check_in[-1]

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


def _context_month(text: str, atoms: list[Atom], draft: _Draft) -> int | None:
    """The month a day-only stay is in, when the message names one elsewhere.

    Either the one month named on its own ('en julio, del 10 al 17'), or the month of the nearest
    earlier date ('del 10 al 12 de julio para el 17 al 19').
    """
    months = {
        MONTHS[m.group(1)]
        for m in MONTH_WORD.finditer(text)
        if not any(a.start <= m.start() < a.end for a in atoms)
    }
    if len(months) == 1:
        return months.pop()
    first = draft.check_in or draft.check_out
    earlier = [
        atom.month
        for atom in atoms
        if first is not None and atom.end <= first.start and atom.kind == "date" and atom.month is not None
    ]
    return earlier[-1] if earlier else None


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


def _next_week(text: str, first: Atom | None, last: Atom | None) -> tuple[bool, bool]:
    """Whether the check-in and the check-out weekdays are those of next week (section 6.3).

    'el jueves de la semana que viene' and 'la semana que viene de jueves a domingo' put the
    check-in in next week (the check-out then follows it by the v1 rule); so does 'del lunes al
    miércoles de la semana que viene', both days fitting in that week. When they do not ('del viernes
    hasta el lunes de la semana que viene'), or the check-out is alone ('hasta el jueves de la semana
    que viene'), only the check-out is in next week.
    """
    after_last = last is not None and last.kind == "weekday" and followed_by_next_week(text, last.end)
    if first is None:
        return False, after_last
    if first.kind != "weekday":
        return False, False
    if next_week_qualified(text, first.start, first.end):
        return True, False
    if last is None or not after_last or CHAIN_GAP.fullmatch(text[first.end : last.start]) is None:
        return False, False
    same_week = last.kind == "weekday" and first.value < last.value
    return same_week, not same_week


def _period_stay(period: Period, length: int | None, spans: tuple[Span, ...]) -> Stay:
    """The stay of a named period: the evening before its run (or today) to its last day."""
    # on the run's last day no night of it is left: the check-out is unknown
    check_out = period.window.check_out if period.window.nights > 0 else None
    return Stay(period.window.check_in, check_out, length, spans, period)


def extract_stay(text: str, today: date, *, changing: bool = False) -> Stay:
    """Check-in, check-out and nights of the stay a normalised message talks about.

    `changing` says the message modifies a booking, so a later stay replaces an earlier one. A named
    period gives the stay only when no other date of the message does: explicit dates win.
    """
    period = find_period(text, today)
    atoms = scan(text)
    if period is not None:
        start, end = period.span
        atoms = [atom for atom in atoms if atom.end <= start or atom.start >= end]
    length, length_spans = _first_length(text)
    spans = tuple([(a.start, a.end) for a in atoms] + length_spans + ([period.span] if period else []))
    draft = _choose(_drafts(atoms), length, changing)
    if draft is None:
        return _period_stay(period, length, spans) if period else Stay(None, None, length, spans)
    context_month = _context_month(text, atoms, draft)
    first = _with_month(draft.check_in, draft.check_out, context_month)
    last = _with_month(draft.check_out, None, context_month) if first is None else draft.check_out
    in_next_week, out_next_week = _next_week(text, first, last)
    check_in = _resolve(first, today, False, today) if first else None
    if in_next_week and first is not None:
        check_in = calendar_ar.weekday_of_next_week(first.value, today)
    check_out: date | None = None
    if first is not None and first.kind == "weekend":
        check_out = daymath.shift(check_in, WEEKEND_NIGHTS) if check_in else None
    elif out_next_week and last is not None:
        check_out = calendar_ar.weekday_of_next_week(last.value, today)
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
    if period is not None and check_in is None and check_out is None:
        return _period_stay(period, length, spans)
    nights = length
    if nights is None and first is not None and first.single_night:
        nights = 1
    elif nights is None and last is not None and last.night_end and check_in and check_out:
        nights = (check_out - check_in).days
    return Stay(check_in, check_out, nights, spans)
