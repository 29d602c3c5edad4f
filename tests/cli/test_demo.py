"""`alojamientos db seed-demo`: a first look shows what the product does, and nothing in alarm."""

from __future__ import annotations

import httpx

from alojamientos.demo import DEMO_GUEST
from tests.cli.test_cli import cli


async def test_the_demo_has_one_guest_thread_from_first_message_to_hold(client: httpx.AsyncClient) -> None:
    seeded = cli("db", "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.strip() == "demo data loaded"
    phone, profile = DEMO_GUEST
    thread = (await client.get(f"/api/v1/conversations/{phone}")).json()
    assert thread["profile_name"] == profile and thread["state"] == "held"
    messages = thread["messages"]
    assert [m["direction"] for m in messages] == ["in", "out"] * 5
    assert messages[0]["body"].startswith("¡Hola! ¿Tienen lugar para 2 personas del ")
    assert messages[2]["body"] == "Cabaña del Bosque"  # the option she tapped, as WhatsApp shows it
    held = messages[5]["body"]
    code = thread["context"]["hold_code"]
    assert f"Código de reserva: *{code}*" in held and "Alias: CABANAS.DEMO.LAGO" in held
    stay = (await client.get(f"/api/v1/reservations/{code}")).json()
    assert (stay["guest_name"], stay["status"], stay["guests"]) == ("Carla Benítez", "pre_reserved", 2)
    assert (await client.get("/api/v1/alerts")).json() == []

    again = cli("db", "seed-demo")
    assert again.stdout.strip() == "database already has units; demo not loaded"
    assert (await client.get("/api/v1/reservations")).json()["count"] == 4
