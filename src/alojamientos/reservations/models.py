from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import DATERANGE, JSONB, ExcludeConstraint, Range
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alojamientos.kit.models import Base, TimestampMixin


class ReservationStatus(StrEnum):
    pre_reserved = "pre_reserved"
    confirmed = "confirmed"
    cancelled = "cancelled"
    expired = "expired"
    completed = "completed"
    no_show = "no_show"


class ReservationSource(StrEnum):
    whatsapp = "whatsapp"
    admin = "admin"
    airbnb = "airbnb"
    booking = "booking"
    ical = "ical"


OCCUPYING = (ReservationStatus.pre_reserved, ReservationStatus.confirmed)
_OCCUPYING_SQL = "status IN ('pre_reserved', 'confirmed')"


def _in(values: type[StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class Accommodation(TimestampMixin, Base):
    """A rentable unit (cabin)."""

    __tablename__ = "accommodations"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("base_occupancy >= 1 and base_occupancy <= capacity", name="base_occupancy_range"),
        CheckConstraint("base_price >= 0", name="base_price_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    capacity: Mapped[int] = mapped_column(Integer)
    base_occupancy: Mapped[int] = mapped_column(Integer)
    base_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    description: Mapped[str] = mapped_column(Text, server_default=text("''"))
    amenities: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    photos: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))  # http(s) URLs
    check_in_instructions: Mapped[str] = mapped_column(Text, server_default=text("''"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # The secret in this unit's public availability feed URL; rotating it cuts off old subscribers.
    ical_token: Mapped[str] = mapped_column(
        String(64), server_default=text("replace(gen_random_uuid()::text, '-', '')")
    )


class Reservation(TimestampMixin, Base):
    """A stay `[check_in, check_out)` in one unit. PostgreSQL forbids two occupying stays overlapping."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("check_out > check_in", name="stay_not_empty"),
        CheckConstraint("guests >= 1", name="guests_positive"),
        CheckConstraint(f"status IN ({_in(ReservationStatus)})", name="status_known"),
        CheckConstraint(f"source IN ({_in(ReservationSource)})", name="source_known"),
        CheckConstraint("kind IN ('stay', 'block')", name="kind_known"),
        CheckConstraint(
            "total_amount >= 0 and deposit_amount >= 0 and paid_amount >= 0",
            name="amounts_non_negative",
        ),
        ExcludeConstraint(
            ("accommodation_id", "="),
            ("period", "&&"),
            where=text(_OCCUPYING_SQL),
            using="gist",
            name="reservations_no_overlap",
        ),
        # Accent- and case-free name search (migration 0011 creates search_fold and pg_trgm).
        Index(
            "ix_reservations_guest_name_search",
            func.search_fold(text("guest_name")).label("guest_name_folded"),
            postgresql_using="gin",
            postgresql_ops={"guest_name_folded": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    accommodation_id: Mapped[int] = mapped_column(
        ForeignKey("accommodations.id", ondelete="RESTRICT"), index=True
    )
    check_in: Mapped[date] = mapped_column(Date)
    check_out: Mapped[date] = mapped_column(Date)
    period: Mapped[Range[date]] = mapped_column(
        DATERANGE, Computed("daterange(check_in, check_out, '[)')", persisted=True)
    )
    guests: Mapped[int] = mapped_column(Integer)
    guest_name: Mapped[str] = mapped_column(String(200))
    guest_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    guest_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    deposit_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    # An agreed price: why the operator set `total_amount` apart from the price list, and what the
    # price list asks for the stay as it is now. Both NULL while the stay costs what the list says.
    price_reason: Mapped[str | None] = mapped_column(Text)
    list_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str] = mapped_column(Text, server_default=text("''"))
    payment_method: Mapped[str | None] = mapped_column(String(20))  # how the guest said they would pay
    payment_link: Mapped[str | None] = mapped_column(Text)  # Mercado Pago init_point
    provider_reference: Mapped[str | None] = mapped_column(String(120))  # Mercado Pago preference id
    # "stay": a guest's reservation; "block": dates another channel's calendar occupies (iCal import).
    kind: Mapped[str] = mapped_column(String(8), server_default=text("'stay'"), index=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("ical_feeds.id", ondelete="CASCADE"), index=True)
    external_uid: Mapped[str | None] = mapped_column(Text)

    accommodation: Mapped[Accommodation] = relationship(lazy="raise")
    events: Mapped[list[ReservationEvent]] = relationship(
        lazy="raise", order_by="ReservationEvent.id", back_populates="reservation"
    )

    @property
    def owed_amount(self) -> Decimal:
        """What the guest still has to pay (never below zero)."""
        return max(self.total_amount - self.paid_amount, Decimal("0.00"))

    @property
    def overpaid_amount(self) -> Decimal:
        """What was paid above the total: money to give back to the guest."""
        return max(self.paid_amount - self.total_amount, Decimal("0.00"))


class ReservationEvent(Base):
    """Every transition of a reservation, written in the transaction that made it."""

    __tablename__ = "reservation_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    reservation: Mapped[Reservation] = relationship(lazy="raise", back_populates="events")
