"""Party size from a normalised message: everybody who stays, children and babies included.

First everything that is a number but not a head count is masked (dates found by the date grammar,
nights, times, ages, prices, codes, cars, pets, "uno más"); then the remaining counts are read as
totals ("somos 4", "para 4 personas"), parts that add up ("2 adultos y 3 nenes", "2 parejas") and
companions named by the speaker ("con mi señora y las 2 nenas": the speaker counts too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Span = tuple[int, int]

MAX_GUESTS = 60
"""Larger counts are not a party a cabin complex hosts: treat them as noise."""

TOTAL_NOUNS = r"personas?|pax|huesped(?:es)?|integrantes|pasajeros|personitas|almas"
ADULT_NOUNS = r"adult[oa]s?|mayor(?:es)?|grandes"
CHILD_NOUNS = (
    r"chic[oa]s?|chiquit[oa]s?|nen[ea]s?|nin[oa]s?|menor(?:es)?|beb[ea]s?|bebit[oa]s?|hij[oa]s?|hijit[oa]s?|"
    r"niet[oa]s?|pib[ea]s?|peques?|adolescentes?|criaturas?|sobrin[oa]s?"
)
OTHER_NOUNS = (
    r"amig[oa]s?|prim[oa]s?|herman[oa]s?|companer[oa]s?|mujeres|hombres|varones|jubilad[oa]s?|"
    r"familiares|tios|tias|abuel[oa]s?|colegas"
)
COUPLE_NOUNS = r"parejas?|matrimonios?"
PART_NOUNS = f"{COUPLE_NOUNS}|{ADULT_NOUNS}|{CHILD_NOUNS}|{OTHER_NOUNS}"
COMPANION_NOUNS = (
    r"senora|espos[oa]|mujer|marido|novi[oa]|pareja|herman[oa]|mama|papa|viej[oa]|hij[oa]|hijit[oa]|"
    r"amig[oa]|suegr[oa]|nen[ea]|cunad[oa]|companer[oa]|prim[oa]|sobrin[oa]|abuel[oa]|ti[oa]|niet[oa]|"
    r"beb[ea]|bebit[oa]|gord[oa]|flac[oa]|jermu|amor|madre|padre|soci[oa]|jef[ea]|nuera|yerno|chic[oa]"
)
NOT_PEOPLE_UNITS = (
    r"noches?|dias?|semanas?|mes(?:es)?|horas?|autos?|coches?|vehiculos?|camionetas?|motos?|perr[oa]s?|"
    r"perrit[oa]s?|gat[oa]s?|gatit[oa]s?|mascotas?|cabanas?|habitacion(?:es)?|dormitorios?|camas?|banos?|"
    r"kms?|kilometros|cuadras|metros|mts|cuotas|veces|estrellas|minutos|min|plazas|ambientes|pisos|"
    r"bicis|bicicletas|kayaks?|valijas|bolsos|anos|anitos|familias|grupos"
)

NOT_GUESTS: tuple[re.Pattern[str], ...] = (
    # times of day
    re.compile(
        r"\b(?:a las|a la|tipo|eso de las|como a las|cerca de las|desde las|hasta las|antes de las|"
        r"despues de las|pasadas las|a eso de las|entre las)\s\d{1,2}(?::\d{2})?\b"
        r"(?:\s(?:y|a)\s(?:las\s)?\d{1,2}(?::\d{2})?\b)?(?!\s(?:personas|pax|adultos))"
    ),
    re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:hs|h|am|pm|horas?)\b|\b\d{1,2}:\d{2}\b"),
    re.compile(r"\b\d{1,2}\s(?:de la|a la|por la)\s(?:manana|tarde|noche|madrugada)\b"),
    # ages
    re.compile(r"\bde\s\d{1,2}(?:\s?(?:,|y)\s?\d{1,2})*\s(?:anos|anitos|meses|mes)\b"),
    re.compile(
        rf"\b(?:{CHILD_NOUNS}|{COMPANION_NOUNS})(?P<blank>\sde\s\d{{1,2}}(?:\s?(?:,|y)\s?\d{{1,2}})*)\b"
    ),
    # prices and other amounts
    re.compile(r"\$\s?[\d.,]+(?:\s?mil)?|\busd\s?[\d.,]+|\b\d+\s?%"),
    re.compile(r"\b[\d.,]+\s?(?:mil|pesos|lucas|usd|dolares|k|mangos|palos)\b|\b\d{1,3}(?:\.\d{3})+\b"),
    re.compile(r"\b\d+[.,]\d+\b|\b\d{3,}\b"),
    # counts of things, nights and pets
    re.compile(rf"\b(?:\d{{1,2}}|un|una|uno)\s(?:{NOT_PEOPLE_UNITS})\b"),
    # relative changes and replaced counts
    re.compile(
        rf"\b(?:\d{{1,2}}|un|una|uno)\s(?:(?:{TOTAL_NOUNS}|{PART_NOUNS})\s)?(?:mas|menos)\b"
        r"(?!\s(?:\d|un\b|una\b|uno\b))"
    ),
    re.compile(
        r"\b(?:agreg|sum)\w*\s(?:\d{1,2}|un|una|uno)\b(?:\s(?:persona|personas|adulto|adultos|chico|chicos))?"
    ),
    re.compile(r"\b(?:en vez|en lugar|envez)\sde\s\d{1,2}\b"),
)
"""Numbers that are not head counts, masked before counting (only group `blank` when a pattern has one)."""

TOTAL_AFTER_VERB = re.compile(
    r"\b(?:somos|seriamos|seremos|vamos a ser|van a ser|vamos|vendriamos|venimos|vendremos|llegamos|"
    r"llegariamos|viajamos|viajariamos|iriamos|estariamos|estaremos|quedariamos|son|serian|seran|"
    r"seria para|sera para|para|total|grupo de|familia de|capacidad de|cabana de|cabanas de|depto de|"
    r"departamento de)\s(\d{1,2})\b"
    rf"(?!\s(?:{PART_NOUNS})\b)"
)
"""'somos 9', 'para 9', 'llegamos 9': a total unless a part noun follows ('somos 2 adultos')."""

COUNTED_NOUN = re.compile(
    r"\b(\d{1,2}|un|una|uno)\s(?:(?:de\s)?(?:los|las|mis|sus|nuestros|nuestras)\s)?"
    rf"(?:(?<=\d\s)(?P<total>{TOTAL_NOUNS})|(?P<couple>{COUPLE_NOUNS})|(?P<adult>{ADULT_NOUNS})|"
    rf"(?P<child>{CHILD_NOUNS})|(?P<other>{OTHER_NOUNS}))\b"
)
COMPANION = re.compile(rf"\b(?:mi|nuestr[oa]|su)\s(?:{COMPANION_NOUNS})\b")
COMPANION_BEFORE = re.compile(r"(?:\b(?:con|y|e|para|junto a|junto con|entre)|,)\s$")
COMPANION_AFTER = re.compile(r"^\s(?:y|e)\s(?:yo|mi)\b")
SPEAKER_LISTED = re.compile(r"\b(?:y|e) yo\b|\byo (?:y|e|con)\b|\bpara mi\s(?:,|y|e|con)")
"""The speaker in an enumeration ('mi marido, mis 2 hijos y yo'): every 'mi X' in it comes along."""
SPEECH_BEFORE = re.compile(
    r"\b(?:charl\w*|habl\w*|consult\w*|pregunt\w*|veo|vemos|arregl\w*|decid\w*|coment\w*|coordin\w*|"
    r"convers\w*|digo|aviso)\b"
)
"""'lo charlo con mi marido' names somebody to talk to, not somebody who comes."""
COMPANION_PAIR = re.compile(r"\b(?:con|y|e|para)\smis\s(?:viejos|padres|suegros|papas|abuelos)\b")
UNSIZED = re.compile(
    r"\b\d{1,2}\s(?:familias|grupos)\b|\b(?:con|y|e|para)\s(?:la|mi|toda la)\s(?:familia|flia)\b|"
    rf"\b(?:con|y|e|para)\s(?:los|las|mis|unos|unas|nuestros|nuestras)\s(?:{CHILD_NOUNS}|{OTHER_NOUNS})\b"
)
SOLO = re.compile(
    r"\b(?:voy|vengo|viajo|iria|ire|estaria|estare|seria|llego|llegaria|estoy|soy)\s(?:a ir\s)?sol[oa]\b|"
    r"\bsol[oa] yo\b|\byo sol[oa]\b|\bpara mi sol[oa]\b|\bsol[oa] para mi\b|\bpara una (?:sola )?persona\b"
)
SPEAKER_SINGULAR = re.compile(r"\b(?:voy|vengo|viajo|iria|ire|estaria|llego|llegaria)\b")
ADDITIVE_GAP = re.compile(r"\s?(?:\+|y|e|mas|con|,\s?y|,\s?mas|,\s?\+)\s?(?:\+\s?)?(?:tambien\s)?")
GROUPS_OF = re.compile(
    r"\b(\d{1,2})\s(?:familias|grupos)\sde\s(\d{1,2})\b(?!\s(?:anos|anitos|meses|noches|dias))"
)
"""'dos familias de 5' = 10: equal groups multiply (read before '2 familias' is masked as unsized)."""
BARE_NUMBER = re.compile(r"(?:(?:somos|seriamos)\s)?(\d{1,2})(?:\s[?.,!])*")

_WORD_COUNTS = {"un": 1, "una": 1, "uno": 1}


@dataclass(frozen=True, slots=True)
class _Part:
    """A typed count in the text ('2 adultos', 'una pareja'), already multiplied for couples."""

    start: int
    end: int
    count: int
    kind: str


def _mask_dates(text: str, spans: tuple[Span, ...]) -> str:
    """Blank out the date spans."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "~" * (end - start)
    return "".join(chars)


def _mask(text: str, spans: tuple[Span, ...]) -> str:
    """Blank out date spans and every number that is not a head count."""
    masked = _mask_dates(text, spans)
    for pattern in NOT_GUESTS:
        masked = pattern.sub(_blank, masked)
    return masked


def _blank(match: re.Match[str]) -> str:
    """Replace a match (or just its `blank` group) by filler of the same length."""
    if "blank" not in match.re.groupindex:
        return "~" * len(match.group(0))
    start, end = match.span("blank")
    offset = match.start()
    whole = match.group(0)
    return whole[: start - offset] + "~" * (end - start) + whole[end - offset :]


def _count(word: str) -> int:
    """A count written as digits or as un/una/uno."""
    return _WORD_COUNTS.get(word) or int(word)


def _totals(masked: str) -> dict[int, tuple[int, int]]:
    """Totals keyed by where their number starts: value and end of the mention."""
    totals: dict[int, tuple[int, int]] = {}
    for match in TOTAL_AFTER_VERB.finditer(masked):
        totals[match.start(1)] = (int(match.group(1)), match.end())
    for match in COUNTED_NOUN.finditer(masked):
        if match.group("total"):
            totals[match.start(1)] = (_count(match.group(1)), match.end())
    return totals


def _parts(masked: str, totals: dict[int, tuple[int, int]]) -> list[_Part]:
    """Typed counts that add up: adults, children, couples (x2), friends."""
    parts: list[_Part] = []
    for match in COUNTED_NOUN.finditer(masked):
        if match.group("total") or match.start(1) in totals:
            continue
        kind = next(name for name in ("couple", "adult", "child", "other") if match.group(name))
        count = _count(match.group(1)) * (2 if kind == "couple" else 1)
        parts.append(_Part(match.start(), match.end(), count, kind))
    return parts


def _companions(masked: str) -> int:
    """People the speaker names as coming along: 'con mi señora', 'mi novia y yo', 'con mis viejos'."""
    count = 0
    listed = bool(SPEAKER_LISTED.search(masked))
    for match in COMPANION.finditer(masked):
        before = masked[max(0, match.start() - 30) : match.start()]
        after = masked[match.end() : match.end() + 10]
        named = listed or COMPANION_BEFORE.search(before) or COMPANION_AFTER.search(after)
        if named and not SPEECH_BEFORE.search(before):
            count += 1
    return count + 2 * len(COMPANION_PAIR.findall(masked))


def _total_with_added_parts(masked: str, totals: dict[int, tuple[int, int]], parts: list[_Part]) -> int:
    """The last total plus parts joined to it by 'y'/'+' ('somos 4 + un bebé'), not by ',' or 'contando'."""
    value, cursor = totals[max(totals)]
    for part in sorted(parts, key=lambda p: p.start):
        if part.start < cursor:
            continue
        if not ADDITIVE_GAP.fullmatch(masked[cursor : part.start]):
            break
        value += part.count
        cursor = part.end
    return value


def _from_parts(masked: str, parts: list[_Part], companions: int) -> int | None:
    """Add parts and companions, plus the speaker when they name who comes along with them.

    Children alone ('tengo una nena de 6 años') do not size the party: None.
    """
    grouped = any(part.kind in ("adult", "couple") for part in parts)
    speaker = (
        companions > 0
        or bool(SPEAKER_LISTED.search(masked))
        or (bool(parts) and bool(SPEAKER_SINGULAR.search(masked)))
    )
    if not (grouped or speaker or any(part.kind == "other" for part in parts)):
        return None
    return sum(part.count for part in parts) + companions + (1 if speaker and not grouped else 0)


def extract_guests(text: str, date_spans: tuple[Span, ...]) -> int | None:
    """Number of guests in a normalised message, or None when it gives no (absolute) size."""
    masked = _mask(text, date_spans)
    totals = _totals(masked)
    for match in GROUPS_OF.finditer(_mask_dates(text, date_spans)):
        totals[match.start(1)] = (int(match.group(1)) * int(match.group(2)), match.end())
    parts = _parts(masked, totals)
    companions = _companions(masked)
    guests: int | None = None
    if totals:
        guests = _total_with_added_parts(masked, totals, parts)
    elif UNSIZED.search(masked):
        guests = None
    elif parts or companions:
        guests = _from_parts(masked, parts, companions)
    elif SOLO.search(masked):
        guests = 1
    elif bare := BARE_NUMBER.fullmatch(masked):
        guests = int(bare.group(1))
    if guests is None or not 1 <= guests <= MAX_GUESTS:
        return None
    return guests
