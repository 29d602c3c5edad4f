"""Search by name ignores case and accents, in the database and through its index (issue 13.7)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from alojamientos.conversation import repository as conversation_repository
from alojamientos.conversation.models import Conversation
from alojamientos.conversation.service import conversations
from alojamientos.db import Database
from alojamientos.reservations import repository
from alojamientos.reservations.models import Reservation
from tests.fixtures.api import create_unit, hold, today_ar

GUESTS = ("Ana Pérez", "José Núñez", "Lucía Güemes", "Bruno Díaz", "Carla Gomez")


@pytest.fixture
async def stays(client: httpx.AsyncClient) -> dict[str, str]:
    """One stay per guest name, on nights of their own: name → code."""
    unit = await create_unit(client)
    codes: dict[str, str] = {}
    for i, name in enumerate(GUESTS):
        phone = f"+54 9 11 5555-{1000 + i}"
        made = await hold(
            client, unit["id"], today_ar() + timedelta(days=10 + 3 * i), guest_name=name, guest_phone=phone
        )
        assert made.status_code == 201, made.text
        codes[name] = made.json()["code"]
    return codes


async def names_found(client: httpx.AsyncClient, q: str, **params: str) -> list[str]:
    response = await client.get("/api/v1/reservations", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["items"])
    return sorted(r["guest_name"] for r in body["items"])


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Perez", ["Ana Pérez"]),  # the case
        ("perez", ["Ana Pérez"]),
        ("PEREZ", ["Ana Pérez"]),
        ("Pérez", ["Ana Pérez"]),
        ("PÉREZ", ["Ana Pérez"]),
        ("  ana pe  ", ["Ana Pérez"]),  # part of the name, spaces around
        ("nunez", ["José Núñez"]),  # ñ and ú
        ("jose nuñ", ["José Núñez"]),
        ("guemes", ["Lucía Güemes"]),  # ü
        ("lucia", ["Lucía Güemes"]),
        ("Gómez", ["Carla Gomez"]),  # accents typed where the name has none
        ("díaz", ["Bruno Díaz"]),
        ("z", ["Ana Pérez", "Bruno Díaz", "Carla Gomez", "José Núñez"]),
        ("Perezz", []),
        ("%", []),  # LIKE's wildcards match only themselves
        ("_", []),
        ("\\", []),
    ],
)
async def test_the_api_finds_guests_whatever_the_case_and_accents(
    client: httpx.AsyncClient, stays: dict[str, str], q: str, expected: list[str]
) -> None:
    assert await names_found(client, q) == expected


async def test_code_and_phone_are_still_found_and_filters_still_apply(
    client: httpx.AsyncClient, stays: dict[str, str]
) -> None:
    code = stays["José Núñez"]
    assert await names_found(client, code.lower()) == ["José Núñez"]
    assert await names_found(client, "11 5555-1003") == ["Bruno Díaz"]
    assert await names_found(client, "perez", status="confirmed") == []
    confirmed = await client.post(f"/api/v1/reservations/{stays['Ana Pérez']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert await names_found(client, "perez", status="confirmed") == ["Ana Pérez"]
    too_long = await client.get("/api/v1/reservations", params={"q": "x" * 101})
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("maria jose", ["María José Ávila"]),
        ("AVILA", ["María José Ávila"]),
        ("Ávila", ["María José Ávila"]),
        ("ñandu", ["Ñandú Tours"]),
        ("NANDU", ["Ñandú Tours"]),
        ("5444-0001", ["María José Ávila"]),  # phone digits
        ("sosa", []),
    ],
)
async def test_the_api_finds_conversations_whatever_the_case_and_accents(
    client: httpx.AsyncClient, db: Database, q: str, expected: list[str]
) -> None:
    async with db.session_scope() as session:
        await conversations.open(session, "+5491154440001", "María José Ávila")
        await conversations.open(session, "+5491166660002", "Ñandú Tours")
        await conversations.open(session, "+5491177770003", None)
    response = await client.get("/api/v1/conversations", params={"q": q})
    assert response.status_code == 200, response.text
    assert sorted(c["profile_name"] for c in response.json()) == expected


async def test_name_searches_use_the_trigram_indexes(db: Database) -> None:
    """The queries the API and the panel run are served by the indexes over search_fold()."""
    queries = {
        "ix_reservations_guest_name_search": repository.matching(select(Reservation), "perez"),
        "ix_conversations_profile_name_search": conversation_repository.matching(
            select(Conversation), "avila"
        ),
    }
    async with db.session_scope() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        for index, query in queries.items():
            compiled = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
            plan = "\n".join(await session.scalars(text(f"EXPLAIN {compiled}")))
            assert index in plan, plan
