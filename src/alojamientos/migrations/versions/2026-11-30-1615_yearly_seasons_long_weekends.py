"""Yearly seasons and the long-weekend minimum stay.

A season is now dated (`start_date`/`end_date`, as before: existing rows keep them) or yearly
(`yearly` with first and last night as month and day, both included, crossing New Year when the last
comes first). `price_settings` gains the nights a stay touching a long weekend needs: a number, or
the whole run.

Downgrading cannot express a yearly season as one dated row: each yearly season becomes dated rows
for its occurrences starting last year, this year and next year (same name, price and minimum), so
quotes stay right until the operator re-enters it; dated seasons are kept as they are.

Revision ID: 0013_yearly_seasons
Revises: 0012_search_complex_name
Create Date: 2026-11-30 15:40:00.000000
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0013_yearly_seasons"
down_revision: str | None = "0012_search_complex_name"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Set to True when downgrade() cannot restore what upgrade() changed: `rollback` refuses to cross it.
irreversible = False

DATED_OR_YEARLY = (
    "(not yearly and start_date is not null and end_date is not null"
    " and num_nulls(first_month, first_day, last_month, last_day) = 4)"
    " or (yearly and start_date is null and end_date is null"
    " and num_nonnulls(first_month, first_day, last_month, last_day) = 4)"
)
YEARLY_BOUNDS = (
    "first_month between 1 and 12 and last_month between 1 and 12"
    " and first_day between 1 and 31 and last_day between 1 and 31"
)


def upgrade() -> None:
    op.add_column(
        "seasons", sa.Column("yearly", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    for column in ("first_month", "first_day", "last_month", "last_day"):
        op.add_column("seasons", sa.Column(column, sa.SmallInteger(), nullable=True))
    op.alter_column("seasons", "start_date", nullable=True)
    op.alter_column("seasons", "end_date", nullable=True)
    op.create_check_constraint(op.f("ck_seasons_dated_or_yearly"), "seasons", DATED_OR_YEARLY)
    op.create_check_constraint(op.f("ck_seasons_yearly_bounds_valid"), "seasons", YEARLY_BOUNDS)
    op.add_column("price_settings", sa.Column("long_weekend_min_nights", sa.Integer(), nullable=True))
    op.add_column(
        "price_settings",
        sa.Column("long_weekend_whole_run", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_price_settings_long_weekend_min_nights_positive"),
        "price_settings",
        "long_weekend_min_nights is null or long_weekend_min_nights >= 1",
    )


def _day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _dated_occurrences() -> None:
    """Each yearly season as dated rows `[first, last + 1 day)` for last, this and next year's run."""
    bind = op.get_bind()
    this_year = bind.execute(sa.text("SELECT extract(year FROM current_date)::int")).scalar_one()
    rows = bind.execute(
        sa.text(
            "SELECT name, accommodation_id, price_per_night, multiplier, min_nights,"
            " first_month, first_day, last_month, last_day FROM seasons WHERE yearly"
        )
    ).mappings()
    insert = sa.text(
        "INSERT INTO seasons (name, accommodation_id, start_date, end_date, price_per_night, multiplier,"
        " min_nights, yearly) VALUES (:name, :unit, :start, :end, :price, :multiplier, :min_nights, false)"
    )
    for row in list(rows):
        crosses = (row["last_month"], row["last_day"]) < (row["first_month"], row["first_day"])
        for year in (this_year - 1, this_year, this_year + 1):  # last year's may still be running
            first = _day(year, row["first_month"], row["first_day"])
            last = _day(year + 1 if crosses else year, row["last_month"], row["last_day"])
            bind.execute(
                insert,
                {
                    "name": row["name"],
                    "unit": row["accommodation_id"],
                    "start": first,
                    "end": last + timedelta(days=1),
                    "price": row["price_per_night"],
                    "multiplier": row["multiplier"],
                    "min_nights": row["min_nights"],
                },
            )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_price_settings_long_weekend_min_nights_positive"), "price_settings", type_="check"
    )
    op.drop_column("price_settings", "long_weekend_whole_run")
    op.drop_column("price_settings", "long_weekend_min_nights")
    _dated_occurrences()
    op.execute("DELETE FROM seasons WHERE yearly")
    op.drop_constraint(op.f("ck_seasons_yearly_bounds_valid"), "seasons", type_="check")
    op.drop_constraint(op.f("ck_seasons_dated_or_yearly"), "seasons", type_="check")
    op.alter_column("seasons", "end_date", nullable=False)
    op.alter_column("seasons", "start_date", nullable=False)
    for column in ("last_day", "last_month", "first_day", "first_month", "yearly"):
        op.drop_column("seasons", column)
