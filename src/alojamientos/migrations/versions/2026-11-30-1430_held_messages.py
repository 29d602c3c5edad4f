"""Held: a message whose channel is not configured (no WhatsApp credentials, no SMTP) waits, neither
sent nor failed, and its job with it, until the channel is set up.

Downgrading puts held jobs back in the queue and held messages back to `queued`, which is what the
older code knows: nothing is lost (the older code then dead-letters what it cannot send).

Revision ID: 0007_held_messages
Revises: 0006_accommodation_photos
Create Date: 2026-11-30 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_held_messages"
down_revision: str | None = "0006_accommodation_photos"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Set to True when downgrade() cannot restore what upgrade() changed: `rollback` refuses to cross it.
irreversible = False

JOBS_BEFORE = "status IN ('pending', 'running', 'done', 'dead')"
JOBS_AFTER = "status IN ('pending', 'running', 'done', 'dead', 'held')"
MESSAGES_BEFORE = (
    "delivery_status IS NULL OR delivery_status IN ('queued', 'sent', 'delivered', 'read', 'failed', 'shown')"
)
MESSAGES_AFTER = (
    "delivery_status IS NULL OR delivery_status IN"
    " ('queued', 'sent', 'delivered', 'read', 'failed', 'shown', 'held')"
)


def upgrade() -> None:
    op.drop_constraint(op.f("ck_jobs_status_known"), "jobs", type_="check")
    op.create_check_constraint(op.f("ck_jobs_status_known"), "jobs", JOBS_AFTER)
    op.drop_constraint(
        op.f("ck_conversation_messages_delivery_status_known"), "conversation_messages", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_conversation_messages_delivery_status_known"), "conversation_messages", MESSAGES_AFTER
    )


def downgrade() -> None:
    op.execute("UPDATE jobs SET status = 'pending', run_at = now() WHERE status = 'held'")
    op.execute("UPDATE conversation_messages SET delivery_status = 'queued' WHERE delivery_status = 'held'")
    op.drop_constraint(op.f("ck_jobs_status_known"), "jobs", type_="check")
    op.create_check_constraint(op.f("ck_jobs_status_known"), "jobs", JOBS_BEFORE)
    op.drop_constraint(
        op.f("ck_conversation_messages_delivery_status_known"), "conversation_messages", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_conversation_messages_delivery_status_known"), "conversation_messages", MESSAGES_BEFORE
    )
