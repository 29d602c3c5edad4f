"""Keys derived from names as operators type them (issue 11, point 7): flags and bot answer topics."""

from __future__ import annotations

import httpx
import pytest

from tests.cli.test_cli import cli


@pytest.mark.parametrize(
    ("typed", "name"),
    [("Mercado Pago", "mercadopago"), ("iCal sync", "ical_sync"), ("E-mail", "email"), ("EMAIL", "email")],
)
async def test_a_flag_named_as_typed_is_the_flag(client: httpx.AsyncClient, typed: str, name: str) -> None:
    response = await client.put(f"/api/v1/flags/{typed}", json={"enabled": False})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name and response.json()["enabled"] is False
    listed = {f["name"]: f["enabled"] for f in (await client.get("/api/v1/flags")).json()}
    assert listed[name] is False


async def test_an_unknown_flag_lists_the_known_ones(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/flags/Pileta", json={"enabled": True})
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "unknown_flag",
        "message": "unknown flag 'Pileta'; known: email, ical_sync, mercadopago, whatsapp_auto_replies",
        "known": ["email", "ical_sync", "mercadopago", "whatsapp_auto_replies"],
    }


def test_the_cli_sets_a_flag_named_as_typed(clean_db: str) -> None:
    done = cli("flags", "set", "Mercado Pago", "off")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "mercadopago is now off"


@pytest.mark.parametrize(
    ("typed", "topic"),
    [
        ("Wi-Fi", "wifi"),
        ("Ubicación", "ubicacion"),
        ("Check-in", "checkin"),
        ("Pileta climatizada", "pileta_climatizada"),
    ],
)
async def test_a_bot_answer_topic_named_as_typed(client: httpx.AsyncClient, typed: str, topic: str) -> None:
    response = await client.put(f"/api/v1/bot/answers/{typed}", json={"text": "Sí, claro."})
    assert response.status_code == 200, response.text
    assert response.json() == {"topic": topic, "text": "Sí, claro."}


async def test_a_topic_without_letters_says_what_it_expects(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/bot/answers/¿¿", json={"text": "Sí"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_answer" and error["field"] == "topic"
    assert error["message"] == (
        "'¿¿': name the topic with letters, e.g. servicios, wifi, mascotas, estacionamiento, ubicacion, checkin"
    )
