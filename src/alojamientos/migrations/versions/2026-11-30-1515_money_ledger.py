"""Money ledger and agreed prices: payment entries have a kind (payment, refund, reversal) and a
reason, a reversal names the entry it voids (once); a reservation keeps why its price was agreed
and what the price list asked.

Downgrading drops refunds and reversals from the ledger's shape (their rows go, the payments they
voided stay) and the agreed-price reasons; `paid_amount` on each reservation keeps the net figure.

Revision ID: 0009_money_ledger
Revises: 0008_ical_skipped_events
Create Date: 2026-11-30 15:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_money_ledger"
down_revision: str | None = "0008_ical_skipped_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Set to True when downgrade() cannot restore what upgrade() changed: `rollback` refuses to cross it.
irreversible = False


def upgrade() -> None:
    op.add_column(
        "payments",
        sa.Column("kind", sa.String(length=10), server_default=sa.text("'payment'"), nullable=False),
    )
    op.add_column("payments", sa.Column("reverses_id", sa.BigInteger(), nullable=True))
    op.add_column("payments", sa.Column("reason", sa.Text(), server_default=sa.text("''"), nullable=False))
    op.create_foreign_key(
        op.f("fk_payments_reverses_id_payments"),
        "payments",
        "payments",
        ["reverses_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_unique_constraint(op.f("uq_payments_reverses_id"), "payments", ["reverses_id"])
    op.create_check_constraint(
        op.f("ck_payments_kind_known"), "payments", "kind IN ('payment', 'refund', 'reversal')"
    )
    op.create_check_constraint(
        op.f("ck_payments_reversal_names_its_entry"),
        "payments",
        "(kind = 'reversal') = (reverses_id IS NOT NULL)",
    )
    op.add_column("reservations", sa.Column("price_reason", sa.Text(), nullable=True))
    op.add_column("reservations", sa.Column("list_amount", sa.Numeric(precision=12, scale=2), nullable=True))


def downgrade() -> None:
    op.drop_column("reservations", "list_amount")
    op.drop_column("reservations", "price_reason")
    op.drop_constraint(op.f("ck_payments_reversal_names_its_entry"), "payments", type_="check")
    op.drop_constraint(op.f("ck_payments_kind_known"), "payments", type_="check")
    op.drop_constraint(op.f("uq_payments_reverses_id"), "payments", type_="unique")
    op.drop_constraint(op.f("fk_payments_reverses_id_payments"), "payments", type_="foreignkey")
    op.execute("DELETE FROM payments WHERE kind <> 'payment'")
    op.drop_column("payments", "reason")
    op.drop_column("payments", "reverses_id")
    op.drop_column("payments", "kind")
