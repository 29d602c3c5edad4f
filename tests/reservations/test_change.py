"""Changing a stay (unit, dates, party) and correcting the guest: same reservation, re-quoted,
PostgreSQL still deciding overlaps; and two moves racing for the same nights."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from alojamientos.db import Database
from alojamientos.jobs.models import Job
from alojamientos.payments.service import payments
from alojamientos.reservations import changes, holds, quotes, repository, units
from alojamientos.reservations.errors import (
    AccommodationInactive,
    DatesUnavailable,
    InvalidGuest,
    InvalidTransition,
    NothingChanged,
    PastDates,
    ReservationNotFound,
    TooManyGuests,
    WrongKind,
)
from alojamientos.reservations.events import GUEST_UPDATED, NOTIFY, STAY_CHANGED
from alojamientos.reservations.models import ReservationEvent
from alojamientos.reservations.types import NewBlock, UnitFields
from tests.fixtures.api import create_unit, hold, today_ar

ACTOR = "operator:operadora@example.com"


def _later(days: int) -> date:
    return today_ar() + timedelta(days=days)


async def _book(client: httpx.AsyncClient, unit_id: int, start: date, **overrides: Any) -> dict[str, Any]:
    response = await hold(client, unit_id, start, **overrides)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _move(db: Database, code: str, unit_id: int, start: date, nights: int = 2, guests: int = 2) -> Any:
    async with db.session_scope() as session:
        return await changes.change_stay(
            session,
            code,
            accommodation_id=unit_id,
            check_in=start,
            check_out=start + timedelta(days=nights),
            guests=guests,
            actor=ACTOR,
        )


async def _expected_total(db: Database, unit_id: int, start: date, nights: int, guests: int) -> Decimal:
    async with db.session_scope() as session:
        unit = await repository.accommodation(session, unit_id)
        quote = await quotes.checked_quote(session, unit, start, start + timedelta(days=nights), guests)
        return quote.total


async def _notify_jobs(db: Database) -> int:
    async with db.session_scope() as session:
        return await session.scalar(select(func.count()).select_from(Job).where(Job.kind == NOTIFY)) or 0


async def test_a_confirmed_stay_moves_to_another_unit_and_dates_keeping_what_was_paid(
    client: httpx.AsyncClient, db: Database
) -> None:
    bosque = await create_unit(client, name="Bosque")
    lago = await create_unit(client, name="Lago", capacity=6, base_price="80000")
    booked = await _book(client, bosque["id"], _later(20), status="confirmed")
    async with db.session_scope() as session:
        await payments.record_manual(
            session, booked["code"], amount=Decimal("30000"), method="cash", actor=ACTOR
        )
    jobs_before = await _notify_jobs(db)

    moved = await _move(db, booked["code"], lago["id"], _later(30), nights=3, guests=5)

    expected = await _expected_total(db, lago["id"], _later(30), 3, 5)
    detail = (await client.get(f"/api/v1/reservations/{booked['code']}")).json()
    assert moved.code == booked["code"]
    assert (detail["accommodation_id"], detail["check_in"], detail["check_out"], detail["guests"]) == (
        lago["id"],
        _later(30).isoformat(),
        _later(33).isoformat(),
        5,
    )
    assert Decimal(detail["total_amount"]) == expected != Decimal(booked["total_amount"])
    assert Decimal(detail["paid_amount"]) == Decimal("30000")
    assert detail["status"] == "confirmed"
    event = detail["events"][-1]
    assert (event["from_status"], event["to_status"], event["reason"], event["actor"]) == (
        "confirmed",
        "confirmed",
        STAY_CHANGED,
        ACTOR,
    )
    assert event["data"]["before"] == {
        "accommodation_id": bosque["id"],
        "unit": "Bosque",
        "check_in": _later(20).isoformat(),
        "check_out": _later(22).isoformat(),
        "guests": 2,
        "total": booked["total_amount"],
        "deposit": booked["deposit_amount"],
        "price_reason": None,
    }
    assert event["data"]["after"]["unit"] == "Lago"
    assert Decimal(event["data"]["after"]["total"]) == expected
    assert await _notify_jobs(db) == jobs_before + 1  # the guest is told, by notifications.tasks
    # The old nights are free again; the new ones are taken.
    assert (await hold(client, bosque["id"], _later(20))).status_code == 201
    assert (await hold(client, lago["id"], _later(31))).status_code == 409


async def test_a_hold_keeps_its_expiry_and_may_move_onto_part_of_its_own_nights(
    client: httpx.AsyncClient, db: Database
) -> None:
    unit = await create_unit(client)
    booked = await _book(client, unit["id"], _later(20), nights=3)
    await _move(db, booked["code"], unit["id"], _later(21), nights=3)  # overlaps only itself
    detail = (await client.get(f"/api/v1/reservations/{booked['code']}")).json()
    assert detail["status"] == "pre_reserved"
    assert detail["expires_at"] == booked["expires_at"]
    assert detail["check_in"] == _later(21).isoformat()


async def test_moving_onto_another_stays_nights_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    unit = await create_unit(client)
    ana = await _book(client, unit["id"], _later(20))
    bruno = await _book(client, unit["id"], _later(30), guest_name="Bruno Díaz", status="confirmed")
    jobs_before = await _notify_jobs(db)
    with pytest.raises(DatesUnavailable) as refused:
        await _move(db, ana["code"], unit["id"], _later(29), nights=3)
    # It names the stay it collided with, never the one being moved.
    assert refused.value.details["conflict"] == {
        "code": bruno["code"],
        "kind": "stay",
        "check_in": bruno["check_in"],
        "check_out": bruno["check_out"],
    }
    detail = (await client.get(f"/api/v1/reservations/{ana['code']}")).json()
    assert (detail["check_in"], detail["check_out"]) == (ana["check_in"], ana["check_out"])
    assert [e["reason"] for e in detail["events"]] == [None]
    assert await _notify_jobs(db) == jobs_before


async def test_refusals_say_why(client: httpx.AsyncClient, db: Database) -> None:
    unit = await create_unit(client)
    closed = await create_unit(client, name="Cerrada")
    async with db.session_scope() as session:
        await units.update_accommodation(session, closed["id"], UnitFields(active=False))
    booked = await _book(client, unit["id"], _later(20))
    with pytest.raises(NothingChanged):
        await _move(db, booked["code"], unit["id"], _later(20))
    with pytest.raises(TooManyGuests):
        await _move(db, booked["code"], unit["id"], _later(20), guests=9)
    with pytest.raises(PastDates):
        await _move(db, booked["code"], unit["id"], _later(-1))
    with pytest.raises(AccommodationInactive):
        await _move(db, booked["code"], closed["id"], _later(20))
    with pytest.raises(ReservationNotFound):
        await _move(db, "ZZZ999", unit["id"], _later(20))
    async with db.session_scope() as session:
        block = await holds.block(
            session,
            NewBlock(
                accommodation_id=unit["id"], check_in=_later(40), check_out=_later(42), reason="Pintura"
            ),
            actor=ACTOR,
        )
    with pytest.raises(WrongKind):
        await _move(db, block.code, unit["id"], _later(44))
    cancelled = await _book(client, unit["id"], _later(50))
    (await client.post(f"/api/v1/reservations/{cancelled['code']}/cancel")).raise_for_status()
    with pytest.raises(InvalidTransition):
        await _move(db, cancelled["code"], unit["id"], _later(60))
    detail = (await client.get(f"/api/v1/reservations/{booked['code']}")).json()
    assert len(detail["events"]) == 1


async def test_correcting_the_guest_records_it_and_tells_nobody(
    client: httpx.AsyncClient, db: Database
) -> None:
    unit = await create_unit(client)
    booked = await _book(client, unit["id"], _later(20), guest_email="ana@example.com")
    jobs_before = await _notify_jobs(db)
    async with db.session_scope() as session:
        await changes.update_guest(
            session,
            booked["code"],
            name="  Ana  María Pérez ",
            phone="+5493514447788",
            email="",
            actor=ACTOR,
        )
    detail = (await client.get(f"/api/v1/reservations/{booked['code']}")).json()
    assert (detail["guest_name"], detail["guest_phone"], detail["guest_email"]) == (
        "Ana María Pérez",
        "+5493514447788",
        None,
    )
    event = detail["events"][-1]
    assert (event["from_status"], event["to_status"], event["reason"]) == (
        "pre_reserved",
        "pre_reserved",
        GUEST_UPDATED,
    )
    assert event["data"]["before"]["email"] == "ana@example.com"
    assert event["data"]["after"] == {"name": "Ana María Pérez", "phone": "+5493514447788", "email": None}
    assert await _notify_jobs(db) == jobs_before

    async with db.session_scope() as session:
        with pytest.raises(NothingChanged):
            await changes.update_guest(
                session,
                booked["code"],
                name="Ana María Pérez",
                phone="+5493514447788",
                email=None,
                actor=ACTOR,
            )
    for name, email in (("", None), ("Ana", "no-es-un-mail")):
        async with db.session_scope() as session:
            with pytest.raises(InvalidGuest):
                await changes.update_guest(
                    session, booked["code"], name=name, phone=None, email=email, actor=ACTOR
                )


# --- races ---------------------------------------------------------------------------------------


async def test_a_move_waits_for_a_concurrent_move_onto_the_same_nights_and_loses(
    client: httpx.AsyncClient, db: Database
) -> None:
    """Deterministic interleaving: B's UPDATE blocks on A's uncommitted one, then fails when A commits."""
    unit = await create_unit(client)
    ana = await _book(client, unit["id"], _later(20))
    bruno = await _book(client, unit["id"], _later(30), guest_name="Bruno Díaz")
    target = _later(40)

    async with db.session_scope() as first:
        await changes.change_stay(
            first,
            ana["code"],
            accommodation_id=unit["id"],
            check_in=target,
            check_out=target + timedelta(days=2),
            guests=2,
            actor=ACTOR,
        )
        second = asyncio.create_task(_move(db, bruno["code"], unit["id"], target + timedelta(days=1)))
        await asyncio.sleep(0.5)
        assert not second.done()  # waiting on PostgreSQL, not refused by a read made too early
    with pytest.raises(DatesUnavailable):
        await second

    a = (await client.get(f"/api/v1/reservations/{ana['code']}")).json()
    b = (await client.get(f"/api/v1/reservations/{bruno['code']}")).json()
    assert a["check_in"] == target.isoformat()
    assert b["check_in"] == bruno["check_in"]
    assert [e["reason"] for e in b["events"]] == [None]


async def test_two_simultaneous_moves_onto_the_same_nights_one_wins(
    client: httpx.AsyncClient, db: Database
) -> None:
    unit = await create_unit(client)
    for round_ in range(5):
        base = _later(20 + 20 * round_)
        ana = await _book(client, unit["id"], base)
        bruno = await _book(client, unit["id"], base + timedelta(days=4), guest_name="Bruno Díaz")
        target = base + timedelta(days=10)
        outcomes = await asyncio.gather(
            _move(db, ana["code"], unit["id"], target, nights=3),
            _move(db, bruno["code"], unit["id"], target + timedelta(days=1), nights=3),
            return_exceptions=True,
        )
        refused = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(refused) == 1 and isinstance(refused[0], DatesUnavailable), outcomes
        async with db.session_scope() as session:
            moved = await session.scalar(
                select(func.count())
                .select_from(ReservationEvent)
                .where(ReservationEvent.reason == STAY_CHANGED)
            )
        assert moved == round_ + 1
