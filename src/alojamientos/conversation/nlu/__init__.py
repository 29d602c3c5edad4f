"""Deterministic understanding of one guest message (Argentine Spanish, WhatsApp style).

`parse(text, today)` returns the intents and the stay slots (check-in, check-out, guests) defined by
`nlu_conventions.md`. It is a pure function of its arguments: no clock, no I/O, no model, no state;
the same text and `today` always give the same answer, and no input makes it raise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from alojamientos.conversation.nlu.dates import extract_stay
from alojamientos.conversation.nlu.guests import extract_guests
from alojamientos.conversation.nlu.intents import INTENTS, cued_intents, final_intents
from alojamientos.conversation.nlu.normalize import normalize
from alojamientos.conversation.nlu.periods import Period
from alojamientos.observability.metrics import ERRORS

log = logging.getLogger(__name__)

__all__ = ["INTENTS", "Parsed", "Period", "parse", "parse_strict"]


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a guest message says: intents, and the stay it talks about."""

    intents: tuple[str, ...]
    check_in: date | None
    check_out: date | None
    guests: int | None
    nights: int | None
    """A length the guest gave ('3 noches', 'una semana'), even when the dates are unknown."""
    period: Period | None = None
    """The period the dates were resolved from ('carnaval', 'el finde largo de abril'), if any."""

    def as_json(self) -> dict[str, object]:
        """The scored output: intents, ISO dates or None, guests; plus `period` when one was named.

        `period` is `{"kind", "name", "first", "last"}` (see `Period.as_json`), present only when the
        dates come from a named period, so v1 answers keep exactly the four contract fields.
        """
        answer: dict[str, object] = {
            "intents": list(self.intents),
            "check_in": self.check_in.isoformat() if self.check_in else None,
            "check_out": self.check_out.isoformat() if self.check_out else None,
            "guests": self.guests,
        }
        if self.period is not None:
            answer["period"] = self.period.as_json()
        return answer


UNDERSTOOD_NOTHING = Parsed(intents=("other",), check_in=None, check_out=None, guests=None, nights=None)


def parse_strict(text: str, today: date) -> Parsed:
    """Parse without the safety net, so tests see any bug as an exception."""
    normalized = normalize(text)
    cued = cued_intents(normalized)
    stay = extract_stay(normalized, today, changing="modify" in cued)
    guests = extract_guests(normalized, stay.spans)
    has_slots = stay.check_in is not None or stay.check_out is not None or guests is not None
    intents = final_intents(cued, has_slots)
    return Parsed(intents, stay.check_in, stay.check_out, guests, stay.nights, stay.period)


def parse(text: str, today: date) -> Parsed:
    """Intents and slots of one guest message, read on its own against the reference date `today`."""
    if not isinstance(text, str):
        return UNDERSTOOD_NOTHING
    try:
        return parse_strict(text, today)
    except Exception:  # a parser bug must not take down the conversation; tests use parse_strict
        ERRORS.labels("nlu.parse").inc()
        log.exception("nlu.parse_failed", extra={"length": len(text)})
        return UNDERSTOOD_NOTHING
