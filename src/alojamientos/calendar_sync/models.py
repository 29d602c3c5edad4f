from __future__ import annotations

from datetime import datetime

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
