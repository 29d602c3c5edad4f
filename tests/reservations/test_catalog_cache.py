"""A process keeps the units, price settings and seasons a hold reads; what another process changes
(the panel in another worker, an SQL console) is honoured by the very next hold, never a stale price or
a stale refusal. "Another process" here is a plain connection writing the tables, which this process's
memory never sees: only the catalog version, which the booking statement checks."""

from __future__ import annotations

from datetime import timedelta

import httpx
import psycopg

from tests.fixtures.api import create_unit, hold
from tests.fixtures.database import psycopg_url
from tests.payments.test_ledger import plain_weekdays


def elsewhere(clean_db: str, statement: str, *params: object) -> None:
    """`statement`, committed by a connection that is not this process's pool."""
    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        conn.execute(statement, params)  # type: ignore[arg-type]


async def test_a_price_changed_elsewhere_prices_the_next_hold(
    clean_db: str, client: httpx.AsyncClient
) -> None:
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2)
    first = await hold(client, unit["id"], start)  # read and kept
    assert first.status_code == 201, first.text
    assert first.json()["total_amount"] == "100000.00"

    elsewhere(clean_db, "UPDATE accommodations SET base_price = 70000 WHERE id = %s", unit["id"])
    second = await hold(client, unit["id"], start + timedelta(days=7))
    assert second.status_code == 201, second.text
    assert second.json()["total_amount"] == "140000.00"

    elsewhere(clean_db, "UPDATE price_settings SET deposit_percent = 50")
    third = await hold(client, unit["id"], start + timedelta(days=14))
    assert third.status_code == 201, third.text
    assert (third.json()["total_amount"], third.json()["deposit_amount"]) == ("140000.00", "70000.00")


async def test_a_season_added_or_removed_elsewhere_rules_the_next_hold(
    clean_db: str, client: httpx.AsyncClient
) -> None:
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2, after_days=30)
    kept = await hold(client, unit["id"], start - timedelta(days=14))
    assert kept.status_code == 201, kept.text

    elsewhere(
        clean_db,
        "INSERT INTO seasons (name, start_date, end_date, price_per_night, min_nights, yearly)"
        " VALUES ('Fiesta', %s, %s, 90000, 3, false)",
        start,
        start + timedelta(days=10),
    )
    refused = await hold(client, unit["id"], start)  # 2 nights: the new season asks for 3
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "minimum_stay"
    assert refused.json()["error"]["season"] == "Fiesta"

    # Refused on rows this process kept (the season): gone elsewhere, so the hold is taken.
    elsewhere(clean_db, "DELETE FROM seasons")
    taken = await hold(client, unit["id"], start)
    assert taken.status_code == 201, taken.text
    assert taken.json()["total_amount"] == "100000.00"


async def test_a_unit_closed_or_reopened_elsewhere(clean_db: str, client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    start = plain_weekdays(2)
    assert (await hold(client, unit["id"], start)).status_code == 201

    elsewhere(clean_db, "UPDATE accommodations SET active = false WHERE id = %s", unit["id"])
    closed = await hold(client, unit["id"], start + timedelta(days=7))
    assert closed.status_code == 422, closed.text
    assert closed.json()["error"]["code"] == "accommodation_inactive"

    elsewhere(clean_db, "UPDATE accommodations SET active = true WHERE id = %s", unit["id"])
    reopened = await hold(client, unit["id"], start + timedelta(days=7))
    assert reopened.status_code == 201, reopened.text


async def test_an_emptied_catalog_is_never_taken_for_the_kept_one(
    clean_db: str, client: httpx.AsyncClient
) -> None:
    """TRUNCATE ... RESTART IDENTITY gives the next unit the same id: its price is the new unit's."""
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2)
    assert (await hold(client, unit["id"], start)).status_code == 201

    elsewhere(clean_db, "TRUNCATE accommodations, reservations RESTART IDENTITY CASCADE")
    again = await create_unit(client, name="Cabaña Nueva", base_price="65000")
    assert again["id"] == unit["id"]
    response = await hold(client, again["id"], start)
    assert response.status_code == 201, response.text
    assert response.json()["total_amount"] == "130000.00"
