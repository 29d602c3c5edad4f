"""Accent- and case-free search by name (`Perez` finds `Pérez`, indexed); a proper default name for
the complex.

`unaccent()` is only STABLE (its dictionary could change), so it cannot appear in an index; the
IMMUTABLE wrapper `search_fold(text)` (lower-cased, accents removed, with the dictionary named
explicitly) can, as PostgreSQL's documentation of the unaccent module suggests. Trigram GIN indexes
over `search_fold(...)` serve `LIKE '%…%'` on reservations' guest names and conversations' profile
names.

The complex's default name was the placeholder "las cabañas" (guests read "Soy el asistente de
reservas de las cabañas"); it becomes a proper name, and rows still holding the placeholder take it.

Downgrading drops the indexes and the function and puts the placeholder back where the new default
was never changed; the extensions stay (they hold no data and other
schemas in this database may use them, like btree_gist in 0001).

Revision ID: 0012_search_complex_name
Revises: 0011_stay_limits
Create Date: 2026-11-30 15:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_search_complex_name"
down_revision: str | None = "0011_stay_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Set to True when downgrade() cannot restore what upgrade() changed: `rollback` refuses to cross it.
irreversible = False

PLACEHOLDER = "las cabañas"
COMPLEX_NAME = "Cabañas Los Alerces"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # A SQL-standard body is bound when created, so the function does not depend on search_path.
    op.execute(
        "CREATE FUNCTION search_fold(value text) RETURNS text"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
        " RETURN lower(public.unaccent('public.unaccent'::regdictionary, value))"
    )
    op.execute(
        "CREATE INDEX ix_reservations_guest_name_search ON reservations"
        " USING gin (search_fold(guest_name) gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_conversations_profile_name_search ON conversations"
        " USING gin (search_fold(profile_name) gin_trgm_ops)"
    )
    _rename_default(PLACEHOLDER, COMPLEX_NAME)


def _rename_default(old: str, new: str) -> None:
    op.alter_column("price_settings", "complex_name", server_default=sa.text(f"'{new}'"))
    op.execute(
        sa.text("UPDATE price_settings SET complex_name = :new WHERE complex_name = :old").bindparams(
            new=new, old=old
        )
    )


def downgrade() -> None:
    _rename_default(COMPLEX_NAME, PLACEHOLDER)
    op.drop_index("ix_conversations_profile_name_search", table_name="conversations")
    op.drop_index("ix_reservations_guest_name_search", table_name="reservations")
    op.execute("DROP FUNCTION search_fold(text)")
