"""The webhook's edges: handshake, signatures, odd payloads, delivery statuses, outbox retries."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import psycopg

from alojamientos.channels.whatsapp.signature import sign
from alojamientos.kit.clock import utc_now
from tests.fixtures.database import psycopg_url
from tests.whatsapp.conftest import APP_SECRET, Guest, post_signed

HOOK = "/api/v1/webhooks/whatsapp"


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(psycopg_url(url)) as conn:
        return conn.execute(sql).fetchall()


async def test_handshake_echoes_the_challenge_only_for_the_right_token(wa_client: httpx.AsyncClient) -> None:
    ok = await wa_client.get(
        HOOK,
        params={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": "whatsapp-test-verify-token",
        },
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = await wa_client.get(
        HOOK, params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "nope"}
    )
    assert bad.status_code == 403
    assert (await wa_client.get(HOOK)).status_code == 403


async def test_unsigned_or_wrongly_signed_posts_change_nothing(
    guest: Guest, wa_client: httpx.AsyncClient, clean_db: str
) -> None:
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    missing = await wa_client.post(HOOK, content=body, headers={"content-type": "application/json"})
    assert missing.status_code == 401
    wrong = await wa_client.post(
        HOOK, content=body, headers={"x-hub-signature-256": sign("other-secret", body)}
    )
    assert wrong.status_code == 403
    tampered = sign(APP_SECRET, body)
    forged = await wa_client.post(HOOK, content=body + b" ", headers={"x-hub-signature-256": tampered})
    assert forged.status_code == 403
    assert rows(clean_db, "SELECT count(*) FROM conversation_messages") == [(0,)]


async def test_well_signed_oddities_never_500(wa_client: httpx.AsyncClient) -> None:
    for payload in (
        {"entry": "nope"},
        {"entry": [{"changes": [{"value": {"messages": [{"id": "x"}]}}]}]},
        {},
        {"entry": [None]},
    ):
        assert (await post_signed(wa_client, payload)).status_code == 200
    not_json = b"\xff not json"
    bad = await wa_client.post(
        HOOK, content=not_json, headers={"x-hub-signature-256": sign(APP_SECRET, not_json)}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "bad_payload"


async def test_delivery_statuses_only_move_forward(guest: Guest, clean_db: str) -> None:
    await guest.say("hola")
    [(wamid, status)] = rows(
        clean_db, "SELECT wamid, delivery_status FROM conversation_messages WHERE direction = 'out'"
    )
    assert status == "sent"

    def status_update(state: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        value = {
            "messaging_product": "whatsapp",
            "statuses": [
                {
                    "id": wamid,
                    "status": state,
                    "timestamp": "1",
                    "recipient_id": "5492944111111",
                    **({"errors": errors} if errors else {}),
                }
            ],
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": "W", "changes": [{"field": "messages", "value": value}]}],
        }

    for state, expected in (("read", "read"), ("delivered", "read"), ("sent", "read")):
        assert (await post_signed(guest.client, status_update(state))).status_code == 200
        assert rows(
            clean_db, "SELECT delivery_status FROM conversation_messages WHERE direction = 'out'"
        ) == [(expected,)]
    await post_signed(
        guest.client, status_update("failed", [{"code": 131026, "title": "Message undeliverable"}])
    )
    assert rows(
        clean_db, "SELECT delivery_status, delivery_error FROM conversation_messages WHERE direction = 'out'"
    ) == [("failed", "131026: Message undeliverable")]


async def test_send_retries_on_5xx_and_429_then_delivers_once(
    guest: Guest, graph: Any, clean_db: str
) -> None:
    graph.fail_next(500, times=1)
    graph.fail_next(429, 130429, times=1)
    assert await guest.say("hola") == []  # first attempt failed: queued for a retry with backoff
    assert await guest.worker.run_pending() == 0  # not due yet
    # Two hours on, the 429 retry and then the successful one both fall due.
    assert await guest.worker.run_pending(now=utc_now() + timedelta(hours=2)) == 2
    assert len(graph.sent) == 1
    assert rows(clean_db, "SELECT status, attempts FROM jobs WHERE kind = 'whatsapp.send'") == [("done", 3)]


async def test_other_4xx_dead_letters_and_alerts(
    guest: Guest, graph: Any, clean_db: str, wa_client: httpx.AsyncClient
) -> None:
    graph.fail_next(400, 131026)
    assert await guest.say("hola") == []
    assert rows(clean_db, "SELECT status FROM jobs WHERE kind = 'whatsapp.send'") == [("dead",)]
    assert rows(clean_db, "SELECT delivery_status FROM conversation_messages WHERE direction = 'out'") == [
        ("failed",)
    ]
    assert [a["kind"] for a in (await wa_client.get("/api/v1/alerts")).json()] == ["whatsapp_failed"]


async def test_outside_the_24h_window_a_template_goes(
    guest: Guest, graph: Any, clean_db: str, wa_client: httpx.AsyncClient
) -> None:
    await guest.say("hola")
    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        conn.execute("UPDATE conversations SET last_inbound_at = now() - interval '25 hours'")
    await wa_client.post(
        f"/api/v1/conversations/{guest.phone}/messages", json={"text": "Hola Ana,\n¿seguís interesada?"}
    )
    assert await guest.read() == ["Hola Ana, · ¿seguís interesada?"]
    template = graph.sent[-1]
    assert template["type"] == "template"
    assert template["template"]["name"] == "aviso_reserva"
    assert template["template"]["language"] == {"code": "es_AR"}


async def test_window_closed_error_falls_back_to_a_template(guest: Guest, graph: Any) -> None:
    graph.fail_next(400, 131047)
    [text] = await guest.say("hola")
    assert text.startswith("¡Hola, Ana!")
    assert graph.sent[-1]["type"] == "template"


async def test_dead_letters_are_listed_and_can_be_retried(
    guest: Guest, graph: Any, wa_client: httpx.AsyncClient
) -> None:
    graph.fail_next(400, 100)
    assert await guest.say("hola") == []
    [dead] = (await wa_client.get("/api/v1/jobs", params={"status": "dead"})).json()
    assert dead["kind"] == "whatsapp.send" and "WhatsApp 400" in dead["last_error"]
    retried = await wa_client.post(f"/api/v1/jobs/{dead['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert (await wa_client.post(f"/api/v1/jobs/{dead['id']}/retry")).status_code == 409
    [welcome] = await guest.read()
    assert welcome.startswith("¡Hola, Ana!")
