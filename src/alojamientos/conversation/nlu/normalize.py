"""Text normalisation for guest messages: one canonical, accent-free, lower-case spelling.

Every later stage (dates, guests, intents) matches regular expressions against the output of
`normalize`, so spelling variants are folded here once: accents and `ñ`, stretched letters
("holaaa"), WhatsApp abbreviations ("q", "xq", "fds"), common typos ("disponiblidad") and number
words up to 31 ("quince" -> "15"), and two dates joined without spaces ("5/1-9/1" -> "5/1 - 9/1").
`un`/`una`/`uno` stay words: they are articles far more often
than counts, and the guest rules decide when they count.
"""

from __future__ import annotations

import re
import unicodedata

MAX_INPUT_CHARS = 4000
"""Longer messages are cut: no guest writes more, and it bounds the work done on junk input."""

NUMBER_WORDS: dict[str, int] = {
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiuno": 21,
    "veintiun": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
    "treinta": 30,
}

WORD_FIXES: dict[str, str] = {
    # availability
    "disponiblidad": "disponibilidad",
    "disponibiliad": "disponibilidad",
    "disponibilida": "disponibilidad",
    "disponibilidd": "disponibilidad",
    "disponivilidad": "disponibilidad",
    "disponibilidades": "disponibilidad",
    "dispo": "disponibilidad",
    "disponibles": "disponible",
    "diponible": "disponible",
    "lugarcito": "lugar",
    "pal": "para el",
    # weekdays and relative days
    "sabdo": "sabado",
    "savado": "sabado",
    "miercole": "miercoles",
    "maniana": "manana",
    "mannana": "manana",
    "manaan": "manana",
    "domigo": "domingo",
    "vierne": "viernes",
    # WhatsApp shorthand
    "q": "que",
    "k": "que",
    "xq": "porque",
    "pq": "porque",
    "porq": "porque",
    "x": "por",
    "tmb": "tambien",
    "tb": "tambien",
    "tmbn": "tambien",
    "d": "de",
    "bs": "buenas",
    "bna": "buenas",
    "bnas": "buenas",
    "fds": "finde",
    "findesemana": "finde",
    "cuant": "cuanto",
    "cuantoo": "cuanto",
    "kuanto": "cuanto",
    "senia": "sena",
    "reserba": "reserva",
    "reserbar": "reservar",
    "canselar": "cancelar",
    "cancelr": "cancelar",
    "gracia": "gracias",
    "grax": "gracias",
    "grs": "gracias",
    "grasias": "gracias",
    "1ro": "1",
    "1ero": "1",
    "1er": "1",
    "hrs": "hs",
    "hr": "hs",
    "pers": "personas",
    "psnas": "personas",
    "prsonas": "personas",
    "peronas": "personas",
}

PHRASE_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bfin(?:es)? (?:de|d) (?:semana|smana|semna|semanas)\b"), "finde"),
    (re.compile(r"\bfinde semana\b"), "finde"),
    (re.compile(r"\bwi ?-? ?fi\b"), "wifi"),
    (re.compile(r"\bmercado pago\b"), "mercadopago"),
    (re.compile(r"\bche(?:ck|k|c)? ?-? ?in\b"), "checkin"),
    (re.compile(r"\bche(?:ck|k|c)? ?-? ?out\b"), "checkout"),
    (re.compile(r"\bprimero (?=de |del )"), "1 "),
    (re.compile(r"\b(el|del|al) primero\b"), r"\1 1"),
    (re.compile(r"\btreinta y (?:uno|un)\b"), "31"),
)

_STRETCHED = re.compile(r"([a-z])\1{2,}")
_DOUBLED_END = re.compile(r"([a-df-z])\1+\b")
"""Spanish words do not end in a doubled letter ('cree', 'lee' aside): 'holaa', 'buenass' are stretched."""
_CODE_TOKEN = re.compile(r"\b[a-z]{2,}\d[a-z0-9]*\b|\b\d+[a-z]+\d[a-z0-9]*\b")
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[a-z])")
_ORDINAL_SUFFIX = re.compile(r"\b(\d{1,2})(?:ro|ero|er|do|to|vo|mo|no|°)(?![a-z0-9])")
_PUNCT_SPLIT = re.compile(r"([,;!?()\[\]{}\"'*_~¿¡…+])")
_SENTENCE_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_JOINED_RANGE = re.compile(
    r"(?<![\d/.\-])(\d{1,2}([/.])\d{1,2}(?:\2\d{2,4})?)-(?=\d{1,2}[/.]\d)"
    r"|(?<![\d/.\-])(\d{4}-\d{1,2}-\d{1,2})/(?=\d{4}-\d{1,2}-\d{1,2}(?!\d))"
)
"""Two dates joined without spaces, '5/1-9/1' or the ISO 8601 interval '2027-01-05/2027-01-09'."""
_DROP = re.compile(r"[^a-z0-9/\-.:,;?+$%# ]")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z]+")


def strip_accents(text: str) -> str:
    """Remove diacritics (ñ -> n too), so "mañana", "manana" and "MAÑANA" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fix_word(match: re.Match[str]) -> str:
    """Replace one word by its canonical spelling or its digits."""
    word = match.group(0)
    fixed = WORD_FIXES.get(word, word)
    number = NUMBER_WORDS.get(fixed)
    return str(number) if number is not None else fixed


def normalize(text: str) -> str:
    """Return the canonical form: lower case, no accents, single spaces, punctuation as tokens."""
    text = text[:MAX_INPUT_CHARS].replace("º", "°").replace("–", "-").replace("—", "-").replace("’", "'")
    text = strip_accents(text.casefold())
    text = _ORDINAL_SUFFIX.sub(r"\1", text)
    text = _CODE_TOKEN.sub(" # ", text)
    text = _DIGIT_LETTER.sub(" ", text)
    text = _STRETCHED.sub(r"\1", text)
    text = _DOUBLED_END.sub(r"\1", text)
    text = _DROP.sub(" ", text)
    text = _JOINED_RANGE.sub(lambda m: f"{m.group(1) or m.group(3)} - ", text)
    text = _SENTENCE_DOT.sub(" . ", text)
    text = _PUNCT_SPLIT.sub(r" \1 ", text)
    text = _SPACES.sub(" ", text).strip()
    text = _WORD.sub(_fix_word, text)
    for pattern, replacement in PHRASE_FIXES:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text).strip()
