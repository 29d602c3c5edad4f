"""Now and today, in one place, so business code can take them as arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """The business date in the complex's timezone."""
    return (now or utc_now()).astimezone(tz).date()
