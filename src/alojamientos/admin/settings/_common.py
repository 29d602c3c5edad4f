"""What every settings page shares: the page renderer, the redirect after a change, number parsing."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from alojamientos.admin.deps import PREFIX
from alojamientos.admin.labels import DONE, error_message
from alojamientos.admin.templating import render
from alojamientos.errors import AppError
from alojamientos.pricing.service import InvalidSetting

BASE = f"{PREFIX}/ajustes"


def done(path: str, code: str) -> Response:
    """Post/redirect/get: back to the settings page with its "Listo" message."""
    return RedirectResponse(f"{BASE}{path}?hecho={code}", status_code=303)


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    hecho: str = "",
    error: str | AppError = "",
    status_code: int | None = None,
) -> Response:
    """A settings sub-page; a refused form comes back with what was typed, its message and a 4xx."""
    if isinstance(error, AppError):
        message, status = error_message(error.code), error.status
    else:
        message, status = (error_message(error) if error else ""), 200
    ctx = {"done": DONE.get(hecho, ""), "error": message, **context}
    return render(request, f"admin/settings/{template}", ctx, status_code=status_code or status)


def number(raw: str, low: Decimal, high: Decimal, error: type[AppError] = InvalidSetting) -> Decimal:
    """`12,5` or `12.5` within [low, high]; for percentages, multipliers and counts."""
    try:
        value = Decimal(raw.strip().replace(",", "."))
    except InvalidOperation:
        raise error(f"{raw!r} is not a number") from None
    if not value.is_finite() or not low <= value <= high:
        raise error(f"{raw!r} is outside {low}..{high}")
    return value


def whole(raw: str, low: int, high: int, error: type[AppError] = InvalidSetting) -> int:
    value = number(raw, Decimal(low), Decimal(high), error)
    if value != value.to_integral_value():
        raise error(f"{raw!r} is not a whole number")
    return int(value)


def text(raw: str) -> str:
    """A textarea's value with the browser's CRLF line breaks as plain newlines, trimmed."""
    return raw.replace("\r\n", "\n").replace("\r", "\n").strip()
