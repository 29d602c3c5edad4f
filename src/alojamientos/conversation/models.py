from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from alojamientos.conversation.messages import KINDS
from alojamientos.kit.models import Base, TimestampMixin


class Conversation(TimestampMixin, Base):
    """One guest's thread, keyed by phone: the bot's state and what it has gathered so far."""

    __tablename__ = "conversations"
    __table_args__ = (
        # Accent- and case-free name search (migration 0011 creates search_fold and pg_trgm).
        Index(
            "ix_conversations_profile_name_search",
            func.search_fold(text("profile_name")).label("profile_name_folded"),
            postgresql_using="gin",
            postgresql_ops={"profile_name_folded": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    profile_name: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(32), server_default=text("'idle'"))
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    bot_paused: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The click-to-WhatsApp ad or post the guest last came from (Meta's `referral` object, plus
    # `received_at`), for the operator: which campaign brought them.
    referral: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class ConversationMessage(Base):
    """The transcript: every message in and out, as the guest saw it, with delivery state for WhatsApp."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        CheckConstraint("direction IN ('in', 'out')", name="direction_known"),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in KINDS)})", name="kind_known"),
        CheckConstraint(
            "delivery_status IS NULL OR delivery_status IN"
            " ('queued', 'sent', 'delivered', 'read', 'failed', 'shown', 'held')",
            name="delivery_status_known",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))
    author: Mapped[str] = mapped_column(String(120))  # guest, bot, operator:<email>
    # What the guest sent (conversation.messages.KINDS); the bot's and operators' messages are text.
    kind: Mapped[str] = mapped_column(String(16), server_default=text("'text'"))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # WhatsApp message id (wamid): inbound ones are unique, so a redelivered webhook does nothing.
    wamid: Mapped[str | None] = mapped_column(String(200), unique=True)
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BotAnswer(TimestampMixin, Base):
    """Operator-editable answers the bot gives to common questions, by topic."""

    __tablename__ = "bot_answers"

    topic: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
