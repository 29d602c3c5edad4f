"""What the operator reads instead of field values and error codes: Argentine Spanish, in one place."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from alojamientos.pricing.service import MAX_HORIZON_DAYS, MAX_STAY_NIGHTS

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
    "held": "sin enviar: WhatsApp no está configurado",
}

ALERT_KIND = {
    "handoff": "Pide hablar con una persona",
    "guest_waiting": "Huésped esperando respuesta",
    "payment_problem": "Problema con un pago",
    "refund_needed": "Hay que devolver un pago",
    "late_payment": "Pago después del vencimiento",
    "calendar_conflict": "Conflicto de calendario",
    "calendar_empty": "Un calendario vino vacío",
    "calendar_failing": "Un calendario no se puede sincronizar",
    "guest_media": "El huésped mandó un archivo",
    "receipt_received": "Llegó un comprobante de pago",
    "payment_claimed": "El huésped dice que ya pagó",
    "missing_bank_details": "Faltan los datos para transferencias",
    "whatsapp_failed": "No se pudo enviar un WhatsApp",
    "guest_number_changed": "El huésped cambió de número",
    "guest_order": "El huésped mandó un pedido",
    "guest_form": "El huésped completó un formulario",
}

# Outside services (config.INTEGRATIONS) and the settings each one needs, as the operator reads them.
INTEGRATION = {
    "whatsapp": "WhatsApp",
    "mercadopago": "Mercado Pago",
    "email": "E-mail",
}
SETTING = {
    "WHATSAPP_PHONE_NUMBER_ID": "el identificador del número de WhatsApp",
    "WHATSAPP_ACCESS_TOKEN": "el token de acceso de WhatsApp",
    "WHATSAPP_APP_SECRET": "la clave secreta de la app de Meta",
    "WHATSAPP_VERIFY_TOKEN": "el token de verificación del webhook de WhatsApp",
    "MERCADOPAGO_ACCESS_TOKEN": "el token de acceso de Mercado Pago",
    "SMTP_HOST": "el servidor de correo saliente",
    "SMTP_FROM": "la dirección que figura como remitente",
}


def missing_settings(names: tuple[str, ...] | list[str]) -> str:
    """«el token de acceso de Mercado Pago (MERCADOPAGO_ACCESS_TOKEN) y …»: what to add to the .env."""
    parts = [f"{SETTING.get(name, name)} ({name})" for name in names]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " y " + parts[-1]


# What a guest sent, shown before the message's text in a thread (conversation.messages.KINDS).
MESSAGE_KIND = {
    "choice": "Tocó",
    "image": "📷 Foto",
    "document": "📄 Documento",
    "audio": "🎵 Audio",
    "video": "🎬 Video",
    "sticker": "Sticker",
    "location": "📍 Ubicación",
    "contacts": "👤 Contacto",
    "reaction": "Reaccionó con",
    "order": "🛒 Pedido",
    "form": "📝 Formulario",
    "welcome": "Abrió el chat por primera vez",
    "number_changed": "📱 Cambió su número de WhatsApp",
    "system": "Aviso de WhatsApp",
    "unsupported": "Un mensaje que WhatsApp no nos deja ver",
}
AD_SOURCE = {"ad": "Anuncio", "post": "Publicación"}

# System page: observability.health check names and statuses, jobs.models statuses and job kinds.
HEALTH_CHECK = {
    "database": "Base de datos",
    "redis": "Redis (límites de ingreso)",
    "calendars": "Calendarios externos",
}
HEALTH_STATUS = {
    "healthy": "Funciona bien",
    "degraded": "Con problemas",
    "unhealthy": "No funciona",
}
JOB_STATUS = {
    "pending": "En cola",
    "running": "En curso",
    "done": "Hechas",
    "dead": "Fallidas",
    "held": "Esperando un canal",
}
JOB_KIND = {
    "reservation.notify": "Avisar un cambio de reserva",
    "reservation.remind": "Recordar el pago de una pre-reserva",
    "reservation.checkin": "Mandar las instrucciones de llegada",
    "reservation.email": "Mandar un e-mail pedido después",
    "alert.notify": "Avisar por e-mail un problema",
    "email.send": "Enviar un e-mail",
    "whatsapp.send": "Enviar un WhatsApp",
    "whatsapp.process_inbound": "Responder un WhatsApp recibido",
    "whatsapp.download_media": "Descargar un archivo de WhatsApp",
    "payments.create_preference": "Crear el link de Mercado Pago",
    "payments.mercadopago": "Consultar un pago de Mercado Pago",
    "ical.sync_feed": "Sincronizar un calendario externo",
    "ops.backup": "Hacer una copia de seguridad",
    "ops.backup_offsite": "Copiar una copia de seguridad fuera de la máquina",
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
    "empty_stay": "La salida tiene que ser posterior a la entrada.",
    "stay_too_long": (
        "La estadía supera el máximo de noches que tomamos (se cambia en Ajustes → Precios y reglas)."
    ),
    "beyond_booking_horizon": (
        "Esas fechas están más adelante de lo que se puede reservar"
        " (se cambia en Ajustes → Precios y reglas)."
    ),
    "invalid_stay_limits": (
        f"Revisá los límites: de 1 a {MAX_STAY_NIGHTS} noches como máximo, y reservas hasta"
        f" {MAX_HORIZON_DAYS} días adelante como mucho."
    ),
    "conversation_not_found": "No hay una conversación con ese teléfono.",
    "invalid_amount": (
        "Revisá el monto: tiene que ser un número mayor que cero, por ejemplo 150.000 o 1500,50."
    ),
    "invalid_method": "Elegí cómo pagó el huésped.",
    "empty_reply": "Escribí el mensaje antes de enviarlo.",
    "missing_name": "Falta el nombre del huésped.",
    "payment_method_unavailable": "Mercado Pago está apagado o sin configurar: elegí transferencia.",
    "invalid_phone": "Ese teléfono no parece válido; escribilo con característica, por ejemplo 11 5555-1234.",
    "incomplete_stay": "Completá cabaña, entrada, salida (posterior a la entrada) y cantidad de personas.",
    "invalid_setting": "Revisá los números: porcentajes entre 0 y 100 y un mínimo de noches de 1 a 60.",
    # Settings (Ajustes)
    "invalid_hold_window": (
        "Revisá los plazos: de 5 a 1440 minutos para Mercado Pago y de 1 a 168 horas para transferencias."
    ),
    "invalid_season": (
        "Revisá la temporada: un nombre, el fin posterior al inicio y un precio por noche"
        " o un ajuste en %, no los dos."
    ),
    "season_not_found": "Esa temporada ya no existe.",
    "invalid_accommodation": (
        "Revisá los datos de la cabaña: un nombre, una capacidad máxima de 1 a 50 personas, entre 1"
        " y esa capacidad de personas incluidas en el precio, y un precio por noche."
    ),
    "invalid_photo_url": (
        "Las fotos tienen que ser direcciones que empiecen con http:// o https://, una por línea."
    ),
    "accommodation_exists": "Ya hay una cabaña con ese nombre.",
    "invalid_answer": "Escribí la respuesta antes de guardarla (hasta 1000 caracteres).",
    "invalid_feed": (
        "Revisá el calendario: un nombre con letras o números (Airbnb, Booking.com) y una dirección"
        " http o https que se pueda abrir desde internet."
    ),
    "feed_exists": "Esa cabaña ya tiene un calendario con ese nombre.",
    "feed_not_found": "Ese calendario ya no existe.",
    "feed_sync_failed": "No se pudo sincronizar el calendario: el motivo está abajo, junto al calendario.",
    "unknown_flag": "Esa función no existe.",
    "invalid_email": "Ese e-mail no parece válido.",
    "password_too_short": "La contraseña tiene que tener al menos 10 caracteres.",
    "operator_exists": "Ya hay una cuenta con ese e-mail.",
    "operator_not_found": "Esa cuenta no existe.",
    "operator_self": "No podés desactivar tu propia cuenta.",
    "last_operator": "Tiene que quedar al menos una cuenta activa.",
    "incomplete_block": "Elegí la cabaña, la primera noche y el día en que vuelve a estar libre (posterior).",
    "wrong_kind": "Eso no se puede hacer con un bloqueo de fechas, solo con una reserva (o al revés).",
    # System page, dashboard alerts, resending a confirmation
    "job_not_found": "Esa tarea ya no existe.",
    "job_not_dead": "Esa tarea ya no está fallida: quizás alguien la reintentó o ya se hizo.",
    "alert_not_found": "Ese aviso ya no existe.",
    "not_confirmed": "Solo se puede reenviar la confirmación de una reserva confirmada.",
    "not_held": "Solo se puede reenviar el pedido de seña de una pre-reserva.",
    "no_guest_contact": (
        "Esta reserva no tiene e-mail ni conversación de WhatsApp:"
        " no hay por dónde reenviarle la confirmación."
    ),
    "invalid_input": "Revisá los datos del formulario.",
    "invalid_text": (
        "Un texto tiene un carácter invisible que no se puede guardar (NUL) o es demasiado largo:"
        " borralo o acortalo y probá de nuevo."
    ),
    "not_found": "No encontramos lo que buscabas.",
    "receipt_not_found": "Ese comprobante no es de esta reserva.",
    "invalid_house_rules": "Revisá los datos: un nombre, las horas como 14:00 y de 0 a 14 días antes.",
    "not_arrived_yet": "Todavía no llegó el día de entrada: si no viene, cancelá la reserva.",
    "nothing_changed": "No cambiaste nada: la reserva ya tiene esos datos.",
    "invalid_guest": (
        "Revisá los datos del huésped: el nombre no puede quedar vacío y el e-mail tiene que ser"
        " una dirección válida, por ejemplo ana@gmail.com."
    ),
    "conflict": "No se pudo hacer porque algo cambió mientras tanto. Recargá la página y probá de nuevo.",
    # Money: the ledger, agreed prices, rules booked past
    "overpayment_unconfirmed": "El monto supera lo que falta pagar: confirmá si lo registrás igual.",
    "deposit_uncovered": "Con este cambio la seña deja de estar paga: elegí si la reserva sigue confirmada.",
    "amount_out_of_range": "Ese monto es demasiado grande: el máximo es $ 999.999.999,99.",
    "payment_not_found": "Ese pago no es de esta reserva.",
    "payment_not_reversible": "Ese movimiento ya está anulado o no se puede anular.",
    "reason_required": "Escribí el motivo (hasta 500 caracteres): queda en el historial.",
    "refund_too_large": "No se puede devolver más de lo que pagó, ni dejar lo pagado por debajo de cero.",
    "invalid_price": (
        "Revisá el precio acordado: un total, un descuento en pesos (no mayor que el precio de lista)"
        " o un porcentaje de 1 a 100, y el motivo."
    ),
    "price_choice_required": (
        "Esta reserva tiene un precio acordado: elegí si lo mantenés o cobrás el de lista."
    ),
    "invalid_override": "Para cargar la reserva fuera de la regla, escribí el motivo (hasta 500 caracteres).",
    "stay_rule": "Una regla del complejo no permite esa estadía.",
}

# Ledger entries (payments.models.Payment.kind) and the timeline's money events, as the operator reads them.
ENTRY_KIND = {"payment": "Pago", "refund": "Devolución", "reversal": "Anulación"}
MONEY_EVENT = {
    "payment": "Pago registrado",
    "payment_voided": "Movimiento anulado",
    "payment_corrected": "Pago corregido",
    "refund": "Devolución registrada",
}
# Moving a stay with an agreed price (reservations.changes.change_stay `price`).
PRICE_CHOICE = {"keep": "mantuvo el precio acordado", "reprice": "con el precio de lista"}
# The bot's answer topics, as the operator reads them (conversation.engine picks them by topic).
ANSWER_TOPIC = {
    "servicios": "Servicios (respuesta general)",
    "wifi": "Wifi",
    "mascotas": "Mascotas",
    "estacionamiento": "Estacionamiento",
    "ubicacion": "Ubicación y cómo llegar",
    "checkin": "Llegada y salida (se suma a los horarios)",
}

# Why a calendar feed failed (calendar_sync.fetch / ical_import messages), in the operator's words.
FEED_ERRORS = (
    (r"^the feed answered HTTP (\d+)$", r"El calendario respondió con un error (HTTP \1)."),
    (r"^the feed took too long to answer$", "El calendario tardó demasiado en responder."),
    (r"^cannot connect to the feed.*$", "No se pudo conectar con la dirección del calendario."),
    (r"^the feed is larger than.*$", "El calendario es demasiado grande."),
    (r"^too many redirects$", "La dirección redirige demasiadas veces."),
    (r"^only http and https URLs can be imported$", "La dirección tiene que empezar con http o https."),
    (r"^cannot resolve .*$", "No existe esa dirección (el dominio no se encuentra)."),
    (r"^.* resolves to a non-public address.*$", "Esa dirección apunta a una red privada: no se usa."),
    (r"^not an iCalendar file.*$", "Lo que devuelve esa dirección no es un calendario (.ics)."),
    (r"^no such URL feed$", "Ese calendario ya no existe o no tiene dirección."),
)

# Why one event of a feed was skipped (calendar_sync.ical_import.SKIP_REASONS keys).
SKIPPED_EVENT = {
    "no_start": "No tiene fecha de inicio (DTSTART); no se importó.",
    "two_starts": "Tiene más de una fecha de inicio (DTSTART); no se importó.",
    "bad_start": "Su fecha de inicio (DTSTART) no se entiende; no se importó.",
    "bad_end": "Su fecha de fin (DTEND) no se entiende; no se importó.",
    "bad_duration": "Su duración (DURATION) no se entiende; no se importó.",
    "unreadable": "No se entiende; no se importó.",
    "bad_recurrence": (
        "Su repetición (RRULE, RDATE o EXDATE) no se entiende: importamos solo su primera fecha."
    ),
}

# Why a background job failed (jobs.worker stores `GiveUp` messages as they are and other exceptions
# as `Type: message`; the clients' texts are in channels/whatsapp/client.py, notifications/email.py,
# payments/mercadopago/client.py), in the operator's words. The English detail stays in the log
# (`jobs.dead`) and in the jobs API; the panel shows only these.
_SERVICE = r"(?P<service>WhatsApp|Mercado Pago)"
JOB_ERRORS = (
    (
        r"^no handler for job kind .*$",
        "Esta versión no sabe hacer este tipo de tarea (quedó de una versión anterior).",
    ),
    (r"^e-mail is not configured.*$", "El e-mail no está configurado: faltan SMTP_HOST y SMTP_FROM."),
    (r"^SMTP_FROM is not an e-mail address.*$", "SMTP_FROM no es una dirección de e-mail válida."),
    (r"^cannot build the e-mail.*$", "No se pudo armar el e-mail (revisá la dirección del huésped)."),
    (r"^SMTP connection to .* failed.*$", "No se pudo conectar con el servidor de correo."),
    (r"^SMTP server certificate rejected.*$", "El certificado del servidor de correo no es válido."),
    (r"^SMTP server disconnected.*$", "El servidor de correo cortó la conexión."),
    (r"^SMTP.*$", "El servidor de correo rechazó el envío."),
    (
        r"^media of \d+ bytes is over .*$",
        "El archivo que mandó el huésped es demasiado grande para guardarlo.",
    ),
    (
        r"^WhatsApp media answer without a URL$",
        "WhatsApp no dio la dirección del archivo que mandó el huésped.",
    ),
    (rf"^{_SERVICE}(?: media)? unreachable.*$", r"No se pudo conectar con \g<service>."),
    (r"^WhatsApp 4\d\d: 131026\b.*$", "WhatsApp no pudo entregar el mensaje: ese número no puede recibirlo."),
    (
        r"^WhatsApp 4\d\d: 131047\b.*$",
        "Pasaron más de 24 horas desde el último mensaje del huésped y no hay plantilla aprobada.",
    ),
    (r"^WhatsApp 4\d\d: (?:130429|131056|131049)\b.*$", "WhatsApp frenó los envíos por exceso de mensajes."),
    (
        rf"^{_SERVICE}(?: media)?(?: download)? 401\b.*$",
        r"\g<service> rechazó las credenciales (HTTP 401): revisá el token.",
    ),
    (
        rf"^{_SERVICE}(?: media)?(?: download)? (?P<status>\d{{3}})\b.*$",
        r"\g<service> respondió con un error (HTTP \g<status>).",
    ),
    (rf"^{_SERVICE} answered .*$", r"\g<service> respondió algo que no se entiende."),
    (
        rf"^{_SERVICE} accepted the message but .*$",
        r"\g<service> aceptó el mensaje pero respondió algo que no se entiende.",
    ),
    (r"^\w*(?:Timeout|TimedOut)\w*:.*$", "El servicio tardó demasiado en responder."),
    (r"^(?:ConnectError|ConnectionRefusedError|OSError)\b.*$", "No se pudo conectar con el servicio."),
)
UNKNOWN_JOB_ERROR = "Falló por un error inesperado; el detalle técnico quedó en el registro del sistema."

# Why a health check failed (observability.health), in the operator's words.
HEALTH_ERRORS = (
    (
        r"^the database schema is not at this version's migration head$",
        "La base de datos no está actualizada para esta versión: corré «alojamientos db upgrade».",
    ),
    (r"^\w*(?:Timeout|TimedOut)\w*:.*$", "No respondió a tiempo."),
)
UNKNOWN_HEALTH_ERROR = "No responde; el detalle técnico quedó en el registro del sistema."

DEFAULT_ERROR = "No se pudo completar la acción. Probá de nuevo en un momento."

DONE = {
    "creada": "Listo: la reserva quedó cargada.",
    "confirmada": "Listo: la reserva quedó confirmada.",
    "pago": "Listo: registramos el pago.",
    "pago-confirma": "Listo: registramos el pago y, como cubre la seña, la reserva quedó confirmada.",
    "cancelada": "Listo: la reserva quedó cancelada.",
    "cambiada": "Listo: guardamos el cambio y le avisamos al huésped con el precio nuevo.",
    "cambiada-sin-aviso": (
        "Listo: guardamos el cambio. Este huésped no tiene e-mail ni WhatsApp con nosotros:"
        " avisale vos por donde reservó."
    ),
    "huesped": "Listo: corregimos los datos del huésped.",
    "notas": "Listo: guardamos las notas.",
    "bloqueada": "Listo: esas noches quedaron bloqueadas.",
    "no-vino": "Listo: la reserva quedó como «No se presentó» y sus noches están libres.",
    "copia": "Pedimos la copia de seguridad: aparece acá en cuanto termine.",
    "liberada": "Listo: esas noches vuelven a estar disponibles.",
    "precio": "Listo: el precio nuevo vale para las próximas cotizaciones.",
    "reglas": "Listo: las reglas nuevas valen para las próximas cotizaciones.",
    # Settings (Ajustes)
    "cabana-creada": "Listo: la cabaña quedó creada.",
    "cabana": "Listo: guardamos los datos de la cabaña.",
    "reservas-pagos": "Listo: guardamos los plazos y los textos para los huéspedes.",
    "complejo": "Listo: guardamos los datos del complejo.",
    "estadias": "Listo: guardamos el largo máximo de las estadías y hasta cuándo se puede reservar.",
    "temporada": "Listo: la temporada vale para las próximas cotizaciones.",
    "temporada-borrada": "Listo: borramos la temporada.",
    "temporada-editada": "Listo: guardamos los cambios de la temporada para las próximas cotizaciones.",
    "respuesta": "Listo: el bot ya usa la respuesta nueva.",
    "calendario": "Listo: agregamos el calendario. Sincronizalo para traer sus fechas.",
    "sincronizado": "Listo: sincronizamos el calendario.",
    "calendario-quitado": "Listo: quitamos el calendario y liberamos sus fechas.",
    "funcion-prendida": "Listo: la función quedó prendida.",
    "funcion-apagada": "Listo: la función quedó apagada.",
    "operador": "Listo: la cuenta quedó creada; ya puede ingresar con esa contraseña.",
    "desactivado": "Listo: la cuenta quedó desactivada y ya no puede ingresar.",
    "reactivado": "Listo: la cuenta vuelve a estar activa.",
    "reintentada": "Listo: la tarea volvió a la cola y se va a intentar de nuevo en un momento.",
    "resuelto": "Listo: el aviso quedó resuelto.",
    "reenviada": "Listo: la confirmación va en camino al huésped otra vez.",
    "pedido-reenviado": "Listo: el pedido de seña va en camino al huésped otra vez.",
    "tomada": "Tomaste la conversación: el bot no le va a responder hasta que la devuelvas.",
    "enviado": "Mensaje en camino por WhatsApp.",
    "guardado": "Mensaje guardado: WhatsApp no está configurado; sale cuando lo configures.",
    "devuelta": "El bot vuelve a atender esta conversación.",
    "pago-excedente": (
        "Listo: registramos el pago. Pagó de más: el saldo a favor está en Montos, para devolver."
    ),
    "anulado": "Listo: anulamos el movimiento; queda en el historial con el motivo.",
    "anulado-pre-reserva": (
        "Listo: anulamos el movimiento y la reserva vuelve a esperar la seña (pre-reserva con plazo nuevo)."
    ),
    "corregido": "Listo: corregimos el pago; el monto anterior queda anulado en el historial.",
    "devolucion": "Listo: registramos la devolución.",
    "precio-acordado": "Listo: guardamos el precio acordado y le avisamos al huésped el total nuevo.",
    "precio-lista": "Listo: la reserva vuelve al precio de lista y le avisamos al huésped el total nuevo.",
}


def error_message(code: str) -> str:
    return ERRORS.get(code, DEFAULT_ERROR)


def refusal(code: str, details: dict[str, Any]) -> str:
    """Why a stay cannot be booked, naming the rule that refuses it when the error says which."""
    if code == "minimum_stay" and details.get("rule") == "long_weekend":
        return f"Para el finde largo la estadía mínima es de {_noches(details['min_nights'])}."
    if code == "minimum_stay" and "min_nights" in details:
        rule = f"la temporada «{details['season']}»" if details.get("season") else "el complejo"
        return (
            f"La estadía es de {_noches(details['nights'])} y {rule} pide al menos"
            f" {_noches(details['min_nights'])} para entrar ese día."
        )
    return error_message(code)


def _noches(n: int) -> str:
    return "1 noche" if n == 1 else f"{n} noches"


def feed_error(message: str) -> str:
    """A feed failure in Spanish; an unknown one in general words (its detail is in the log)."""
    for pattern, spanish in FEED_ERRORS:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, spanish, message)
    return "El calendario no se pudo leer."


def skipped_events(count: int) -> str:
    """`2` → "2 eventos no se pudieron leer"."""
    return "1 evento no se pudo leer" if count == 1 else f"{count} eventos no se pudieron leer"


def message_kind(kind: str, body: str, detail: dict[str, Any], phone: Callable[[str], str]) -> str:
    """The label before a guest's message in a thread; empty for plain text.

    `detail` is what the channel kept about it (`voice`, `new_phone`…); `phone` formats a number.
    """
    if kind == "audio" and detail.get("voice"):
        return "🎤 Nota de voz"
    if kind == "reaction" and not body:
        return "Sacó su reacción a un mensaje"
    if kind == "number_changed" and detail.get("new_phone"):
        return f"📱 Cambió su número de WhatsApp: ahora es {phone(str(detail['new_phone']))}"
    return MESSAGE_KIND.get(kind, "")


def _spanish(message: str, known: tuple[tuple[str, str], ...], unknown: str) -> str:
    # Exceptions that are not GiveUp arrive as `Type: message`; GiveUp ones as the bare message.
    for text in (message, message.split(": ", 1)[-1]):
        for pattern, spanish in known:
            if match := re.fullmatch(pattern, text, flags=re.DOTALL):
                return match.expand(spanish)
    return unknown


def job_error(message: str) -> str:
    """A background job's last error in Spanish, never the English detail (that is in the log)."""
    return _spanish(message, JOB_ERRORS, UNKNOWN_JOB_ERROR)


def health_error(message: str) -> str:
    """A failed health check in Spanish, never the English detail (that is in the log)."""
    return _spanish(message, HEALTH_ERRORS, UNKNOWN_HEALTH_ERROR)


def actor(value: str) -> str:
    """`operator:ana@x` → `ana@x`, `system:expiry` → `Sistema`, `bot` → `Bot`."""
    if value.startswith("operator:"):
        return value.removeprefix("operator:")
    if value.startswith("system"):
        return "Sistema"
    return {"bot": "Bot", "guest": "Huésped", "api": "API"}.get(value, value)
