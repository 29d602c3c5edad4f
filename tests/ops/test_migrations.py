"""Migrations applied for real: up, down to base with rows present, up again; schema == models."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool

from alojamientos.config import sqlalchemy_url
from alojamientos.migrations import alembic_config, head_revision
from alojamientos.models import Base
from tests.fixtures.database import psycopg_url


@pytest.fixture
def scratch_db() -> Iterator[str]:
    admin = psycopg_url(os.environ["DATABASE_URL"])
    name = f"aloj_scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _schema_diff(url: str) -> list[object]:
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return list(diff)


def _seed_rows(url: str) -> None:
    with psycopg.connect(url) as conn:
        unit = conn.execute(
            "INSERT INTO accommodations (name, capacity, base_occupancy, base_price)"
            " VALUES ('Cabaña', 4, 2, 50000) RETURNING id"
        ).fetchone()
        assert unit is not None
        conn.execute(
            "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests, guest_name,"
            " status, source, total_amount, deposit_amount)"
            " VALUES ('ABC234', %s, '2027-01-10', '2027-01-12', 2, 'Ana', 'confirmed', 'admin', 1, 1)",
            (unit[0],),
        )
        conn.execute(
            "INSERT INTO seasons (name, start_date, end_date, multiplier)"
            " VALUES ('Alta', '2027-01-01', '2027-03-01', 1.5)"
        )


def test_upgrade_downgrade_upgrade_round_trip_with_rows(scratch_db: str) -> None:
    config = alembic_config(scratch_db)
    command.upgrade(config, "head")
    _seed_rows(scratch_db)
    command.downgrade(config, "base")
    with psycopg.connect(scratch_db) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        ).fetchall()
    assert tables == []
    command.upgrade(config, "head")
    _seed_rows(scratch_db)  # the rebuilt schema takes the same data
    assert _schema_diff(scratch_db) == []
    with psycopg.connect(scratch_db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)


def test_the_exclusion_constraint_is_in_the_database(scratch_db: str) -> None:
    command.upgrade(alembic_config(scratch_db), "head")
    with psycopg.connect(scratch_db) as conn:
        definition = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conname = 'reservations_no_overlap' AND contype = 'x'"
        ).fetchone()
        assert definition is not None
        assert "EXCLUDE USING gist (accommodation_id WITH =, period WITH &&)" in definition[0]
        assert "pre_reserved" in definition[0] and "confirmed" in definition[0]
        _seed_rows(scratch_db)
        # Raw SQL, bypassing the application entirely: PostgreSQL itself refuses the overlap.
        with pytest.raises(psycopg.errors.ExclusionViolation):
            conn.execute(
                "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests,"
                " guest_name, status, source, total_amount, deposit_amount)"
                " SELECT 'XYZ234', id, '2027-01-11', '2027-01-13', 2, 'Beto', 'pre_reserved',"
                " 'admin', 1, 1 FROM accommodations"
            )
        conn.rollback()
        conn.execute(  # back-to-back is fine, and so is an overlap that is already cancelled
            "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests,"
            " guest_name, status, source, total_amount, deposit_amount)"
            " SELECT c, id, ci::date, co::date, 2, 'Beto', s, 'admin', 1, 1 FROM accommodations,"
            " (VALUES ('XYZ235', '2027-01-12', '2027-01-14', 'confirmed'),"
            "         ('XYZ236', '2027-01-09', '2027-01-13', 'cancelled')) v(c, ci, co, s)"
        )


def test_models_declare_the_exclusion_constraint() -> None:
    table = Base.metadata.tables["reservations"]
    names = {c.name for c in table.constraints}
    assert "reservations_no_overlap" in names
