"""Stay limits the operator can edit: the longest stay in nights and how far ahead stays can be booked.

Downgrading drops both columns (the defaults, 60 nights and 730 days, are the values the code used
to assume nowhere: stays were unbounded); no reservation depends on them.

Revision ID: 0011_stay_limits
Revises: 0010_message_kinds
Create Date: 2026-11-30 15:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_stay_limits"
down_revision: str | None = "0010_message_kinds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Set to True when downgrade() cannot restore what upgrade() changed: `rollback` refuses to cross it.
irreversible = False


def upgrade() -> None:
    op.add_column(
        "price_settings", sa.Column("max_nights", sa.Integer(), server_default=sa.text("60"), nullable=False)
    )
    op.add_column(
        "price_settings",
        sa.Column("booking_horizon_days", sa.Integer(), server_default=sa.text("730"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_price_settings_stay_limits_positive"),
        "price_settings",
        "max_nights >= 1 and booking_horizon_days >= 1",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_price_settings_stay_limits_positive"), "price_settings", type_="check")
    op.drop_column("price_settings", "booking_horizon_days")
    op.drop_column("price_settings", "max_nights")
