"""The catalog-version migration (0015) down and up again, with rows present."""

from __future__ import annotations

import psycopg
from alembic import command

from alojamientos.migrations import alembic_config
from tests.ops.test_migrations import _schema_diff, _seed_rows, scratch_db  # noqa: F401 - fixture


def _version(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT coalesce((SELECT version FROM catalog_versions WHERE id = 1), 0)"
        ).fetchone()
    assert row is not None
    return int(row[0])


def _bump(url: str, statement: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)
    return _version(url)


def test_catalog_version_down_and_up_never_repeats_a_version(scratch_db: str) -> None:  # noqa: F811
    config = alembic_config(scratch_db)
    command.upgrade(config, "head")
    _seed_rows(scratch_db)
    seen = [_version(scratch_db)]
    seen.append(_bump(scratch_db, "UPDATE accommodations SET base_price = 60000"))
    seen.append(_bump(scratch_db, "UPDATE price_settings SET deposit_percent = 40"))
    seen.append(_bump(scratch_db, "DELETE FROM seasons"))
    seen.append(_bump(scratch_db, "TRUNCATE seasons"))
    assert len(set(seen)) == len(seen), seen

    command.downgrade(config, "-1")
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        conn.execute("UPDATE accommodations SET base_price = 70000")  # no trigger while down
        assert conn.execute("SELECT to_regclass('catalog_versions')").fetchone() == (None,)
    command.upgrade(config, "head")
    assert _schema_diff(scratch_db) == []
    after = [_bump(scratch_db, "UPDATE accommodations SET base_price = 80000")]
    after.append(
        _bump(
            scratch_db,
            "INSERT INTO seasons (name, start_date, end_date, multiplier)"
            " VALUES ('B', '2027-05-01', '2027-06-01', 1.2)",
        )
    )
    assert all(v > max(seen) for v in after), (seen, after)
    assert len(set(after)) == len(after)


def test_an_upgrade_after_a_downgrade_starts_at_a_new_version(scratch_db: str) -> None:  # noqa: F811
    """An edit made while the migration was rolled back bumps nothing: the upgrade's own first version
    must still differ from every one read before, or a process that kept rows would take them for
    current."""
    config = alembic_config(scratch_db)
    command.upgrade(config, "head")
    first = _version(scratch_db)
    _bump(scratch_db, "UPDATE accommodations SET base_price = 60000")
    command.downgrade(config, "-1")
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        conn.execute("UPDATE price_settings SET deposit_percent = 45")
    command.upgrade(config, "head")
    assert _version(scratch_db) != first, first
