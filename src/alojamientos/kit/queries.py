"""Helpers over SQLAlchemy selects that do not belong to any one domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, String, func, literal, select


def count_of(query: Select[Any]) -> Select[int]:
    """How many rows `query` matches, ignoring its order, limit and offset."""
    return select(func.count()).select_from(query.limit(None).offset(None).order_by(None).subquery())


def folded_contains(column: SQLColumnExpression[Any], text: str) -> ColumnElement[bool]:
    """`column` contains `text` whatever the case and accents: `perez` finds `Ana Pérez`.

    Both sides go through the database's `search_fold()` (lower(unaccent()), migration 0011), which
    the trigram GIN indexes on guest and profile names are built over. `%`, `_` and `\\` in `text`
    match themselves.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = literal("%") + func.search_fold(escaped, type_=String) + literal("%")
    return func.search_fold(column, type_=String).like(pattern, escape="\\")


def digits_of(text: str) -> str:
    """Only the digits: `11 5555-1234` → `1155551234`, to look a phone number up however it was typed."""
    return "".join(ch for ch in text if ch.isdigit())
