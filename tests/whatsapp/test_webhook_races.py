"""Exactly-once answers when Meta delivers at once: through a real server process, and after a crash."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import psycopg

from alojamientos.channels.whatsapp.payloads import parse_envelope
from alojamientos.channels.whatsapp.service import store_inbound
from alojamientos.channels.whatsapp.signature import sign
from alojamientos.db import Database
from tests.fixtures.database import psycopg_url
from tests.whatsapp.conftest import APP_SECRET, Guest, envelope, post_signed

HOOK = "/api/v1/webhooks/whatsapp"


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(psycopg_url(url)) as conn:
        return conn.execute(sql).fetchall()


def transcript(url: str) -> list[tuple[str, str]]:
    return [
        (direction, body)
        for direction, body in rows(url, "SELECT direction, body FROM conversation_messages ORDER BY id")
    ]


async def post_many(base: str, bodies: list[bytes]) -> list[int]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        responses = await asyncio.gather(*(
            client.post(HOOK, content=body, headers={"x-hub-signature-256": sign(APP_SECRET, body)})
            for body in bodies
        ))  # fmt: skip
    return [r.status_code for r in responses]


async def test_ten_simultaneous_deliveries_of_one_message_get_one_answer(
    live_server: str, clean_db: str
) -> None:
    body = json.dumps(
        envelope("+5492944333333", {"id": "wamid.RACE1", "type": "text", "text": {"body": "hola"}})
    )
    assert await post_many(live_server, [body.encode()] * 10) == [200] * 10
    assert [d for d, _ in transcript(clean_db)] == ["in", "out"]
    assert rows(clean_db, "SELECT count(*) FROM jobs WHERE kind = 'whatsapp.send'") == [(1,)]
    assert rows(clean_db, "SELECT count(*) FROM conversations") == [(1,)]


async def test_a_guest_writing_twice_at_once_gets_each_message_answered_once(
    live_server: str, clean_db: str
) -> None:
    """Two messages of one guest in flight together take turns on the conversation: two answers."""
    bodies = [
        json.dumps(
            envelope("+5492944444444", {"id": f"wamid.PAIR{n}", "type": "text", "text": {"body": text}})
        )
        for n, text in enumerate(("aceptan mascotas?", "a qué hora es el check in?"))
    ]
    # Each one delivered three times, all six at once.
    assert await post_many(live_server, [b.encode() for b in bodies * 3]) == [200] * 6
    said = transcript(clean_db)
    assert sorted(b for d, b in said if d == "in") == ["a qué hora es el check in?", "aceptan mascotas?"]
    answers = [b for d, b in said if d == "out"]
    assert len(answers) == 2
    assert any(a.startswith("Consultanos por tu mascota") for a in answers)
    assert any(a.startswith("El ingreso es desde las 14 h") for a in answers)
    assert rows(clean_db, "SELECT count(*) FROM jobs WHERE kind = 'whatsapp.send'") == [(2,)]


async def test_a_message_stored_but_not_answered_is_answered_once_by_the_worker(
    guest: Guest, db: Database, clean_db: str
) -> None:
    """When answering at once fails, the message is kept with a job that answers it; Meta's
    redeliveries of it, meanwhile or later, add nothing."""
    payload = envelope(
        guest.phone, {"id": "wamid.LATE1", "type": "text", "text": {"body": "aceptan mascotas?"}}
    )
    [event], _, _ = parse_envelope(payload)
    assert await store_inbound(db, event) is not None  # as `receive_inbound` does after a failure
    assert await store_inbound(db, event) is None
    assert (await post_signed(guest.client, payload)).status_code == 200  # a redelivery meanwhile
    [answer] = await guest.read()
    assert answer.startswith("Consultanos por tu mascota")
    assert (await post_signed(guest.client, payload)).status_code == 200  # and one afterwards
    assert await guest.read() == []
    assert rows(clean_db, "SELECT status FROM jobs WHERE kind = 'whatsapp.process_inbound'") == [("done",)]
    assert [d for d, _ in transcript(clean_db)] == ["in", "out"]
