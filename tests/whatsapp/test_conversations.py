"""Conversation transcripts through the signed webhook, replies read back from the fake Graph API."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest

from alojamientos.conversation.format import fecha
from tests.fixtures.database import psycopg_url
from tests.whatsapp.conftest import Guest, next_date, post_signed

BANK = "Alias: CABANAS.DEL.LAGO · CBU 0140000000000000000001 · Titular: Cabañas SRL"


@pytest.fixture(autouse=True)
def bank_details(clean_db: str) -> None:
    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        conn.execute("UPDATE price_settings SET bank_transfer_details = %s", (BANK,))


def reservations(clean_db: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(psycopg_url(clean_db)) as conn:
        return conn.execute(
            "SELECT code, status, source, guest_name, guest_phone, check_in, check_out, guests"
            " FROM reservations ORDER BY id"
        ).fetchall()


async def test_happy_path_from_first_message_to_a_hold(guest: Guest, clean_db: str) -> None:
    check_in, check_out = next_date(3, 10), next_date(3, 10) + timedelta(days=3)
    [offer] = await guest.say("hola, tienen lugar del 10 al 13 de marzo para 2?")
    assert f"del {fecha(check_in)} al {fecha(check_out)} (3 noches)" in offer
    assert "Para 2 personas" in offer
    assert "• Cabaña del Bosque: $ " in offer and "• Cabaña del Lago: $ " in offer
    choices = guest.last_choices()
    assert [title for _, title in choices] == ["Cabaña del Bosque", "Cabaña del Lago"]

    [ask_name] = await guest.tap(choices[0][0], choices[0][1], kind="list_reply")
    assert ask_name.startswith("¡Buenísimo! Cabaña del Bosque")
    assert "¿A nombre de quién hago la reserva?" in ask_name

    [held] = await guest.say("Ana Pérez")
    [(code, status, source, name, phone, ci, co, guests)] = reservations(clean_db)
    assert (status, source, name, phone, ci, co, guests) == (
        "pre_reserved", "whatsapp", "Ana Pérez", "+5492944111111", check_in, check_out, 2,
    )  # fmt: skip
    assert f"Código de reserva: *{code}*" in held
    assert "Para confirmarla necesitamos una seña de $ " in held
    assert BANK in held
    assert "Te la guardamos hasta el " in held
    for leak in ("None", "check_in", "guests", "True", "False"):
        assert leak not in held


async def test_asks_only_for_what_is_missing(guest: Guest) -> None:
    [welcome] = await guest.say("hola!")
    assert welcome.startswith("¡Hola, Ana! 👋")
    assert "[Consultar fechas]" in welcome
    [ask] = await guest.say("quiero reservar del 10 al 13 de marzo")
    assert ask == "¿Cuántas personas serían en total, contando a los chicos?"
    [offer] = await guest.say("somos 3")
    assert "Para 3 personas" in offer
    [ask_out] = await guest.say("ah no, mejor llegamos el 20 de marzo")
    assert ask_out.startswith(f"Llegan el {fecha(next_date(3, 20))}. ¿Hasta qué día")
    [offer] = await guest.say("3 noches")
    assert f"del {fecha(next_date(3, 20))} al {fecha(next_date(3, 23))}" in offer


async def test_changing_dates_and_party_mid_flow_requotes(guest: Guest) -> None:
    await guest.say("hola, hay lugar del 10 al 13 de marzo para 2?")
    first = guest.last_choices()
    [ask_name] = await guest.tap(*first[0], kind="list_reply")
    assert "¿A nombre de quién" in ask_name
    [offer] = await guest.say("perdón, al final somos 5")
    assert "Para 5 personas" in offer
    assert [t for _, t in guest.last_choices()] == ["Cabaña del Lago"]  # the other takes 4
    [offer] = await guest.say("y si fuera del 17 al 19 de marzo?")
    assert f"del {fecha(next_date(3, 17))} al {fecha(next_date(3, 19))} (2 noches)" in offer


async def test_unavailable_dates_offer_alternatives(
    guest: Guest, wa_client: httpx.AsyncClient, units: dict[str, int]
) -> None:
    start = next_date(3, 10)
    for unit_id in units.values():
        response = await wa_client.post("/api/v1/reservations", json={
            "accommodation_id": unit_id, "check_in": start.isoformat(),
            "check_out": (start + timedelta(days=3)).isoformat(), "guests": 2,
            "guest_name": "Otro", "guest_phone": "+5491155550000", "status": "confirmed",
        })  # fmt: skip
        assert response.status_code == 201
    [none] = await guest.say("tienen algo del 10 al 13 de marzo para 2?")
    assert "no nos queda nada libre" in none
    assert "Pero tengo lugar en estas fechas parecidas:" in none
    alternatives = guest.last_choices()
    assert alternatives and all(i.startswith("alt:") for i, _ in alternatives)
    [offer] = await guest.tap(*alternatives[0], kind="list_reply")
    assert "tenemos libre:" in offer


async def test_handoff_silences_the_bot_until_released(guest: Guest, wa_client: httpx.AsyncClient) -> None:
    [handoff] = await guest.say("puedo hablar con una persona?")
    assert "le aviso a una persona del equipo" in handoff
    alerts = (await wa_client.get("/api/v1/alerts")).json()
    assert [a["kind"] for a in alerts] == ["handoff"]
    assert await guest.say("hola? tienen lugar del 10 al 13 de marzo?") == []  # the bot stays silent

    sent = await wa_client.post(
        f"/api/v1/conversations/{guest.phone}/messages",
        json={"text": "Hola Ana, soy Marta. ¿En qué te ayudo?"},
    )
    assert sent.status_code == 202
    assert await guest.read() == ["Hola Ana, soy Marta. ¿En qué te ayudo?"]
    thread = (await wa_client.get(f"/api/v1/conversations/{guest.phone}")).json()
    assert thread["bot_paused"] is True
    assert [m["author"] for m in thread["messages"]][-1] == "operator:operadora@example.com"

    released = await wa_client.post(f"/api/v1/conversations/{guest.phone}/release")
    assert released.json()["bot_paused"] is False
    assert (await wa_client.get("/api/v1/alerts")).json() == []
    [offer] = await guest.say("tienen lugar del 10 al 13 de marzo para 2?")
    assert "tenemos libre" in offer


async def test_cancel_by_code(guest: Guest, clean_db: str) -> None:
    await guest.say("hola, tienen lugar del 10 al 13 de marzo para 2?")
    await guest.tap(*guest.last_choices()[0], kind="list_reply")
    await guest.say("Ana Pérez")
    [(code, *_)] = reservations(clean_db)

    [ask] = await guest.say(f"quiero cancelar la reserva {code.lower()}")
    assert ask.startswith(f"¿Confirmás que querés cancelar la reserva {code} (Cabaña del Bosque")
    assert [t for _, t in guest.last_choices()] == ["Sí, cancelar", "No, mantener"]
    [done] = await guest.tap(*guest.last_choices()[0])
    assert done.startswith(f"Listo, cancelé la reserva {code}.")
    assert reservations(clean_db)[0][1] == "cancelled"

    [not_found] = await guest.say("cancelar ZZ99ZZ")
    assert "No encuentro una reserva activa con el código ZZ99ZZ" in not_found


async def test_a_code_from_another_phone_cannot_cancel(
    guest_factory: Any, units: dict[str, int], clean_db: str
) -> None:
    owner, stranger = guest_factory("+5492944111111"), guest_factory("+5492944222222", "Beto")
    await owner.say("hola, tienen lugar del 10 al 13 de marzo para 2?")
    await owner.tap(*owner.last_choices()[0], kind="list_reply")
    await owner.say("Ana Pérez")
    [(code, *_)] = reservations(clean_db)
    [reply] = await stranger.say(f"cancelar {code}")
    assert "No encuentro una reserva activa" in reply
    assert reservations(clean_db)[0][1] == "pre_reserved"


async def test_redelivered_webhook_is_answered_once(guest: Guest, graph: Any) -> None:
    await guest.say("hola")
    for _ in range(3):
        assert (await post_signed(guest.client, guest.last_payload)).status_code == 200
    assert await guest.read() == []
    assert len(graph.sent) == 1


async def test_two_guests_racing_for_the_same_unit(
    guest_factory: Any, units: dict[str, int], clean_db: str
) -> None:
    ana, beto = guest_factory("+5492944111111", "Ana"), guest_factory("+5492944222222", "Beto")
    for g in (ana, beto):
        await g.say("hola, tienen lugar del 10 al 13 de marzo para 5?")  # only the Lago takes 5
        assert [t for _, t in g.last_choices()] == ["Cabaña del Lago"]
        await g.tap(*g.last_choices()[0], kind="list_reply")
    replies = await asyncio.gather(ana.say("Ana Pérez"), beto.say("Beto Gómez"))
    held = [r for r in replies if any("Código de reserva" in m for m in r)]
    lost = [r for r in replies if any("se acaba de reservar" in m for m in r)]
    assert len(held) == 1 and len(lost) == 1
    assert any("del " in m for m in lost[0])  # told at once and shown what is left
    assert [row[1] for row in reservations(clean_db)] == ["pre_reserved"]


async def test_questions_are_answered_from_editable_content(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    [pets] = await guest.say("aceptan mascotas?")
    assert pets.startswith("Consultanos por tu mascota")
    edited = await wa_client.put(
        "/api/v1/bot/answers/mascotas", json={"text": "Sí, aceptamos perros chicos 🐶."}
    )
    assert edited.status_code == 200
    assert await guest.say("se puede ir con perro?") == ["Sí, aceptamos perros chicos 🐶."]
    [times] = await guest.say("a qué hora es el check in?")
    assert times.startswith("El ingreso es desde las 14 h y la salida hasta las 10 h.")
    [price] = await guest.say("cuánto sale la noche?")
    assert "por noche arrancan en $ 60.000" in price


async def test_repeated_misunderstanding_offers_a_person(guest: Guest) -> None:
    [first] = await guest.say("asdfgh qwerty")
    assert first.startswith("Perdón, no te entendí bien")
    [second] = await guest.say("zxcvb")
    assert second.startswith(
        "Me parece que no te estoy entendiendo. ¿Querés que te comunique con una persona"
    )
    assert [t for _, t in guest.last_choices()] == ["Sí, con una persona", "Seguir con el bot"]
    [handoff] = await guest.tap("menu:human", "Sí, con una persona")
    assert "le aviso a una persona" in handoff


async def test_the_welcome_names_the_complex_by_its_proper_name(guest: Guest, clean_db: str) -> None:
    """A fresh install greets with a proper name (never the placeholder "las cabañas"), then the one
    the owner sets in Ajustes."""
    [welcome] = await guest.say("hola")
    assert welcome.startswith("¡Hola, Ana! 👋 Soy el asistente de reservas de Cabañas Los Alerces.\n")
    with psycopg.connect(psycopg_url(clean_db), autocommit=True) as conn:
        conn.execute("UPDATE price_settings SET complex_name = 'Complejo Río Azul'")
    [again] = await guest.say("buenas")
    assert "Soy el asistente de reservas de Complejo Río Azul." in again
