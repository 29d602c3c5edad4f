from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from alojamientos.kit.models import Base


class IcalFeed(Base):
    """A calendar another channel publishes for one of our units (Airbnb, Booking.com, ...)."""

    __tablename__ = "ical_feeds"
    __table_args__ = (UniqueConstraint("accommodation_id", "source", name="uq_ical_feeds_unit_source"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    accommodation_id: Mapped[int] = mapped_column(
        ForeignKey("accommodations.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(40))  # airbnb, booking, vrbo, google, ...
    url: Mapped[str | None] = mapped_column(Text)  # None for feeds imported from a file
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_event_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    empty_pending: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # The last import's events that could not be read, for the operator: a list of
    # {"uid": str | None, "reason": SKIP_REASONS key, "raw": the event's lines, "partial": bool}.
    skipped_events: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
