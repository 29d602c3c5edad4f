"""A version of what a quote reads (units, price settings, seasons), bumped by statement triggers, so a
process may keep those rows in memory and the statement that books checks they are still current.

Revision ID: 0015_catalog_version
Revises: 0014_deploy_steps
Create Date: 2026-11-30 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_catalog_version"
down_revision: str | None = "0014_deploy_steps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Set to True when downgrade() cannot restore what upgrade() changed: `rollback` refuses to cross it.
irreversible = False
# Reviewed: a new table, sequence and function, and AFTER ... FOR EACH STATEMENT triggers that only
# write that new table; the running release's writes to the three tables keep working unchanged.
zero_downtime_safe = "the triggers only bump a new table's counter; nothing the running release does fails"

TABLES = ("accommodations", "price_settings", "seasons")


def upgrade() -> None:
    # A standalone sequence (owned by no column), so TRUNCATE ... RESTART IDENTITY never rewinds it,
    # starting at the clock in microseconds, so one dropped and created again (a downgrade, then an
    # upgrade) starts past every version it gave before: a process never sees a version twice.
    op.execute(
        "DO $$ BEGIN EXECUTE format('CREATE SEQUENCE catalog_version_seq START WITH %s',"
        " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint); END $$"
    )
    op.create_table(
        "catalog_versions",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalog_versions_singleton")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_versions")),
    )
    # A first version of its own, so a database upgraded again after a downgrade never reads one it
    # read before (no row would read as 0, as it did the first time).
    op.execute("INSERT INTO catalog_versions (id, version) VALUES (1, nextval('catalog_version_seq'))")
    op.execute(
        """
        CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO catalog_versions (id, version) VALUES (1, nextval('catalog_version_seq'))
            ON CONFLICT (id) DO UPDATE SET version = excluded.version;
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_bump_catalog_version AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_bump_catalog_version_truncate AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_bump_catalog_version_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_bump_catalog_version ON {table}")
    op.execute("DROP FUNCTION bump_catalog_version()")
    op.drop_table("catalog_versions")
    op.execute("DROP SEQUENCE catalog_version_seq")
