"""Helpers over SQLAlchemy selects that do not belong to any one domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select


def count_of(query: Select[Any]) -> Select[int]:
    """How many rows `query` matches, ignoring its order, limit and offset."""
    return select(func.count()).select_from(query.limit(None).offset(None).order_by(None).subquery())
