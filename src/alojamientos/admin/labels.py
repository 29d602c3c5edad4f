"""What the operator reads instead of field values and error codes: Argentine Spanish, in one place."""

from __future__ import annotations

STATUS = {
    "pre_reserved": "Pre-reserva",
    "confirmed": "Confirmada",
    "cancelled": "Cancelada",
    "expired": "Vencida",
    "completed": "Finalizada",
    "no_show": "No se presentó",
}

SOURCE = {
    "whatsapp": "WhatsApp",
    "admin": "Panel",
    "airbnb": "Airbnb",
    "booking": "Booking",
    "ical": "Calendario",
}

PAYMENT_METHOD = {
    "transfer": "Transferencia",
    "cash": "Efectivo",
    "mercadopago": "Mercado Pago",
    "other": "Otro",
}
# What the operator may record by hand (Mercado Pago payments arrive by webhook).
MANUAL_METHODS = ("transfer", "cash", "other")

PAYMENT_STATUS = {
    "approved": "Aprobado",
    "pending": "Pendiente",
    "in_process": "En proceso",
    "rejected": "Rechazado",
    "cancelled": "Cancelado",
    "refunded": "Devuelto",
    "charged_back": "Contracargo",
    "in_mediation": "En disputa",
}

CONVERSATION_STATE = {
    "idle": "Sin consulta en curso",
    "collecting": "Pidiendo fechas y personas",
    "choosing_unit": "Eligiendo cabaña",
    "asking_name": "Pidiendo el nombre",
    "choosing_payment": "Eligiendo cómo pagar",
    "held": "Con pre-reserva",
    "awaiting_code": "Esperando el código de reserva",
    "confirming_cancel": "Confirmando una cancelación",
}

DELIVERY = {
    "queued": "en cola",
    "sent": "enviado",
    "delivered": "entregado",
    "read": "leído",
    "failed": "no se pudo enviar",
    "shown": "mostrado",
}

ALERT_KIND = {
    "handoff": "Pide hablar con una persona",
    "guest_waiting": "Huésped esperando respuesta",
    "payment_problem": "Problema con un pago",
    "refund_needed": "Hay que devolver un pago",
    "late_payment": "Pago después del vencimiento",
    "calendar_conflict": "Conflicto de calendario",
}

ERRORS = {
    "dates_unavailable": "Esas fechas ya no están libres en esa cabaña.",
    "invalid_transition": (
        "La reserva ya no está en un estado que permita esa acción; quizás cambió mientras la mirabas."
    ),
    "reservation_not_found": "No existe una reserva con ese código.",
    "accommodation_not_found": "Esa cabaña no existe.",
    "accommodation_inactive": "Esa cabaña no está tomando reservas.",
    "too_many_guests": "Son más personas de las que entran en la cabaña.",
    "past_dates": "La fecha de entrada ya pasó.",
    "minimum_stay": "La estadía es más corta que el mínimo de noches para esas fechas.",
    "conversation_not_found": "No hay una conversación con ese teléfono.",
    "invalid_amount": (
        "Revisá el monto: tiene que ser un número mayor que cero, por ejemplo 150.000 o 1500,50."
    ),
    "invalid_method": "Elegí cómo pagó el huésped.",
    "empty_reply": "Escribí el mensaje antes de enviarlo.",
    "missing_name": "Falta el nombre del huésped.",
    "invalid_phone": "Ese teléfono no parece válido; escribilo con característica, por ejemplo 11 5555-1234.",
    "incomplete_stay": "Completá cabaña, entrada, salida (posterior a la entrada) y cantidad de personas.",
    "invalid_setting": "Revisá los números: porcentajes entre 0 y 100 y un mínimo de noches de 1 a 60.",
    "invalid_input": "Revisá los datos del formulario.",
    "not_found": "No encontramos lo que buscabas.",
    "conflict": "No se pudo hacer porque algo cambió mientras tanto. Recargá la página y probá de nuevo.",
}
DEFAULT_ERROR = "No se pudo completar la acción. Probá de nuevo en un momento."

DONE = {
    "creada": "Listo: la reserva quedó cargada.",
    "confirmada": "Listo: la reserva quedó confirmada.",
    "pago": "Listo: registramos el pago.",
    "pago-confirma": "Listo: registramos el pago y, como cubre la seña, la reserva quedó confirmada.",
    "cancelada": "Listo: la reserva quedó cancelada.",
    "notas": "Listo: guardamos las notas.",
    "precio": "Listo: el precio nuevo vale para las próximas cotizaciones.",
    "reglas": "Listo: las reglas nuevas valen para las próximas cotizaciones.",
    "tomada": "Tomaste la conversación: el bot no le va a responder hasta que la devuelvas.",
    "enviado": "Mensaje en camino por WhatsApp.",
    "devuelta": "El bot vuelve a atender esta conversación.",
}


def error_message(code: str) -> str:
    return ERRORS.get(code, DEFAULT_ERROR)


def actor(value: str) -> str:
    """`operator:ana@x` → `ana@x`, `system:expiry` → `Sistema`, `bot` → `Bot`."""
    if value.startswith("operator:"):
        return value.removeprefix("operator:")
    if value.startswith("system"):
        return "Sistema"
    return {"bot": "Bot", "guest": "Huésped", "api": "API"}.get(value, value)
