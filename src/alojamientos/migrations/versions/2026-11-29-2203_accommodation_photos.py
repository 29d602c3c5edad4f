"""Accommodation photos: a JSON list of http(s) URLs per unit, edited in the panel's settings.

Downgrading drops the column and with it the URLs typed in the panel (the pictures themselves live
elsewhere); nothing a reservation depends on is lost.

Revision ID: 0006_accommodation_photos
Revises: 0005_deployments
Create Date: 2026-11-29 22:03:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_accommodation_photos"
down_revision: str | None = "0005_deployments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Set to True when downgrade() cannot restore what upgrade() changed: `rollback` refuses to cross it.
irreversible = False


def upgrade() -> None:
    op.add_column(
        "accommodations",
        sa.Column("photos", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("accommodations", "photos")
