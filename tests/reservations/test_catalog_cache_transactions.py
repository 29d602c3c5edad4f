"""The per-process catalog cache (`quotes.booking_facts`) and the one-statement hold, against what
callers do around them: holds inside longer transactions (the WhatsApp conversation, the panel) that
read the unit or the settings earlier, edits in the same transaction, rollbacks, concurrent holds
while prices change, and confirm/cancel one statement at a time."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from decimal import Decimal

import httpx
import psycopg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alojamientos.db import Database
from alojamientos.pricing.models import PriceSettings
from alojamientos.pricing.service import pricing
from alojamientos.reservations import holds
from alojamientos.reservations.models import Accommodation, Reservation, ReservationSource
from alojamientos.reservations.types import NewStay
from tests.fixtures.api import create_unit, hold
from tests.fixtures.database import psycopg_url
from tests.payments.test_ledger import plain_weekdays
from tests.reservations.test_catalog_cache import elsewhere


async def _hold_two_nights(
    session: AsyncSession, unit_id: int, start: date, *, whatsapp: bool = False
) -> Reservation:
    """`holds.hold` inside the caller's transaction, as the conversation (`whatsapp`) or the panel do."""
    return await holds.hold(
        session,
        NewStay(
            accommodation_id=unit_id,
            check_in=start,
            check_out=start + timedelta(days=2),
            guests=2,
            guest_name="Lucía",
            guest_phone="+5492944555555" if whatsapp else None,
            **({"source": ReservationSource.whatsapp} if whatsapp else {}),
        ),
        actor="guest:whatsapp" if whatsapp else "operator:x",
    )


async def _wait_for_lock_wait(clean_db: str, like: str) -> None:
    """Until a backend runs a statement matching `like` and waits on a heavyweight lock."""
    deadline = time.monotonic() + 10
    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
                (like,),
            ).fetchone()
            if waiting and waiting[0]:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"no statement like {like!r} ever waited for a lock")


async def test_a_price_changed_while_a_hold_books_is_not_kept_as_the_new_catalog(
    clean_db: str, client: httpx.AsyncClient
) -> None:
    """The hold reads the unit (50000), then the operator's edit (70000) commits before the booking
    statement runs: the statement answers `stale`, and the hold reads and prices again (140000), and so
    does the next one. Passes today only because nothing in the API request holds a strong reference
    to the first read's ORM rows: the session's identity map (weak) drops them, so the second read
    loads fresh values. If anything kept them (see the two tests below for the transaction paths that
    do), the second read would return the old unit next to the new version."""
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2)
    # A fresh unit is not kept: the hold reads it. Its INSERT waits for this lock, so the edit lands
    # between the hold's read and its write.
    with psycopg.connect(psycopg_url(clean_db)) as locker:
        locker.execute("LOCK TABLE reservations IN ACCESS EXCLUSIVE MODE")
        pending = asyncio.create_task(hold(client, unit["id"], start))
        await _wait_for_lock_wait(clean_db, "%INSERT INTO reservations%")
        elsewhere(clean_db, "UPDATE accommodations SET base_price = 70000 WHERE id = %s", unit["id"])
        locker.commit()
    first = await pending
    assert first.status_code == 201, first.text
    later = await hold(client, unit["id"], start + timedelta(days=7))
    assert later.status_code == 201, later.text
    # The later hold started after the edit committed: it must be 140000. The first one was priced
    # again after the write saw the new version, so it should be 140000 too.
    assert (first.json()["total_amount"], later.json()["total_amount"]) == ("140000.00", "140000.00")


async def test_a_transaction_that_read_the_unit_before_an_edit_does_not_poison_the_cache(
    clean_db: str, client: httpx.AsyncClient, db: Database
) -> None:
    """The WhatsApp path (conversation/engine/holding.py) and the panel call `holds.hold` inside a
    transaction that already loaded the unit. An edit committed in between must not be kept as the old
    unit under the new version (the session's identity map still holds the old row), or the next API
    hold, which started after the edit committed, would get the old price."""
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2)
    async with db.session_scope() as session:
        # What conversation/engine/holding.py does: `unit = await repository.accommodation(...)`,
        # kept in a local for the reply after the hold (the identity map only holds weak references).
        loaded = await session.get(Accommodation, unit["id"])
        elsewhere(clean_db, "UPDATE accommodations SET base_price = 70000 WHERE id = %s", unit["id"])
        await _hold_two_nights(session, unit["id"], start, whatsapp=True)
        assert loaded is not None
    later = await hold(client, unit["id"], start + timedelta(days=7))
    assert later.status_code == 201, later.text
    assert later.json()["total_amount"] == "140000.00"


async def test_settings_read_earlier_in_the_transaction_do_not_poison_the_cache(
    clean_db: str, client: httpx.AsyncClient, db: Database
) -> None:
    """Same with the price settings: the conversation reads them (`pricing.settings`, kept for the
    session's life) before it holds; a deposit change committed in between must be the one kept."""
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2)
    async with db.session_scope() as session:
        # What every conversation turn does first (conversation/engine/__init__.py: `policy = await
        # pricing.settings(session)`, kept in the turn's context and the session's info).
        await pricing.settings(session)
        elsewhere(clean_db, "UPDATE price_settings SET deposit_percent = 50")
        await _hold_two_nights(session, unit["id"], start, whatsapp=True)
    later = await hold(client, unit["id"], start + timedelta(days=7))
    assert later.status_code == 201, later.text
    assert (later.json()["total_amount"], later.json()["deposit_amount"]) == ("100000.00", "50000.00")


async def test_a_discount_past_the_kept_list_total_is_decided_on_fresh_rows(
    clean_db: str, client: httpx.AsyncClient
) -> None:
    """An agreed discount is checked against the list total like any rule: refused on kept rows, it
    is decided again on fresh ones (the kept rows price the stay at 100000, the current ones at 140000)."""
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2)
    assert (await hold(client, unit["id"], start)).status_code == 201  # read and kept
    elsewhere(clean_db, "UPDATE accommodations SET base_price = 70000 WHERE id = %s", unit["id"])
    agreed = await hold(
        client,
        unit["id"],
        start + timedelta(days=7),
        agreed_price={"reason": "cliente frecuente", "discount_amount": "120000"},
    )
    assert agreed.status_code == 201, agreed.text
    assert (agreed.json()["total_amount"], agreed.json()["list_amount"]) == ("20000.00", "140000.00")


async def test_an_edit_and_a_hold_in_one_transaction_then_rolled_back(
    clean_db: str, client: httpx.AsyncClient, db: Database
) -> None:
    """The panel edits a unit and holds in the same transaction, which then rolls back: the hold saw
    the edit, and nobody else ever prices with it."""
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2)
    session_cm = db.sessions()
    async with session_cm as session:
        async with session.begin() as tx:
            row = await session.get(Accommodation, unit["id"])
            assert row is not None
            row.base_price = Decimal("90000")
            made = await _hold_two_nights(session, unit["id"], start)
            assert made.total_amount == Decimal("180000.00")
            await tx.rollback()
    after = await hold(client, unit["id"], start)
    assert after.status_code == 201, after.text
    assert after.json()["total_amount"] == "100000.00"


async def test_an_edit_in_the_same_transaction_after_a_kept_hold(
    clean_db: str, client: httpx.AsyncClient, db: Database
) -> None:
    """Kept rows, then an unflushed edit in the hold's own transaction: the booking statement flushes
    it, sees the new version and prices again with the edit."""
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2)
    assert (await hold(client, unit["id"], start)).status_code == 201  # kept
    async with db.session_scope() as session:
        policy = await session.scalar(select(PriceSettings).where(PriceSettings.id == 1))
        assert policy is not None
        policy.deposit_percent = Decimal("40")
        made = await _hold_two_nights(session, unit["id"], start + timedelta(days=7))
        assert made.deposit_amount == Decimal("40000.00")
    later = await hold(client, unit["id"], start + timedelta(days=14))
    assert later.json()["deposit_amount"] == "40000.00", later.text


async def test_api_edits_of_rules_and_seasons_rule_the_next_hold(
    clean_db: str, client: httpx.AsyncClient
) -> None:
    unit = await create_unit(client, base_price="50000")
    start = plain_weekdays(2, after_days=40)
    assert (await hold(client, unit["id"], start - timedelta(days=21))).status_code == 201  # kept
    rules = (await client.get("/api/v1/settings/pricing")).json()
    changed = await client.put("/api/v1/settings/pricing", json={**rules, "deposit_percent": "25"})
    assert changed.status_code == 200, changed.text
    first = await hold(client, unit["id"], start - timedelta(days=14))
    assert first.json()["deposit_amount"] == "25000.00", first.text

    season = await client.post(
        "/api/v1/seasons",
        json={
            "name": "Alta",
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=12)).isoformat(),
            "price_per_night": "80000",
            "accommodation_id": unit["id"],
        },
    )
    assert season.status_code == 201, season.text
    priced = await hold(client, unit["id"], start)
    assert priced.json()["total_amount"] == "160000.00", priced.text

    moved = await client.put(
        f"/api/v1/seasons/{season.json()['id']}",
        json={
            "name": "Alta",
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=12)).isoformat(),
            "price_per_night": "80000",
            "min_nights": 4,
            "accommodation_id": unit["id"],
        },
    )
    assert moved.status_code == 200, moved.text
    refused = await hold(client, unit["id"], start + timedelta(days=7))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "minimum_stay", refused.text
    assert (await client.delete(f"/api/v1/seasons/{season.json()['id']}")).status_code == 204
    taken = await hold(client, unit["id"], start + timedelta(days=7))
    assert taken.status_code == 201, taken.text
    assert taken.json()["total_amount"] == "100000.00"


async def test_a_deleted_unit_or_settings_row_after_being_kept(
    clean_db: str, client: httpx.AsyncClient
) -> None:
    unit = await create_unit(client, base_price="50000")
    other = await create_unit(client, name="Otra", base_price="50000")
    start = plain_weekdays(2)
    assert (await hold(client, unit["id"], start)).status_code == 201
    assert (await hold(client, other["id"], start)).status_code == 201
    elsewhere(clean_db, "DELETE FROM price_settings")
    again = await hold(client, unit["id"], start + timedelta(days=7))
    assert again.status_code == 201, again.text  # settings recreated with their defaults
    elsewhere(clean_db, "DELETE FROM reservations WHERE accommodation_id = %s", other["id"])
    elsewhere(clean_db, "DELETE FROM accommodations WHERE id = %s", other["id"])
    gone = await hold(client, other["id"], start + timedelta(days=7))
    assert gone.status_code == 404, gone.text


async def test_capacity_and_base_occupancy_changed_elsewhere(
    clean_db: str, client: httpx.AsyncClient
) -> None:
    unit = await create_unit(client, base_price="50000", capacity=4)
    start = plain_weekdays(2)
    assert (await hold(client, unit["id"], start)).status_code == 201
    elsewhere(clean_db, "UPDATE accommodations SET capacity = 2 WHERE id = %s", unit["id"])
    refused = await hold(client, unit["id"], start + timedelta(days=7), guests=3)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "too_many_guests", refused.text
    elsewhere(clean_db, "UPDATE accommodations SET capacity = 6 WHERE id = %s", unit["id"])
    taken = await hold(client, unit["id"], start + timedelta(days=7), guests=5)
    assert taken.status_code == 201, taken.text


async def test_concurrent_holds_while_prices_change(clean_db: str, client: httpx.AsyncClient) -> None:
    """Every hold that starts after an edit committed is priced with it."""
    units = [await create_unit(client, name=f"U{n}", base_price="50000") for n in range(3)]
    start = plain_weekdays(2)
    for unit in units:
        assert (await hold(client, unit["id"], start)).status_code == 201
    for round_, price in enumerate(("60000", "70000", "80000"), start=1):
        elsewhere(clean_db, "UPDATE accommodations SET base_price = %s", Decimal(price))
        answers = await asyncio.gather(
            *(hold(client, u["id"], start + timedelta(days=7 * round_)) for u in units),
            *(hold(client, u["id"], start + timedelta(days=7 * round_), guests=1) for u in units),
        )
        created = [a for a in answers if a.status_code == 201]
        assert len(created) == len(units), [a.text for a in answers]
        assert {a.status_code for a in answers} == {201, 409}
        assert {a.json()["total_amount"] for a in created} == {str(Decimal(price) * 2) + ".00"}


async def test_confirm_cancel_in_autocommit(clean_db: str, client: httpx.AsyncClient) -> None:
    unit = await create_unit(client)
    start = plain_weekdays(2)
    made = (await hold(client, unit["id"], start)).json()
    code = made["code"]
    assert (await client.post("/api/v1/reservations/NOPE1234/confirm")).status_code == 404
    assert (await client.post("/api/v1/reservations/NOPE1234/cancel")).status_code == 404
    both = await asyncio.gather(*(client.post(f"/api/v1/reservations/{code}/confirm") for _ in range(4)))
    assert sorted(a.status_code for a in both) == [200, 409, 409, 409], [a.text for a in both]
    again = await client.post(f"/api/v1/reservations/{code}/confirm")
    assert again.status_code == 409
    cancels = await asyncio.gather(
        *(client.post(f"/api/v1/reservations/{code}/cancel", json={"reason": "x"}) for _ in range(3))
    )
    assert sorted(a.status_code for a in cancels) == [200, 409, 409]
    detail = (await client.get(f"/api/v1/reservations/{code}")).json()
    assert [e["to_status"] for e in detail["events"]] == ["pre_reserved", "confirmed", "cancelled"]
    # The nights are free again, the session still usable after refusals in autocommit.
    assert (await hold(client, unit["id"], start)).status_code == 201
