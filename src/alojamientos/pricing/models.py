from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from alojamientos.kit.models import Base, TimestampMixin


class PriceSettings(TimestampMixin, Base):
    """The complex's pricing and policy rules: one row, created by the migration with defaults."""

    __tablename__ = "price_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="singleton"),
        CheckConstraint("weekend_multiplier > 0", name="weekend_multiplier_positive"),
        CheckConstraint("deposit_percent between 0 and 100", name="deposit_percent_range"),
        CheckConstraint("extra_guest_fee >= 0", name="extra_guest_fee_non_negative"),
        CheckConstraint("default_min_nights >= 1", name="default_min_nights_positive"),
        CheckConstraint(
            "hold_minutes_mercadopago > 0 and hold_hours_transfer > 0", name="hold_windows_positive"
        ),
        CheckConstraint("max_nights >= 1 and booking_horizon_days >= 1", name="stay_limits_positive"),
        CheckConstraint(
            "long_weekend_min_nights is null or long_weekend_min_nights >= 1",
            name="long_weekend_min_nights_positive",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, server_default=text("1"))
    weekend_multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3), server_default=text("1.200"))
    default_min_nights: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    extra_guest_fee: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    deposit_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=text("30"))
    hold_minutes_mercadopago: Mapped[int] = mapped_column(Integer, server_default=text("60"))
    hold_hours_transfer: Mapped[int] = mapped_column(Integer, server_default=text("24"))
    check_in_time: Mapped[time] = mapped_column(Time, server_default=text("'14:00'"))
    check_out_time: Mapped[time] = mapped_column(Time, server_default=text("'10:00'"))
    timezone: Mapped[str] = mapped_column(String(64), server_default=text("'America/Argentina/Buenos_Aires'"))
    cancellation_policy: Mapped[str] = mapped_column(Text, server_default=text("''"))
    bank_transfer_details: Mapped[str] = mapped_column(Text, server_default=text("''"))
    checkin_instructions_days_before: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # A proper name, so guests never read a placeholder ("Soy el asistente de reservas de …").
    complex_name: Mapped[str] = mapped_column(String(120), server_default=text("'Cabañas Los Alerces'"))
    # The longest stay, and how many days ahead of today a stay may end (API, panel and chat alike).
    max_nights: Mapped[int] = mapped_column(Integer, server_default=text("60"))
    booking_horizon_days: Mapped[int] = mapped_column(Integer, server_default=text("730"))
    long_weekend_min_nights: Mapped[int | None] = mapped_column(Integer)
    """Nights a stay touching a long weekend needs; None: no rule (unless the whole run is asked)."""
    long_weekend_whole_run: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """A stay touching a long weekend needs as many nights as the run has days."""


YEARLY_COLUMNS = ("first_month", "first_day", "last_month", "last_day")


class Season(TimestampMixin, Base):
    """A date range `[start_date, end_date)`, or a yearly one (first to last night by month and day,
    both included), with its own nightly price or a multiplier."""

    __tablename__ = "seasons"
    __table_args__ = (
        CheckConstraint("end_date > start_date", name="range_not_empty"),
        CheckConstraint("(price_per_night is null) <> (multiplier is null)", name="price_or_multiplier"),
        CheckConstraint("price_per_night is null or price_per_night >= 0", name="price_non_negative"),
        CheckConstraint("multiplier is null or multiplier > 0", name="multiplier_positive"),
        CheckConstraint("min_nights is null or min_nights >= 1", name="min_nights_positive"),
        CheckConstraint(
            "(not yearly and start_date is not null and end_date is not null"
            " and num_nulls(first_month, first_day, last_month, last_day) = 4)"
            " or (yearly and start_date is null and end_date is null"
            " and num_nonnulls(first_month, first_day, last_month, last_day) = 4)",
            name="dated_or_yearly",
        ),
        CheckConstraint(
            "first_month between 1 and 12 and last_month between 1 and 12"
            " and first_day between 1 and 31 and last_day between 1 and 31",
            name="yearly_bounds_valid",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    accommodation_id: Mapped[int | None] = mapped_column(
        ForeignKey("accommodations.id", ondelete="CASCADE"), index=True
    )
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    yearly: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    first_month: Mapped[int | None] = mapped_column(SmallInteger)
    first_day: Mapped[int | None] = mapped_column(SmallInteger)
    last_month: Mapped[int | None] = mapped_column(SmallInteger)
    last_day: Mapped[int | None] = mapped_column(SmallInteger)
    price_per_night: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    multiplier: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    min_nights: Mapped[int | None] = mapped_column(Integer)


class CatalogVersion(Base):
    """What a quote reads (units, price settings, seasons) at one version: statement triggers on those
    tables set it from `catalog_version_seq`, which never repeats a value. No row: nothing changed since
    the table was emptied (read as 0)."""

    __tablename__ = "catalog_versions"
    __table_args__ = (CheckConstraint("id = 1", name="singleton"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
