"""What the booking hot path costs PostgreSQL: round trips per request, counted on the wire.

The app runs in-process with its database URL pointed at `pgwire.RoundTrips`, a relay that counts each
simple query and each extended-protocol Sync the server receives (BEGIN, COMMIT and the pool's
pre-ping included). A count, never a time: the benchmark (`bench/holds.py`) reports the rates.
These requests run one statement at a time (`Database.statement_scope`: their one write is one
statement), so no BEGIN, COMMIT or ROLLBACK crosses the wire, and the operator behind a token is
cached. Today's budget per request: a hold 3 (the pool's pre-ping, one read of the unit, settings and
seasons, one write of the row, its event, its job and the wake-up), a refused hold 3, confirm and
cancel 2, availability 2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from alojamientos.config import get_settings
from tests.fixtures.api import create_unit, hold, operator_client, today_ar
from tests.reservations.pgwire import RoundTrips, upstream_of


@pytest.fixture
async def wire(clean_db: str) -> AsyncIterator[RoundTrips]:
    async with RoundTrips(upstream_of(clean_db)) as relay:
        yield relay


@pytest.fixture
async def counted(wire: RoundTrips, operator: None) -> AsyncIterator[httpx.AsyncClient]:
    settings = get_settings().model_copy(update={"database_url": wire.url(get_settings().database_url)})
    async with operator_client(settings) as client:
        yield client


async def _cost(wire: RoundTrips, request: object) -> tuple[httpx.Response, list[str]]:
    before = len(wire.statements)
    response = await request  # type: ignore[misc]
    return response, wire.statements[before:]


def _shown(statements: list[str]) -> str:
    return "\n".join(f"  {s.split(chr(10))[0][:120]}" for s in statements)


async def test_a_hold_and_its_changes_cost_few_round_trips(
    wire: RoundTrips, counted: httpx.AsyncClient
) -> None:
    unit = await create_unit(counted)
    start = today_ar() + timedelta(days=30)
    warm = await hold(counted, unit["id"], start - timedelta(days=10))  # connects; dialect checks run once
    assert warm.status_code == 201, warm.text

    created, trips = await _cost(wire, hold(counted, unit["id"], start, nights=3))
    assert created.status_code == 201, created.text
    assert len(trips) <= 3, f"a hold took {len(trips)} round trips:\n{_shown(trips)}"
    assert not {"BEGIN", "COMMIT", "ROLLBACK"} & {t.split()[0].upper() for t in trips if t.strip()}, trips
    body = created.json()
    assert body["status"] == "pre_reserved" and body["guest_name"] == "Ana Pérez"
    assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [(None, "pre_reserved")]

    # The refused hold names the stay in the way from the insert itself: no read after it.
    refused, trips = await _cost(wire, hold(counted, unit["id"], start + timedelta(days=1), nights=1))
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["conflict"] == {
        "code": body["code"],
        "kind": "stay",
        "check_in": start.isoformat(),
        "check_out": (start + timedelta(days=3)).isoformat(),
    }
    assert "ROLLBACK" not in trips  # psycopg would forget every prepared statement of the connection
    assert len(trips) <= 3, f"a refused hold took {len(trips)} round trips:\n{_shown(trips)}"

    free, trips = await _cost(
        wire,
        counted.get(
            "/api/v1/availability",
            params={
                "check_in": (start + timedelta(days=5)).isoformat(),
                "check_out": (start + timedelta(days=7)).isoformat(),
                "guests": 2,
            },
        ),
    )
    assert free.status_code == 200, free.text
    assert [u["accommodation"]["id"] for u in free.json()["available"]] == [unit["id"]]
    assert len(trips) <= 2, f"availability took {len(trips)} round trips:\n{_shown(trips)}"

    confirmed, trips = await _cost(wire, counted.post(f"/api/v1/reservations/{body['code']}/confirm"))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
    assert len(trips) <= 2, f"a confirmation took {len(trips)} round trips:\n{_shown(trips)}"

    again, trips = await _cost(wire, counted.post(f"/api/v1/reservations/{body['code']}/confirm"))
    assert again.status_code == 409 and again.json()["error"]["status"] == "confirmed", again.text

    cancelled, trips = await _cost(wire, counted.post(f"/api/v1/reservations/{body['code']}/cancel"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    assert len(trips) <= 2, f"a cancellation took {len(trips)} round trips:\n{_shown(trips)}"

    detail = (await counted.get(f"/api/v1/reservations/{body['code']}")).json()
    assert [(e["from_status"], e["to_status"]) for e in detail["events"]] == [
        (None, "pre_reserved"),
        ("pre_reserved", "confirmed"),
        ("confirmed", "cancelled"),
    ]
