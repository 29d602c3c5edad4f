"""What any input must satisfy before it reaches PostgreSQL, declared once so OpenAPI documents it.

PostgreSQL refuses integers outside its column types (`integer`: 32 bits, `bigint`: 64 bits) and any
text holding U+0000 (NUL); both used to surface as 500s. Every integer path, query or body field uses
one of the bounded types below, and every text is checked for NUL and length by `checked_text` (API
bodies, queries and panel forms alike, by the `reject_unstorable_text` dependency of both apps).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Annotated, Any

import psycopg
from annotated_types import Ge, Le
from fastapi import Request
from sqlalchemy.exc import DBAPIError

from alojamientos.errors import InvalidInput

INT4_MAX = 2**31 - 1  # PostgreSQL `integer`
INT8_MAX = 2**63 - 1  # PostgreSQL `bigint`

# A row id of an `integer` primary key (units, operators, seasons).
Id = Annotated[int, Ge(1), Le(INT4_MAX)]
# A row id of a `bigint` primary key (alerts, feeds, jobs, attachments...).
BigId = Annotated[int, Ge(1), Le(INT8_MAX)]
# A count or offset stored in, or compared with, an `integer` column.
Count = Annotated[int, Ge(0), Le(INT4_MAX)]


def stored_id(raw: str) -> int | None:
    """A form's id field ("12") as an `integer` row id, or None when it is not one (empty, text, huge)."""
    value = raw.strip()
    return int(value) if value.isdigit() and 1 <= int(value) <= INT4_MAX else None


# The longest single text field anything accepts (descriptions, policies); most fields declare less.
MAX_TEXT = 20_000


class UnstorableText(ValueError):
    """Text PostgreSQL cannot store, or longer than any field takes; the message says which."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return "contains a NUL character (U+0000), which cannot be stored"
    if len(value) > MAX_TEXT:
        return f"is longer than {MAX_TEXT} characters"
    return None


def check_texts(value: Any, where: str) -> None:
    """Raise `UnstorableText` for the first string in a JSON-like value (keys too) that cannot be stored.

    `where` names the value the way validation errors do ("path.id", "query.from", "notes"); items
    inside it are named by their keys and indexes ("amenities.0").
    """
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise UnstorableText(where or "body", problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_texts(key, where)
            check_texts(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_texts(item, f"{where}.{index}" if where else str(index))


def without_nul(value: Any) -> Any:
    """A JSON-like value with U+0000 removed from every string (keys too): for signed provider payloads,
    which we must store and acknowledge rather than refuse."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(name: str, *, separator: str = "-", max_length: int = 40) -> str:
    """A key derived from a name as people type it: "Booking.com" → "booking-com", "Cabaña 3" → "cabana-3".

    Accents are dropped (NFKD), everything but ASCII letters and digits becomes one `separator`;
    "" when nothing usable is left (the caller says what it expects).
    """
    ascii_only = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    key = _NOT_SLUG.sub(separator, ascii_only).strip(separator)
    return key[:max_length].rstrip(separator)


def key_for(name: str, known: Iterable[str] = (), *, separator: str = "_") -> str:
    """`slug(name)`, or the known key it names once separators are ignored.

    "Mercado Pago" → "mercadopago" when that is a known key; "Wi-Fi" → "wifi".
    """
    key = slug(name, separator=separator)
    bare = key.replace(separator, "")
    for candidate in known:
        if bare == re.sub(r"[^a-z0-9]", "", candidate):
            return candidate
    return key


def is_data_exception(exc: DBAPIError) -> bool:
    """A value the column cannot hold: PostgreSQL's SQLSTATE class 22 (data exception), or text with
    a NUL that psycopg refuses before sending it (a `DataError` without a SQLSTATE)."""
    return isinstance(exc.orig, psycopg.DataError) or str(getattr(exc.orig, "sqlstate", "") or "").startswith(
        "22"
    )


class InvalidText(InvalidInput):
    code = "invalid_text"


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# Provider webhooks are signed over the raw body and must be acknowledged, not refused: they clean
# what they store themselves.
_EXEMPT_PREFIXES = ("/api/v1/webhooks/",)


async def reject_unstorable_text(request: Request) -> None:
    """Every text a request carries (path, query, JSON body, form fields) is storable: no NUL, bounded.

    Raises `InvalidText` (422, `field` names where) before any handler runs. File parts of a
    multipart form are bytes, not text, and are not checked.
    """
    if request.url.path.startswith(_EXEMPT_PREFIXES):
        return
    try:
        for name, value in request.path_params.items():
            check_texts(value, f"path.{name}")
        for name, value in request.query_params.multi_items():
            check_texts(name, "query")
            check_texts(value, f"query.{name}")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/json" or content_type.endswith("+json"):
            raw = await request.body()
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                return  # FastAPI answers malformed JSON itself
            check_texts(data, "")
        elif content_type in _FORMS:
            form = await request.form()
            for name, value in form.multi_items():
                check_texts(name, "form")
                if isinstance(value, str):
                    check_texts(value, name)
    except UnstorableText as exc:
        raise InvalidText(f"{exc.where} {exc.problem}", field=exc.where) from None
