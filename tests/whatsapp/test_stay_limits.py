"""The bot applies the operator's stay limits (issue 11, point 6) and says the rule, never silence;
a NUL in a guest's text is dropped before storing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import psycopg

from alojamientos.conversation.format import fecha
from tests.fixtures.api import today_ar
from tests.fixtures.database import psycopg_url
from tests.whatsapp.conftest import Guest


async def test_asking_for_more_nights_than_allowed_gets_the_rule(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    limits = await wa_client.put(
        "/api/v1/settings/stay-limits", json={"max_nights": 30, "booking_horizon_days": 730}
    )
    assert limits.status_code == 200
    [answer] = await guest.say("¿podés ofrecer 31 noches?")
    assert answer.startswith(
        "Por ahora tomamos estadías de hasta 30 noches, así que 31 noches no te puedo ofrecer"
    )
    # Within the limit, the bot goes on and asks for the dates.
    [ask] = await guest.say("¿y 30 noches?")
    assert ask.startswith("¿Para qué fechas") and "Por ahora tomamos" not in ask


async def test_dates_longer_than_the_maximum_get_the_rule(guest: Guest) -> None:
    [answer] = await guest.say("hola, quiero del 1 de diciembre al 5 de febrero para 2")
    assert "Por ahora tomamos estadías de hasta 60 noches" in answer


async def test_dates_beyond_the_horizon_get_the_last_bookable_day(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    await wa_client.put("/api/v1/settings/stay-limits", json={"max_nights": 60, "booking_horizon_days": 60})
    last = today_ar() + timedelta(days=60)
    start = today_ar() + timedelta(days=90)
    [answer] = await guest.say(f"quiero del {start:%d/%m/%Y} al {start + timedelta(days=3):%d/%m/%Y} para 2")
    assert answer == (
        "Todavía no tomamos reservas tan adelante: se puede reservar para estadías que terminen hasta el "
        f"{fecha(last)} de {last.year}. ¿Te sirven fechas antes de eso?"
    )


async def test_a_nul_in_a_guest_message_is_dropped_not_refused(guest: Guest, clean_db: str) -> None:
    # A signed payload is acknowledged (Meta would retry a refusal for days); PostgreSQL cannot store U+0000.
    [answer] = await guest.say("hola\u0000, tienen lugar del 10 al 13 de marzo para 2?")
    assert "(3 noches)" in answer
    with psycopg.connect(psycopg_url(clean_db)) as conn:
        stored = conn.execute("SELECT body FROM conversation_messages WHERE direction = 'in'").fetchall()
    assert stored == [("hola, tienen lugar del 10 al 13 de marzo para 2?",)]
