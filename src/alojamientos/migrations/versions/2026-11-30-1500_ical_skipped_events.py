"""iCal feeds remember the events of their last import that could not be read (raw lines and why),
so the operator sees them next to the feed.

Downgrading drops the column: only that report is lost (the next import writes it again); no block
or reservation depends on it.

Revision ID: 0008_ical_skipped_events
Revises: 0007_held_messages
Create Date: 2026-11-30 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_ical_skipped_events"
down_revision: str | None = "0007_held_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Set to True when downgrade() cannot restore what upgrade() changed: `rollback` refuses to cross it.
irreversible = False


def upgrade() -> None:
    op.add_column(
        "ical_feeds",
        sa.Column(
            "skipped_events", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_column("ical_feeds", "skipped_events")
