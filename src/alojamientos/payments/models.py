from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from alojamientos.kit.models import Base, TimestampMixin


class Payment(TimestampMixin, Base):
    """One entry of a reservation's money ledger, never deleted nor edited by hand.

    `kind`: "payment" (money in: Mercado Pago, or a transfer or cash the operator recorded),
    "refund" (money given back to the guest) or "reversal" (voids the entry `reverses_id`, with the
    same amount and the opposite effect). `amount` is always positive; the kind gives its sign.
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "provider_id", name="uq_payments_provider_id"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("kind IN ('payment', 'refund', 'reversal')", name="kind_known"),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_names_its_entry"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="SET NULL"), index=True
    )
    provider: Mapped[str] = mapped_column(String(20))  # mercadopago | manual
    provider_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(20))  # mercadopago | transfer | cash | other
    status: Mapped[str] = mapped_column(String(20))
    status_detail: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), server_default=text("'ARS'"))
    counted: Mapped[bool] = mapped_column(server_default=text("false"))  # added to paid_amount
    recorded_by: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), server_default=text("'payment'"))
    # An entry is voided at most once: the unique key makes a second void fail in the database.
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text, server_default=text("''"))  # why a refund or a void
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class ExternalEvent(Base):
    """A provider notification, stored once: a redelivery hits the unique key and does nothing."""

    __tablename__ = "external_events"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_external_events_source_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attachment(Base):
    """A file a guest sent (a transfer receipt), downloaded from WhatsApp and kept with the reservation."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="SET NULL"), index=True
    )
    conversation_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="SET NULL"), unique=True
    )
    media_id: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    caption: Mapped[str] = mapped_column(Text, server_default=text("''"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
