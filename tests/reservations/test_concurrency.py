"""Races through a real server process: PostgreSQL's exclusion constraint decides every one."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import httpx
import psycopg

from tests.fixtures.api import OPERATOR_EMAIL, OPERATOR_PASSWORD, today_ar
from tests.fixtures.database import psycopg_url

OVERLAP_SQL = """
    SELECT count(*) FROM reservations a JOIN reservations b
      ON a.accommodation_id = b.accommodation_id AND a.id < b.id AND a.period && b.period
     WHERE a.status IN ('pre_reserved', 'confirmed') AND b.status IN ('pre_reserved', 'confirmed')
"""


async def _login(client: httpx.AsyncClient) -> None:
    token = await client.post(
        "/api/v1/auth/token", data={"username": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD}
    )
    assert token.status_code == 200, token.text
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"


async def test_fifty_simultaneous_holds_for_the_same_dates_yield_exactly_one(
    live_server: str, operator: None, clean_db: str
) -> None:
    limits = httpx.Limits(max_connections=60)
    async with httpx.AsyncClient(base_url=live_server, limits=limits, timeout=60) as client:
        await _login(client)
        unit = (
            await client.post(
                "/api/v1/accommodations",
                json={"name": "Disputada", "capacity": 4, "base_price": "70000"},
            )
        ).json()
        start = today_ar() + timedelta(days=40)

        async def attempt(i: int) -> httpx.Response:
            # Every attempt overlaps every other: same unit, ranges sharing the night `start + 2`.
            return await client.post(
                "/api/v1/reservations",
                json={
                    "accommodation_id": unit["id"],
                    "check_in": (start + timedelta(days=i % 3)).isoformat(),
                    "check_out": (start + timedelta(days=3 + i % 2)).isoformat(),
                    "guests": 2,
                    "guest_name": f"Huésped {i}",
                    "guest_phone": f"+54911{55500000 + i}",
                },
            )

        responses = await asyncio.gather(*(attempt(i) for i in range(50)))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 49}, statuses
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"dates_unavailable"}
    with psycopg.connect(psycopg_url(clean_db)) as conn:
        assert conn.execute(OVERLAP_SQL).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM reservations").fetchone() == (1,)


async def test_two_simultaneous_confirms_one_wins(live_server: str, operator: None, clean_db: str) -> None:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        await _login(client)
        unit = (
            await client.post(
                "/api/v1/accommodations",
                json={"name": "Confirmable", "capacity": 2, "base_price": "1000"},
            )
        ).json()
        for round_ in range(5):
            check_in = today_ar() + timedelta(days=10 + 3 * round_)
            created = await client.post(
                "/api/v1/reservations",
                json={
                    "accommodation_id": unit["id"],
                    "check_in": check_in.isoformat(),
                    "check_out": (check_in + timedelta(days=2)).isoformat(),
                    "guests": 1,
                    "guest_name": "Juan",
                    "guest_phone": "+5491155550000",
                },
            )
            code = created.json()["code"]
            first, second = await asyncio.gather(
                client.post(f"/api/v1/reservations/{code}/confirm"),
                client.post(f"/api/v1/reservations/{code}/confirm"),
            )
            assert sorted([first.status_code, second.status_code]) == [200, 409]
            events = (await client.get(f"/api/v1/reservations/{code}")).json()["events"]
            assert [e["to_status"] for e in events] == ["pre_reserved", "confirmed"]


async def test_confirm_racing_cancel_leaves_one_consistent_outcome(
    live_server: str, operator: None, clean_db: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        await _login(client)
        unit = (
            await client.post(
                "/api/v1/accommodations",
                json={"name": "Carrera", "capacity": 2, "base_price": "1000"},
            )
        ).json()
        check_in = today_ar() + timedelta(days=12)
        code = (
            await client.post(
                "/api/v1/reservations",
                json={
                    "accommodation_id": unit["id"],
                    "check_in": check_in.isoformat(),
                    "check_out": (check_in + timedelta(days=2)).isoformat(),
                    "guests": 1,
                    "guest_name": "Juan",
                    "guest_phone": "+5491155550000",
                },
            )
        ).json()["code"]
        confirm, cancel = await asyncio.gather(
            client.post(f"/api/v1/reservations/{code}/confirm"),
            client.post(f"/api/v1/reservations/{code}/cancel"),
        )
        assert cancel.status_code == 200  # cancel is allowed from either state
        final = (await client.get(f"/api/v1/reservations/{code}")).json()
        assert final["status"] == "cancelled"
        assert final["events"][-1]["to_status"] == "cancelled"
        assert len(final["events"]) == (3 if confirm.status_code == 200 else 2)
