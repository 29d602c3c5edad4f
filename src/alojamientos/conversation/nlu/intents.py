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

_PEOPLE = r"chic[oa]s|nen[ea]s|menores|nin[oa]s|bebes|chiquitos"
_ROOM = r"(?<!\ben )\blugar(?:es)?\b(?!\spara\s(?:estacionar|el auto|los autos|la camioneta|dejar|la moto))"
"""'lugar' as room to stay, not 'en lugar de' nor a place to park."""

INTENT_PATTERNS: dict[str, re.Pattern[str]] = {
    "greeting": re.compile(
        r"\b(?:hola|holas|holis|ola|buenas|buen dia|buenos dias|buenas tardes|buenas noches|que tal|"
        r"hello|hi|hey)\b"
    ),
    "availability": re.compile(
        rf"{_ROOM}|\bdisponib\w*|"
        r"(?<!aire )\blibres?\b|\b(?:tenes|tienen|tendrias|tendrian|tiene|tenga|tengan|hay|habria|habra|"
        r"queda|quedaria|tendran)\s(?:algo|algun lugar|alguna cabana|alguna disponib\w*|cabanas?|"
        r"una cabana|para|disponible|espacio|vacantes?)\b|\bhay\s\?|\bqueda algo\b|\bquedan cabanas\b|"
        r"\bestan (?:ocupad|complet|llen)\w*|\bocupad[oa]s?\b|\bbuscando (?:algo|alojamiento|cabana|lugar)|"
        r"\bconsult(?:o|aba|ar|amos) (?:por|para|si hay|disponib\w*|fecha)\b|\bvacantes?\b|\balquilar\b"
    ),
    "price": re.compile(
        r"\b(?:precios?|tarifas?|valor(?:es)?|costos?|cotizacion|cotizar|presupuesto|descuentos?|promo|"
        r"promocion|promociones|oferta)\b|\bcuanto\b(?:\s(?:me|nos|te|le|les))?\s(?:sale|salen|saldria|"
        r"saldrian|cuesta|cuestan|costaria|costarian|cobran|cobras|cobrarian|cobrarias|seria|serian|es|son|"
        r"vale|valdria|esta|estaria|queda|quedaria|tengo que pagar|tenemos que pagar|hay que pagar|"
        r"pagariamos|pagaria|la noche|por noche|el dia|por dia|por persona)\b|\bcuanto\s?\?|"
        r"\bpagan\b|\bcobran\b|\bpor (?:persona|cabana|noche|pareja)\b|\$\s?\d|\bes caro\b|\bmas barato\b"
    ),
    "reserve": re.compile(
        r"\breserv(?:ar|arla|arlo|arte|amos|o|ame|anos|enos|ala|alo|en|aria|ariamos|emos|arnos|arme)\b|"
        r"\bhacer (?:una|la) reserva\b|\b(?:la|lo) tom(?:o|amos)\b|\bconfirm(?:o|amos)\b|\bla quiero\b|"
        r"\bla queremos\b|\bme la guard|\bguardamela|\bnos la guard|\bseguimos adelante\b|\bavanzamos\b|"
        r"\bcerramos\b|\bnos quedamos con (?:esa|la|esta)\b|\bvamos con esa\b|\bagendame\b|\banotame\b|"
        r"\banotanos\b|\b(?:me|nos)\s(?:reservas|reservarias|reservan|reservarian)\b"
    ),
    "services": re.compile(
        r"\b(?:wifi|internet|senal|mascotas?|perr[oa]s?|perrit[oa]s?|gat[oa]s?|pet friendly|pileta|piletas|"
        r"piscina|estacionamiento|estacionar|cocheras?|garage|garaje|parrillas?|asador|quincho|calefaccion|"
        r"calefactor|estufa|salamandra|lena|aire acondicionado|split|ventilador|ropa de cama|sabanas|"
        r"toallas|toallones|blanqueria|ropa blanca|cunas?|desayuno|cocina|cocinar|vajilla|heladera|microondas|jacuzzi|"
        r"hidromasaje|tv|tele|television|directv|netflix|cable|lavarropas|secador|fumar|limpieza|mucama|"
        r"servicios|amenities|cafetera|horno|anafe|colchon|almohadas|frazadas|acolchado|sauna|spa|"
        r"gimnasio|bicicletas|kayaks?|juegos para|mascota|asado|asador)\b|\baire\b(?!\slibre)|\bclave del wifi\b"
    ),
    "location": re.compile(
        r"\bdonde (?:queda|quedan|estan|esta|se encuentra|se encuentran|es|son|se ubica|se ubican|estaria|"
        r"estarian|quedaria)\b|\b(?:direccion|ubicacion|ubicad[oa]s?|ubi|coordenadas|mapa|maps)\b|"
        r"\bcomo (?:llego|llegar|se llega|llegamos|hago para llegar|los encuentro|voy)\b|"
        r"\ba cuant[oa]s? (?:km|kms|kilometros|cuadras|metros|minutos|hs|horas)\b|"
        r"\ba cuanto (?:queda|quedan|esta|estan)\b|\bdistancia\b|\blejos\b|\bcerca (?:de|del)\b|"
        r"\bque tan cerca\b|\bzona\b|\bbarrio\b|\bripio\b|\bcamino de tierra\b|\bpin\b"
    ),
    "cancel": re.compile(
        r"\bcancel(?:ar|o|amos|en|e|ariamos|acion|arla|arlo|ame|aria|aremos)\b|"
        r"\banul(?:ar|o|amos|en|ame|arla|acion)\b|\b(?:dar|damos|darla|darme) de baja\b|"
        r"\bsuspender la reserva\b|\bbajarnos\b"
    ),
    "modify": re.compile(
        r"\bcambi(?:ar|amos|arla|o)\s(?:la|las|el|los|de|mi|nuestra)\s(?:fecha|fechas|reserva|dia|dias|"
        r"cabana|estadia)\b|\bcambiar(?:la|le)?\s(?:\S+\s){0,3}?reserva\b|\bcambio de (?:fecha|fechas|"
        r"reserva|cabana)\b|\bmodific\w*|\bcorrer (?:la|las|el|un|una|nuestra)\b|\bmover (?:la|las|mi)\s"
        r"(?:reserva|fecha|fechas)\b|\bpas(?:ar|amos)\s(?:la|nuestra|mi) reserva\b|\bpasarla\b|"
        r"\bextender\b|\bprolongar\b|\b(?:agregar|sumar|agregamos|sumamos)\s(?:una|un|\d+)\s(?:noches?|"
        r"dias?|personas?)\b|\b(?:una|\d+)\s(?:noches?|dias?)\smas\b|\bun dia mas\b|\bquedarnos\s"
        r"(?:hasta|una|un|\d+|mas)\b(?!\s(?:las|la)\s\d)|\bnos podemos quedar\b(?!\shasta\s(?:las|la)\s\d)|"
        r"\bnos quedamos hasta\b(?!\s(?:las|la)\s\d)|\b(?:uno|una|un|\d+)\s(?:(?:persona|personas|adult\w*|"
        r"amig\w*|chic\w*|nen\w*|bebe\w*|pibe\w*|pareja\w*|familiar\w*)\s)?(?:mas|menos)\b(?!\s(?:\d|un\b|una\b))|"
        r"\bse (?:suma|suman|sumaria|sumarian|agrega|agregan|baja|bajan)\b|\ben (?:vez|lugar) "
        r"de\w*\b|\badelantar\w*|\bpostergar\w*|\bposponer\w*|\breprogram\w*|\bacortar\b|\birnos antes\b|"
        r"\bnos vamos antes\b|\bsomos (?:menos|mas)\b|\bahora somos\b"
    ),
    "payment": re.compile(
        r"\bpag(?:ar|o|ue|amos|aste|ado|ada|ando|arte|arles|aria|ariamos|as|amos|ues|uen|ar la|ale)\b|"
        r"\b(?:sena|senar|senamos|seno|senas|deposito|depositar|deposite|depositamos|alias|cbu|cvu|"
        r"mercadopago|mp|tarjetas?|cuotas|efectivo|comprobante|reintegro|devolucion|devuelven|devolver|"
        r"devuelvan|reembolso|factura|facturan|debito|credito|adelanto|anticipo|visa|mastercard|saldo|"
        r"datos bancarios|cuenta bancaria|numero de cuenta|banco)\b|\btransf\w*|\babon(?:ar|o|amos|e|ado)\b"
    ),
    "human": re.compile(
        r"\bhablar con (?:alguien|una persona|el dueno|la duena|el encargado|la encargada|un humano|"
        r"el propietario|la propietaria|un operador|vos|usted|ustedes|el responsable|la responsable)\b|"
        r"\bpas(?:as|a|an|ame|anme|e|en)\scon\s(?:alguien|una persona|el dueno|la duena|el encargado|"
        r"la encargada|un humano|el propietario|la propietaria|un operador)\b|\b(?:me|nos)\s(?:puede|"
        r"pueden|podes|podrias|podrian|podra|podran)\sllamar\b|\b(?:llamame|llamenme|llamanos|llamame)\b|"
        r"\b(?:me|nos) (?:llaman|llamas|llamaria|llamarian)\b|\bpersona real\b|\bhumano\b|\boperador\b|"
        r"\balguna persona\b|\buna persona que\b|\bcon (?:el dueno|la duena|el encargado|la encargada|"
        r"el propietario|alguien)\b|\bcomunicarme con\b|\bcomunicarnos con\b|\bque me atienda\b|"
        r"\bhablar por telefono\b|\bun telefono\b|\bnumero de telefono\b|\bcon quien (?:\w+\s)?hablar\b|"
        r"\balguien (?:con quien|que me|que nos|para hablar|que atienda)\b|\bllamar(?:me|nos)\b"
    ),
    "checkin_info": re.compile(
        r"\b(?:checkin|checkout)\b|\bhorarios? (?:de\s)?(?:entrada|salida|ingreso|llegada|checkin|"
        r"checkout)\b|\bhora de (?:entrada|salida|ingreso|llegada)\b|\ba (?:que|partir de que) hora\b|"
        r"\bhasta que hora\b|\bdesde que hora\b|\b(?:llegar|entrar|ingresar|llegamos|entramos|ingresamos)\s"
        r"(?:mas\s|muy\s)?(?:temprano|tarde)\b|\b(?:salir|irnos|dejar la cabana|quedarnos|retirarnos)\s"
        r"(?:mas\s|un poco mas\s)?tarde\b|\bllaves?\b|\bquien (?:nos|me|los) recib\w*|\brecibir(?:nos|los|me)"
        r"\b|\bnos (?:recibe|reciben|recibis|van a recibir)\b|\bcodigo de (?:acceso|la puerta|ingreso)\b|"
        r"\bcerradura\b|\bllegamos (?:tipo|a las|como a las|cerca de las|de noche|muy tarde)\b|"
        r"\b(?:entrar|ingresar|llegar|salir|irnos|dejar)\b(?:\s\S+){0,3}\s(?:a las|tipo|antes de las|"
        r"despues de las)\s\d|\b(?:a las|tipo|antes de las|despues de las)\s\d{1,2}(?:\s\S+){0,3}\s(?:entrar|"
        r"ingresar|llegar|salir|irnos|dejar la cabana)\b|\bdejar (?:las|los) (?:valijas|bolsos|equipaje|"
        r"cosas)\b|\bearly\b|\blate\b|\b(?:quedarnos|quedarme|salir|irnos|dejar la cabana)\s(?:hasta\s)?"
        r"(?:las|la|a las)\s\d|\bdia de (?:salida|llegada|ingreso|entrada)\b"
    ),
    "thanks": re.compile(r"\bgracias+\b|\bgrcs\b|\bagradezco\b|\bagradecid[oa]s?\b|\bthanks\b|\bthank you\b"),
}
"""Cues per intent, matched against normalised text."""

BLOCKERS: dict[str, re.Pattern[str]] = {
    "price": re.compile(
        r"\b(?:cuanto|valor|monto|precio)\b(?:\s\S+){0,4}?\s(?:de\s|la\s|el\s)?(?:sena|deposito|adelanto|"
        r"anticipo|senar|transferencia)\b"
    ),
    "payment": re.compile(
        rf"\bcuanto (?:tengo|tenemos|hay|habria) que pagar\b(?!\s(?:de|la|el)\s(?:sena|deposito|adelanto))|"
        rf"\bpagan\s(?:los|las)\s(?:{_PEOPLE})\b|\b(?:los|las)\s(?:{_PEOPLE})\s(?:pagan|abonan)\b|"
        r"\bse paga por (?:persona|noche|cabana)\b|\bpagan\b"
    ),
    "reserve": re.compile(
        r"\b(?:te|les|le)\s(?:confirmo|confirmamos)\s(?:\S+\s){0,3}?(?:manana|despues|mas tarde|"
        r"en un rato|luego|a la noche|a la tarde|pronto|en breve|cuando|si|el lunes|el martes|el miercoles|"
        r"el jueves|el viernes|el sabado|el domingo)\b|\b(?:antes de|sin) reservar\b|"
        r"\blo (?:charlo|charlamos|hablo|hablamos|veo|vemos|consulto|consultamos|pienso|pensamos)\b.*?"
        r"\b(?:te|les|le)\sconfirm\w*"
    ),
    "cancel": re.compile(
        r"\bpoliticas? de (?:cancelacion|anulacion)\b|\bsi (?:cancel|anul)\w*|\ben caso de (?:cancel|anul)\w*"
    ),
}
"""Phrases removed before one intent's pattern runs, because they mean something else."""


def _has(intent: str, text: str) -> bool:
    """Whether the intent's cues occur once its blockers are taken out."""
    blocker = BLOCKERS.get(intent)
    if blocker is not None:
        text = blocker.sub(" ", text)
    return bool(INTENT_PATTERNS[intent].search(text))


def classify(text: str, has_slots: bool) -> tuple[str, ...]:
    """Intents of a normalised message; slots imply availability unless a management intent is there."""
    found = [intent for intent in INTENT_PATTERNS if _has(intent, text)]
    if has_slots and "availability" not in found and not MANAGEMENT_INTENTS.intersection(found):
        found.append("availability")
    if not found:
        return ("other",)
    return tuple(intent for intent in INTENTS if intent in found)
