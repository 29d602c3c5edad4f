"""One page of a list: its rows, the total, and the links to the pages next to it (filters kept)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.kit.queries import count_of


@dataclass(frozen=True, slots=True)
class Paged:
    rows: list[Any]
    total: int
    page: int
    pages: int
    prev_url: str | None
    next_url: str | None

    def context(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "prev_url": self.prev_url,
            "next_url": self.next_url,
        }


async def paginate(
    session: AsyncSession, query: Select[Any], *, page: int, size: int, kept: dict[str, str]
) -> Paged:
    """`query` (already ordered) cut to page `page` (clamped to the last one); `kept`: the filters."""
    total = await session.scalar(count_of(query)) or 0
    pages = max(1, math.ceil(total / size))
    page = min(page, pages)
    rows = list(await session.scalars(query.limit(size).offset((page - 1) * size)))

    def link(number: int) -> str:
        return f"?{urlencode({**{k: v for k, v in kept.items() if v}, 'pagina': number})}"

    return Paged(
        rows,
        total,
        page,
        pages,
        link(page - 1) if page > 1 else None,
        link(page + 1) if page < pages else None,
    )
