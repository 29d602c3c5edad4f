"""Word tables shared by the date and guest grammars (normalised spelling: no accents, lower case)."""

from __future__ import annotations

from collections.abc import Iterable

MONTHS: dict[str, int] = {
    "enero": 1,
    "ene": 1,
    "febrero": 2,
    "feb": 2,
    "marzo": 3,
    "mar": 3,
    "abril": 4,
    "abr": 4,
    "mayo": 5,
    "may": 5,
    "junio": 6,
    "jun": 6,
    "julio": 7,
    "jul": 7,
    "agosto": 8,
    "ago": 8,
    "septiembre": 9,
    "setiembre": 9,
    "sept": 9,
    "sep": 9,
    "set": 9,
    "octubre": 10,
    "oct": 10,
    "noviembre": 11,
    "nov": 11,
    "diciembre": 12,
    "dic": 12,
}
FULL_MONTHS = frozenset(
    (
        "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre"
    ).split()
)
"""Month names that mean the month even on their own ('en marzo'); 'mar' alone is the sea."""

WEEKDAYS: dict[str, int] = {
    "lunes": 0,
    "lun": 0,
    "martes": 1,
    "miercoles": 2,
    "mier": 2,
    "mie": 2,
    "jueves": 3,
    "jue": 3,
    "viernes": 4,
    "vie": 4,
    "sabado": 5,
    "sab": 5,
    "domingo": 6,
    "dom": 6,
}
"""'mar' is left out on purpose: after a day number it is March."""

NOT_A_DAY_UNITS = "|".join(
    (
        r"noches?",
        r"dias?",
        r"semanas?",
        r"mes(?:es)?",
        r"anos?",
        r"anitos",
        r"hs",
        r"h",
        r"horas?",
        r"min(?:utos)?",
        r"personas?",
        r"pax",
        r"huespedes",
        r"integrantes",
        r"adultos?",
        r"mayores",
        r"menor(?:es)?",
        r"chic[oa]s?",
        r"nen[ea]s?",
        r"nin[oa]s?",
        r"bebes?",
        r"hij[oa]s?",
        r"amig[oa]s?",
        r"parejas?",
        r"matrimonios?",
        r"autos?",
        r"perr[oa]s?",
        r"gatos?",
        r"mascotas?",
        r"kms?",
        r"cuadras?",
        r"metros",
        r"mts",
        r"mil",
        r"pesos",
        r"lucas",
        r"usd",
        r"dolares",
        r"cabanas?",
        r"habitaciones",
        r"dormitorios",
        r"camas?",
        r"cuotas",
        r"veces",
        r"am",
        r"pm",
        r"de la (?:manana|tarde|noche)",
    )
)
"""Words after a number that make it a count, a time or an amount rather than a day."""


def alternation(words: Iterable[str]) -> str:
    """Regex alternation of words, longest first so 'marzo' wins over 'mar'."""
    return "|".join(sorted(words, key=len, reverse=True))


MONTH_ALT = alternation(MONTHS)
FULL_MONTH_ALT = alternation(FULL_MONTHS)
WEEKDAY_ALT = alternation(WEEKDAYS)
