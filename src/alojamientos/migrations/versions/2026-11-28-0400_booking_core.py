"""Booking core: units, pricing rules, reservations with the no-overlap constraint, operators.

Revision ID: 0001_booking_core
Revises:
Create Date: 2026-11-28 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_booking_core"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
irreversible = False

STATUSES = "'pre_reserved', 'confirmed', 'cancelled', 'expired', 'completed', 'no_show'"
SOURCES = "'whatsapp', 'admin', 'airbnb', 'booking', 'ical'"


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")

    op.create_table(
        "accommodations",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("base_occupancy", sa.Integer(), nullable=False),
        sa.Column("base_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("amenities", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("check_in_instructions", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("capacity >= 1", name="ck_accommodations_capacity_positive"),
        sa.CheckConstraint(
            "base_occupancy >= 1 and base_occupancy <= capacity",
            name="ck_accommodations_base_occupancy_range",
        ),
        sa.CheckConstraint("base_price >= 0", name="ck_accommodations_base_price_non_negative"),
        sa.PrimaryKeyConstraint("id", name="pk_accommodations"),
        sa.UniqueConstraint("name", name="uq_accommodations_name"),
    )

    op.create_table(
        "price_settings",
        sa.Column("id", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("weekend_multiplier", sa.Numeric(6, 3), server_default=sa.text("1.200"), nullable=False),
        sa.Column("default_min_nights", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("extra_guest_fee", sa.Numeric(12, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("deposit_percent", sa.Numeric(5, 2), server_default=sa.text("30"), nullable=False),
        sa.Column("hold_minutes_mercadopago", sa.Integer(), server_default=sa.text("60"), nullable=False),
        sa.Column("hold_hours_transfer", sa.Integer(), server_default=sa.text("24"), nullable=False),
        sa.Column("check_in_time", sa.Time(), server_default=sa.text("'14:00'"), nullable=False),
        sa.Column("check_out_time", sa.Time(), server_default=sa.text("'10:00'"), nullable=False),
        sa.Column(
            "timezone",
            sa.String(64),
            server_default=sa.text("'America/Argentina/Buenos_Aires'"),
            nullable=False,
        ),
        sa.Column("cancellation_policy", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("bank_transfer_details", sa.Text(), server_default=sa.text("''"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("id = 1", name="ck_price_settings_singleton"),
        sa.CheckConstraint("weekend_multiplier > 0", name="ck_price_settings_weekend_multiplier_positive"),
        sa.CheckConstraint(
            "deposit_percent between 0 and 100", name="ck_price_settings_deposit_percent_range"
        ),
        sa.CheckConstraint("extra_guest_fee >= 0", name="ck_price_settings_extra_guest_fee_non_negative"),
        sa.CheckConstraint("default_min_nights >= 1", name="ck_price_settings_default_min_nights_positive"),
        sa.CheckConstraint(
            "hold_minutes_mercadopago > 0 and hold_hours_transfer > 0",
            name="ck_price_settings_hold_windows_positive",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_price_settings"),
    )
    op.execute("INSERT INTO price_settings (id) VALUES (1)")

    op.create_table(
        "seasons",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("accommodation_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("price_per_night", sa.Numeric(12, 2), nullable=True),
        sa.Column("multiplier", sa.Numeric(6, 3), nullable=True),
        sa.Column("min_nights", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("end_date > start_date", name="ck_seasons_range_not_empty"),
        sa.CheckConstraint(
            "(price_per_night is null) <> (multiplier is null)",
            name="ck_seasons_price_or_multiplier",
        ),
        sa.CheckConstraint(
            "price_per_night is null or price_per_night >= 0", name="ck_seasons_price_non_negative"
        ),
        sa.CheckConstraint("multiplier is null or multiplier > 0", name="ck_seasons_multiplier_positive"),
        sa.CheckConstraint("min_nights is null or min_nights >= 1", name="ck_seasons_min_nights_positive"),
        sa.ForeignKeyConstraint(
            ["accommodation_id"],
            ["accommodations.id"],
            name="fk_seasons_accommodation_id_accommodations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_seasons"),
    )
    op.create_index("ix_seasons_accommodation_id", "seasons", ["accommodation_id"])

    op.create_table(
        "reservations",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("accommodation_id", sa.Integer(), nullable=False),
        sa.Column("check_in", sa.Date(), nullable=False),
        sa.Column("check_out", sa.Date(), nullable=False),
        sa.Column(
            "period",
            postgresql.DATERANGE(),
            sa.Computed("daterange(check_in, check_out, '[)')", persisted=True),
            nullable=False,
        ),
        sa.Column("guests", sa.Integer(), nullable=False),
        sa.Column("guest_name", sa.String(200), nullable=False),
        sa.Column("guest_phone", sa.String(20), nullable=True),
        sa.Column("guest_email", sa.String(254), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("total_amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("deposit_amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("paid_amount", sa.Numeric(12, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), server_default=sa.text("''"), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("check_out > check_in", name="ck_reservations_stay_not_empty"),
        sa.CheckConstraint("guests >= 1", name="ck_reservations_guests_positive"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_reservations_status_known"),
        sa.CheckConstraint(f"source IN ({SOURCES})", name="ck_reservations_source_known"),
        sa.CheckConstraint(
            "total_amount >= 0 and deposit_amount >= 0 and paid_amount >= 0",
            name="ck_reservations_amounts_non_negative",
        ),
        sa.ForeignKeyConstraint(
            ["accommodation_id"],
            ["accommodations.id"],
            name="fk_reservations_accommodation_id_accommodations",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reservations"),
        sa.UniqueConstraint("code", name="uq_reservations_code"),
        postgresql.ExcludeConstraint(
            ("accommodation_id", "="),
            ("period", "&&"),
            where=sa.text("status IN ('pre_reserved', 'confirmed')"),
            using="gist",
            name="reservations_no_overlap",
        ),
    )
    op.create_index("ix_reservations_accommodation_id", "reservations", ["accommodation_id"])
    op.create_index("ix_reservations_guest_phone", "reservations", ["guest_phone"])
    op.create_index("ix_reservations_status", "reservations", ["status"])

    op.create_table(
        "reservation_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("reservation_id", sa.BigInteger(), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name="fk_reservation_events_reservation_id_reservations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reservation_events"),
    )
    op.create_index("ix_reservation_events_reservation_id", "reservation_events", ["reservation_id"])

    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(120), server_default=sa.text("''"), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
        sa.UniqueConstraint("email", name="uq_operators_email"),
    )


def downgrade() -> None:
    op.drop_table("operators")
    op.drop_table("reservation_events")
    op.drop_table("reservations")
    op.drop_table("seasons")
    op.drop_table("price_settings")
    op.drop_table("accommodations")
    # btree_gist stays: other schemas in this database may use it, and it holds no data.
