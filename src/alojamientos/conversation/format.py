"""How dates and money read in Argentine Spanish: "viernes 13 de marzo", "$ 150.000"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def fecha(day: date, *, today: date | None = None) -> str:
    """`viernes 13 de marzo`, with the year only when it is not the current one."""
    text = f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]}"
    if today is not None and day.year != today.year:
        text += f" de {day.year}"
    return text


def rango(check_in: date, check_out: date) -> str:
    """`viernes 5 al martes 9 de febrero`, or `jueves 31 de diciembre al domingo 3 de enero`.

    The month is said once when both days share it; never the year, as in `fecha` without `today`.
    """
    first = f"{WEEKDAYS[check_in.weekday()]} {check_in.day}"
    if (check_in.year, check_in.month) != (check_out.year, check_out.month):
        first += f" de {MONTHS[check_in.month - 1]}"
    return f"{first} al {fecha(check_out)}"


def fecha_corta(day: date, *, today: date | None = None) -> str:
    """`vie 13/3`: for list rows, where titles are short; `vie 12/3/2027` when not the current year."""
    text = f"{WEEKDAYS[day.weekday()][:3]} {day.day}/{day.month}"
    if today is not None and day.year != today.year:
        text += f"/{day.year}"
    return text


def pesos(amount: Decimal) -> str:
    """`$ 150.000`, or `$ 1.234,50` when there are centavos."""
    amount = amount.quantize(Decimal("0.01"))
    whole, cents = divmod(abs(amount), 1)
    text = f"{int(whole):,}".replace(",", ".")
    if cents:
        text += f",{int(cents * 100):02d}"
    return f"{'-' if amount < 0 else ''}$ {text}"


def noches(n: int) -> str:
    return "1 noche" if n == 1 else f"{n} noches"


def personas(n: int) -> str:
    return "1 persona" if n == 1 else f"{n} personas"


def hora(value: object) -> str:
    """`14 h` or `10:30 h` from a `time`."""
    hour, minute = getattr(value, "hour", 0), getattr(value, "minute", 0)
    return f"{hour} h" if not minute else f"{hour}:{minute:02d} h"
