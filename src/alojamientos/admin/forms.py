"""Parsing what the operator types: amounts the Argentine way ("150.000", "1.500,50"), optional dates."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from alojamientos.errors import InvalidInput

_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class InvalidMethod(InvalidInput):
    code = "invalid_method"


class EmptyReply(InvalidInput):
    code = "empty_reply"


def parse_amount(raw: str) -> Decimal:
    """`150.000` → 150000, `1.500,50` → 1500.50, `1500.5` → 1500.5; positive, at most 2 decimals."""
    text = raw.strip().replace("$", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif _THOUSANDS.match(text):
        text = text.replace(".", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidAmount(f"{raw!r} is not an amount") from None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidAmount(f"{raw!r} is not a positive amount")
    return amount


def parse_date(raw: str | None) -> date | None:
    """A `YYYY-MM-DD` from a date input, or None when empty or malformed (filters just ignore it)."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None
