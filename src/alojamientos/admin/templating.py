"""Jinja2 for the panel: autoescaped templates with the same Spanish formatters the bot uses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.responses import Response

from alojamientos.admin import labels
from alojamientos.admin.deps import CSRF_FIELD, CSRF_HEADER, PREFIX, local_tz
from alojamientos.conversation.format import (
    MONTHS,
    WEEKDAYS,
    fecha,
    fecha_corta,
    hora,
    noches,
    personas,
    pesos,
)
from alojamientos.kit.clock import local_today
from alojamientos.kit.phone import display as display_phone
from alojamientos.ops.backup.common import human_size

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_TZ = ZoneInfo("America/Argentina/Buenos_Aires")
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)


def _today(context: Context) -> date:
    # Partials rendered on their own (from a macro or an import) may have no request in context.
    request = context.get("request")
    return local_today(local_tz(request) if request is not None else DEFAULT_TZ)


@pass_context
def _momento(context: Context, value: datetime | None) -> str:
    """`28/11 14:05` in the complex's timezone; `28/11/2025 14:05` when not in the current year."""
    if value is None:
        return ""
    local = value.astimezone(local_tz(context["request"]))
    year = f"/{local.year}" if local.year != _today(context).year else ""
    return f"{local.day}/{local.month}{year} {local.hour}:{local.minute:02d}"


@pass_context
def _fecha(context: Context, value: date) -> str:
    """`viernes 13 de marzo`, with the year when it is not the current one."""
    return fecha(value, today=_today(context))


@pass_context
def _fecha_corta(context: Context, value: date) -> str:
    """`vie 13/3`, or `vie 12/3/2027` outside the current year."""
    return fecha_corta(value, today=_today(context))


def _numero(value: Decimal) -> str:
    """`20`, `12,5`: a plain number for an input, never `2E+1`."""
    return format(value.normalize(), "f").replace(".", ",")


def _restante(value: timedelta) -> str:
    """`2 h 15 min` left on a hold, or `vencida` when the expiry job has not run yet."""
    minutes = int(value.total_seconds() // 60)
    if minutes <= 0:
        return "vencida"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def _ajuste(amount: Decimal) -> str:
    """`+ $ 10.000` or `− $ 5.000`: a surcharge or a discount on a price."""
    return f"− {pesos(-amount)}" if amount < 0 else f"+ {pesos(amount)}"


def _tipo_mensaje(message: Any) -> str:
    """What kind of thing the guest sent (a voice note, a location…), before its text in a thread."""
    if message.direction != "in":
        return ""
    detail = (message.payload or {}).get("inbound", {}).get("detail") or {}
    return labels.message_kind(message.kind, message.body, detail, display_phone)


def _cuantos(n: int, singular: str, plural: str) -> str:
    """`1 intento`, `3 intentos`: the count and the word that agrees with it."""
    return f"{n} {singular if n == 1 else plural}"


templates.env.filters.update(
    ajuste=_ajuste,
    cuantos=_cuantos,
    dia_semana=lambda d: WEEKDAYS[d.weekday()],
    fecha=_fecha,
    fecha_corta=_fecha_corta,
    fecha_mes=lambda d: MONTHS[d.month - 1],
    pesos=pesos,
    hora=hora,
    noches=noches,
    personas=personas,
    momento=_momento,
    restante=_restante,
    numero=_numero,
    # Values kept as text in an event's JSON data: `e.data.after.check_in|dia|fecha_corta`.
    dia=date.fromisoformat,
    decimal=Decimal,
    estado=lambda v: labels.STATUS.get(v, v),
    origen=lambda v: labels.SOURCE.get(v, v),
    medio=lambda v: labels.PAYMENT_METHOD.get(v, v or ""),
    estado_pago=lambda v: labels.PAYMENT_STATUS.get(v, v),
    estado_bot=lambda v: labels.CONVERSATION_STATE.get(v, v),
    entrega=lambda v: labels.DELIVERY.get(v, v or ""),
    aviso=lambda v: labels.ALERT_KIND.get(v, "Aviso"),
    actor=labels.actor,
    tamano=human_size,
    telefono=lambda v: display_phone(v) if v else "",
    tipo_mensaje=_tipo_mensaje,
    origen_anuncio=lambda v: labels.AD_SOURCE.get(v, v or ""),
)
templates.env.globals.update(PREFIX=PREFIX, CSRF_FIELD=CSRF_FIELD, CSRF_HEADER=CSRF_HEADER, labels=labels)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """A full page, or with `HX-Request` the same page (htmx picks the fragment it asked for)."""
    admin = getattr(request.state, "admin", None)
    ctx = {"admin": admin, "csrf": admin.csrf if admin else "", **(context or {})}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
