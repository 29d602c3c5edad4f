"""What each WhatsApp message is (text, audio, location, a change of number…) and the ad a guest came from.

`conversation_messages.kind` lets the thread show a voice note as one and the bot answer each kind as a
person would; inbound rows already stored get their kind from the Cloud API payload kept with them
(and lose the `[audio] ` prefix their text carried, now that the kind is shown apart).
`conversations.referral` keeps Meta's click-to-WhatsApp `referral` object for the operator.

Downgrading drops both columns (the prefix is not put back): the raw payloads still hold every kind
and referral, so nothing a reservation depends on is lost.

Revision ID: 0010_message_kinds
Revises: 0009_money_ledger
Create Date: 2026-11-30 15:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_message_kinds"
down_revision: str | None = "0009_money_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Set to True when downgrade() cannot restore what upgrade() changed: `rollback` refuses to cross it.
irreversible = False

KINDS = (
    "'text', 'choice', 'image', 'document', 'audio', 'video', 'sticker', 'location', 'contacts',"
    " 'reaction', 'order', 'form', 'welcome', 'number_changed', 'system', 'unsupported'"
)


def upgrade() -> None:
    op.add_column("conversations", sa.Column("referral", postgresql.JSONB(), nullable=True))
    op.add_column(
        "conversation_messages",
        sa.Column("kind", sa.String(length=16), server_default=sa.text("'text'"), nullable=False),
    )
    op.execute(
        """
        UPDATE conversation_messages SET kind = CASE payload->'raw'->>'type'
            WHEN 'interactive' THEN 'choice'
            WHEN 'button' THEN 'choice'
            WHEN 'request_welcome' THEN 'welcome'
            WHEN 'system' THEN 'system'
            ELSE CASE WHEN payload->'raw'->>'type' IN (
                'image', 'document', 'audio', 'video', 'sticker', 'location', 'contacts', 'reaction', 'order'
            ) THEN payload->'raw'->>'type' ELSE 'unsupported' END
        END,
        body = regexp_replace(body, '^\\[' || (payload->'raw'->>'type') || '\\] ?', '')
        WHERE direction = 'in' AND payload->'raw'->>'type' IS NOT NULL AND payload->'raw'->>'type' <> 'text'
        """
    )
    op.create_check_constraint(
        op.f("ck_conversation_messages_kind_known"), "conversation_messages", f"kind IN ({KINDS})"
    )
    op.execute(
        """
        UPDATE conversations c SET referral = m.payload->'raw'->'referral'
        FROM (
            SELECT DISTINCT ON (conversation_id) conversation_id, payload FROM conversation_messages
            WHERE direction = 'in' AND jsonb_typeof(payload->'raw'->'referral') = 'object'
            ORDER BY conversation_id, id DESC
        ) m
        WHERE m.conversation_id = c.id
        """
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_conversation_messages_kind_known"), "conversation_messages", type_="check")
    op.drop_column("conversation_messages", "kind")
    op.drop_column("conversations", "referral")
