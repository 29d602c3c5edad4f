"""Intents of a normalised message: keyword patterns per intent, plus the slot rule for availability.

Each intent has one pattern of cues; some have *blockers*, phrases removed from the text before that
intent's pattern runs ("cuánto es la seña" is a payment question, not a price one; "si cancelo" is a
hypothesis, not a cancellation). `availability` is also implied by any slot when the message carries
no booking-management intent, and `other` is used only when nothing else applies.
"""

from __future__ import annotations

import re

INTENTS = (
    "greeting",
    "availability",
    "price",
    "reserve",
    "services",
    "location",
    "cancel",
    "modify",
    "payment",
    "human",
    "checkin_info",
    "thanks",
    "other",
)
"""Every label the parser may return, in the order it reports them."""

MANAGEMENT_INTENTS = frozenset(("reserve", "modify", "cancel", "payment", "checkin_info"))
"""Intents that, when present, keep slots from implying `availability`."""

_KIDS = r"(?:chic|nen|menor|beb|nin|hij|jubilad|adolescent)\w*"
_LATER = r"(?:las|la|a las)\s\d"
"""A clock time after 'quedarnos hasta': late departure, not a longer stay."""


def words(*alternatives: str) -> str:
    """Regex matching any of the words or phrases (which may contain regex) as whole words."""
    return r"\b(?:" + "|".join(alternatives) + r")\b"


WHO_PAYS = (
    rf"\b{_KIDS}\b(?:\s\S+){{0,4}}?\s(?:pagan?|abonan?)\b",
    rf"\b(?:pagan?|abonan?)\s(?:los|las|el|la)\s{_KIDS}",
    rf"\b(?:pagar|cobran|cobrar|cobras|se cobra|se paga)\s(?:por|a)\s(?:los|las|el|la)\s{_KIDS}",
)
"""'¿los chicos pagan?', 'la nena de 6 paga?': whether someone pays is a price question."""

ROOM = r"(?<!\ben )\blugar(?:es)?\b(?!\spara\s(?:estacionar|el auto|los autos|la camioneta|dejar|la moto))"
"""'lugar' as room to stay, not 'en lugar de' nor a place to park."""

INTENT_CUES: dict[str, tuple[str, ...]] = {
    "greeting": (
        words("hola", "holas", "holis", "ola", "buenas", "buen dia", "buenos dias", "buenas tardes"),
        words("buenas noches", "hello", "hi", "hey"),
        r"\bque tal\b(?!\s(?:si|es|esta|son|estan|el|la|los|las|queda|lo)\b)",
    ),
    "availability": (
        ROOM,
        r"\bdisponib\w*",
        r"(?<!aire )\blibres?\b",
        words("tenes|tienen|tendrias|tendrian|tendran|tiene|tenga|tengan|hay|habria|habra|queda|quedaria")
        + r"\s"
        + words(
            r"algo|algun lugar|alguna cabana|alguna disponib\w*|cabanas?|una cabana|disponible|"
            r"espacio|vacantes?|para(?!\s\w+(?:ar|er|ir)\b)"
        ),
        r"\bhay\s\?",
        words("queda algo", "quedan cabanas", r"estan (?:ocupad|complet|llen)\w*", r"ocupad[oa]s?"),
        words(
            r"(?:busco|buscamos|buscando) (?:algo|alojamiento|una cabana|cabana|lugar)",
            "vacantes?",
            "alquilar",
        ),
        words(r"consult(?:o|aba|ar|amos) (?:por|para|si hay|disponib\w*|fecha)"),
    ),
    "price": (
        words("precios?", "tarifas?", "valor(?:es)?", "costos?", "cotizacion", "cotizar", "presupuesto"),
        words("descuentos?", "promo", "promocion", "promociones", "oferta", "es caro", "mas barato"),
        r"\bcuanto\b(?:\s(?:me|nos|te|le|les))?\s"
        + words(
            "sale|salen|saldria|saldrian|cuesta|cuestan|costaria|costarian|cobran|cobras|cobrarian|"
            "cobrarias|seria|serian|es|son|vale|valdria|esta|estaria|queda|quedaria|tengo que pagar|"
            "tenemos que pagar|hay que pagar|pagariamos|pagaria|la noche|por noche|el dia|por dia|"
            "por persona"
        ),
        r"\bcuanto\s?\?",
        *WHO_PAYS,
        words("pagan", "cobran", "por persona", "por cabana", "por noche", "por pareja"),
        r"\$\s?\d",
    ),
    "reserve": (
        r"\breserv(?:ar|arla|arlo|arte|amos|o|ame|anos|enos|ala|alo|en|aria|ariamos|emos|arnos|arme)\b",
        words(r"(?:me|nos)\s(?:reservas|reservarias|reservan|reservarian)", "hacer (?:una|la) reserva"),
        words(r"(?:me|nos)\sconfirm(?:as|an|arias|arian)\s(?:la|mi|nuestra)\sreserva"),
        words("(?:la|lo) tom(?:o|amos)", "confirm(?:o|amos)", "la quiero", "la queremos", "guardamela"),
        r"\b(?:me|nos) la guard",
        words(
            "seguimos adelante", "avanzamos", "cerramos", "nos quedamos con (?:esa|la|esta)", "vamos con esa"
        ),
        words("agendame", "anotame", "anotanos"),
    ),
    "services": (
        words(
            "wifi", "internet", "senal", "clave del wifi", "tv", "tele", "television", "directv", "netflix"
        ),
        words("cable", "mascotas?", "perr[oa]s?", "perrit[oa]s?", "gat[oa]s?", "pet friendly"),
        words("pileta", "piletas", "piscina", "jacuzzi", "hidromasaje", "sauna", "spa", "gimnasio"),
        words("estacionamiento", "estacionar", "cocheras?", "garage", "garaje"),
        words("parrillas?", "asador", "asado", "quincho", "lena"),
        words(
            "calefaccion", "calefactor", "estufa", "salamandra", "aire acondicionado", "split", "ventilador"
        ),
        r"\baire\b(?!\slibre)",
        words("ropa de cama", "ropa blanca", "sabanas", "toallas", "toallones", "blanqueria", "colchon"),
        words("almohadas", "frazadas", "acolchado", "cunas?", "desayuno"),
        words("cocina", "cocinar", "vajilla", "heladera", "microondas", "cafetera", "horno", "anafe"),
        words("lavarropas", "secador", "fumar", "limpieza", "mucama", "servicios", "amenities"),
        words("bicicletas", "kayaks?", "juegos para"),
    ),
    "location": (
        r"\bdonde\s"
        + words(
            "queda|quedan|estan|esta|se encuentra|se encuentran|es|son|se ubica|se ubican|estaria|"
            "estarian|quedaria"
        )
        + r"(?!\s(?:\w+\s)?(?:llaves?|control|codigo|candado|toallas?|cosas)\b)",
        words("direccion", "ubicacion", "ubicad[oa]s?", "ubi", "coordenadas", "mapa", "maps", "pin"),
        r"\bcomo\s"
        + words("llego", "llegar", "se llega", "llegamos", "hago para llegar", "los encuentro", "voy"),
        r"\ba cuant[oa]s?\s"
        + words("km", "kms", "kilometros", "cuadras", "metros", "minutos", "hs", "horas"),
        r"\ba cuanto\s" + words("queda", "quedan", "esta", "estan"),
        words("distancia", "lejos", "cerca (?:de|del)", "que tan cerca", "zona", "barrio", "ripio"),
        words("camino de tierra"),
    ),
    "cancel": (
        r"\bcancel(?:ar|o|a|amos|en|e|ariamos|acion|arla|arlo|ame|aria|aremos|anos)\b",
        r"\banul(?:ar|o|amos|en|ame|arla|acion)\b",
        words("(?:dar|damos|darla|darme) de baja", "suspender la reserva", "bajarnos"),
    ),
    "modify": (
        r"\bcambi(?:ar|amos|arla|o)\s(?:la|las|el|los|de|mi|nuestra)\s"
        + words("fecha", "fechas", "reserva", "dia", "dias", "cabana", "estadia"),
        r"\bcambiar(?:la|le)?\s(?:\S+\s){0,3}?reserva\b",
        r"\bcambi(?:ar|amos|arla|arlo)\s(?:para|al|a)\b",
        words("cambio de (?:fecha|fechas|reserva|cabana)", r"modific\w*", "extender", "prolongar"),
        words("correr (?:la|las|el|un|una|nuestra)", "mover (?:la|las|mi) (?:reserva|fecha|fechas)"),
        words("pas(?:ar|amos) (?:la|nuestra|mi) reserva", "pasarla"),
        words(r"(?:agregar|sumar|agregamos|sumamos)\s(?:una|un|\d+)\s(?:noches?|dias?|personas?)"),
        words(r"(?:una|\d+)\s(?:noches?|dias?)\smas", "un dia mas"),
        r"\b(?:podemos|podriamos|puedo|podria|se puede|queremos|quisieramos)\squedarnos\shasta\b"
        rf"(?!\s{_LATER})",
        r"\bquedarnos\s(?:una|un|\d+|mas)\s(?:noches?|dias?|mas)\b",
        rf"\b(?:nos podemos quedar|nos quedamos) hasta\b(?!\s{_LATER})|\bnos podemos quedar\b(?!\shasta)",
        r"\b(?:uno|una|un|\d+)\s(?:(?:persona|personas|adult\w*|amig\w*|chic\w*|nen\w*|bebe\w*|pibe\w*|"
        r"pareja\w*|familiar\w*)\s)?(?:mas|menos)\b(?!\s(?:\d|un\b|una\b))",
        words("se (?:suma|suman|sumaria|sumarian|agrega|agregan|baja|bajan)"),
        rf"\ben (?:vez|lugar) de\w*\b(?!\s{_LATER})",
        words(r"adelantar\w*", r"postergar\w*", r"posponer\w*", r"reprogram\w*", "acortar"),
        words("irnos antes", "nos vamos antes", "somos (?:menos|mas)", "ahora somos"),
    ),
    "payment": (
        r"\bpag(?:ar|o|ue|amos|aste|ado|ada|ando|arte|arles|aria|ariamos|as|ues|uen|ale)\b",
        words("sena", "senar", "senamos", "seno", "senas", "adelanto", "anticipo", "saldo"),
        words("deposito", "depositar", "deposite", "depositamos", r"transf\w*", r"abon(?:ar|o|amos|e|ado)"),
        words("alias", "cbu", "cvu", "datos bancarios", "cuenta bancaria", "numero de cuenta", "banco"),
        words(
            "mercadopago", "mp", "tarjetas?", "cuotas", "efectivo", "debito", "credito", "visa", "mastercard"
        ),
        words("comprobante", "factura", "facturan"),
        words("reintegro", "devolucion", "devuelven", "devolver", "devuelvan", "reembolso"),
    ),
    "human": (
        r"\bhablar con\s"
        + words(
            "alguien|una persona|el dueno|la duena|el encargado|la encargada|un humano|el propietario|"
            "la propietaria|un operador|vos|usted|ustedes|el responsable|la responsable"
        ),
        r"\bpas(?:as|a|an|ame|anme|e|en)\scon\s"
        + words(
            "alguien|una persona|el dueno|la duena|el encargado|la encargada|un humano|el propietario|"
            "la propietaria|un operador"
        ),
        r"\bcon\s" + words("el dueno", "la duena", "el encargado", "la encargada", "el propietario"),
        r"\b(?:me|nos)\s(?:puede|pueden|podes|podrias|podrian|podra|podran)\sllamar\b",
        words(
            "llamame", "llamenme", "llamanos", r"llamar(?:me|nos)", "(?:me|nos) (?:llaman|llamas|llamaria)"
        ),
        words("persona real", "humano", "operador", "alguna persona", "una persona que", "que me atienda"),
        words(r"atiend[ae]n?\s(?:una persona|alguien|el dueno|la duena|el encargado|la encargada|un humano)"),
        words(
            "comunicarme con", "comunicarnos con", "hablar por telefono", "un telefono", "numero de telefono"
        ),
        words(r"con quien (?:\w+\s)?hablar", "alguien (?:con quien|que me|que nos|para hablar|que atienda)"),
    ),
    "checkin_info": (
        words("checkin", "checkout", "early", "late", "llaves?", "cerradura"),
        r"\bhorarios? (?:de\s)?" + words("entrada", "salida", "ingreso", "llegada", "checkin", "checkout"),
        words("hora de (?:entrada|salida|ingreso|llegada)", "dia de (?:salida|llegada|ingreso|entrada)"),
        words("a (?:que|partir de que) hora", "hasta que hora", "desde que hora"),
        words(r"(?:llegar|entrar|ingresar|llegamos|entramos|ingresamos)\s(?:mas\s|muy\s)?(?:temprano|tarde)"),
        words(r"(?:salir|irnos|dejar la cabana|quedarnos|retirarnos)\s(?:mas\s|un poco mas\s)?tarde"),
        words(r"quien (?:nos|me|los) recib\w*", "recibir(?:nos|los|me)"),
        words("nos (?:recibe|reciben|recibis|van a recibir)", "codigo de (?:acceso|la puerta|ingreso)"),
        words("llegamos (?:tipo|a las|como a las|cerca de las|de noche|muy tarde)"),
        r"\b(?:entrar|ingresar|llegar|salir|irnos|dejar)\b(?:\s\S+){0,3}\s"
        r"(?:a las|tipo|antes de las|despues de las)\s\d",
        r"\b(?:a las|tipo|antes de las|despues de las)\s\d{1,2}(?:\s\S+){0,3}\s"
        + words("entrar", "ingresar", "llegar", "salir", "irnos", "dejar la cabana"),
        rf"\b(?:quedarnos|quedarme|salir|irnos|dejar la cabana)\s(?:hasta\s)?{_LATER}",
        words("dejar (?:las|los) (?:valijas|bolsos|equipaje|cosas)"),
    ),
    "thanks": (words("gracias+", "grcs", "agradezco", "agradecid[oa]s?", "thanks", "thank you"),),
}
"""Cues per intent (regex fragments over normalised text); any one of them marks the intent."""

BLOCKER_CUES: dict[str, tuple[str, ...]] = {
    "price": (
        r"\b(?:cuanto|valor|monto|precio)\b(?:\s\S+){0,4}?\s(?:de\s|la\s|el\s)?"
        + words("sena", "deposito", "adelanto", "anticipo", "senar", "transferencia"),
        r"\b(?:sena|deposito|adelanto|anticipo)\s(?:es\s)?(?:de\s)?\$\s?\d[\d.,]*",
    ),
    "payment": (
        r"\bcuanto (?:tengo|tenemos|hay|habria) que pagar\b(?!\s(?:de|la|el)\s(?:sena|deposito|adelanto))",
        r"\bse paga por (?:persona|noche|cabana)\b",
        r"\bpagan\b",
        *WHO_PAYS,
    ),
    "reserve": (
        r"\b(?:te|les|le)\s(?:confirmo|confirmamos)\s(?:\S+\s){0,3}?"
        + words(
            "manana|despues|mas tarde|en un rato|luego|a la noche|a la tarde|pronto|en breve|cuando|si|"
            "el lunes|el martes|el miercoles|el jueves|el viernes|el sabado|el domingo"
        ),
        words("(?:antes de|sin) reservar"),
        words("lo (?:charlo|charlamos|hablo|hablamos|veo|vemos|consulto|consultamos|pienso|pensamos)")
        + r".*?\b(?:te|les|le)\sconfirm\w*",
    ),
    "cancel": (
        words("politicas? de (?:cancelacion|anulacion)", r"si (?:cancel|anul)\w*"),
        words(r"en caso de (?:cancel|anul)\w*"),
        r"\bcancel\w*\s(?:el\s|la\s)?(?:saldo|resto|deuda|total|diferencia)\b",
        r"\b(?:saldo|resto|deuda|total|diferencia)\s(?:\w+\s)?(?:lo|la)\scancel\w*",
    ),
}
"""Phrases removed before one intent's cues are looked for, because they mean something else:
'cuánto es la seña' and 'la seña de $45.000' are payment, not price; 'los chicos pagan?' is price, not
payment; 'lo charlo y te confirmo' is a promise, not a booking; 'si cancelo...' is a hypothesis and
'cancelar el saldo' a payment, not a cancellation."""

INTENT_PATTERNS = {intent: re.compile("|".join(cues)) for intent, cues in INTENT_CUES.items()}
BLOCKERS = {intent: re.compile("|".join(cues)) for intent, cues in BLOCKER_CUES.items()}


def _has(intent: str, text: str) -> bool:
    """Whether the intent's cues occur once its blockers are taken out."""
    blocker = BLOCKERS.get(intent)
    if blocker is not None:
        text = blocker.sub(" ", text)
    return bool(INTENT_PATTERNS[intent].search(text))


def cued_intents(text: str) -> frozenset[str]:
    """Intents whose words occur in a normalised message (before the slot rule and `other`)."""
    return frozenset(intent for intent in INTENT_PATTERNS if _has(intent, text))


def final_intents(cued: frozenset[str], has_slots: bool) -> tuple[str, ...]:
    """Add availability for slots without a management intent; `other` when nothing applies."""
    found = set(cued)
    if has_slots and not MANAGEMENT_INTENTS & found:
        found.add("availability")
    if not found:
        return ("other",)
    return tuple(intent for intent in INTENTS if intent in found)


def classify(text: str, has_slots: bool) -> tuple[str, ...]:
    """Intents of a normalised message, given whether it carries any slot."""
    return final_intents(cued_intents(text), has_slots)
