"""The minimum stay as a guest on WhatsApp meets it: the bot names the rule (the long weekend, a season,
the complex's minimum) and offers to search with enough nights."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from alojamientos.conversation.format import MONTHS, fecha
from alojamientos.kit import calendar_ar
from tests.fixtures.api import today_ar
from tests.whatsapp.conftest import Guest

RULES = {
    "deposit_percent": "30",
    "weekend_multiplier": "1.2",
    "default_min_nights": 1,
    "extra_guest_fee": "0",
}


def spoken(day: date) -> str:
    return f"{day.day} de {MONTHS[day.month - 1]}"


async def set_rules(client: httpx.AsyncClient, **changes: Any) -> None:
    response = await client.put("/api/v1/settings/pricing", json={**RULES, **changes})
    assert response.status_code == 200, response.text


def a_long_weekend() -> calendar_ar.Run:
    window = calendar_ar.next_long_weekend(today_ar() + timedelta(days=2))
    assert window is not None
    return window.run


async def test_the_bot_explains_the_long_weekend_minimum_and_searches_with_it(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    await set_rules(wa_client, long_weekend_min_nights="whole_run")
    run = a_long_weekend()
    arrive, leave = run.first, run.first + timedelta(days=2)
    [refusal] = await guest.say(f"hola! tienen lugar del {spoken(arrive)} al {spoken(leave)}? somos 2")
    nights = f"{run.days} noches"
    assert refusal.startswith(f"Para el finde largo la estadía mínima es de {nights}")
    assert f"(el finde va del {fecha(run.first)} al {fecha(run.last)})" in refusal
    assert f"¿Querés que busque con {nights}?" in refusal
    assert guest.last_choices() == [(f"nights:{run.days}", f"Buscar {run.days} noches")]

    [offer] = await guest.tap(f"nights:{run.days}", f"Buscar {run.days} noches")
    assert f"del {fecha(arrive)} al {fecha(arrive + timedelta(days=run.days))} ({nights})" in offer
    assert "Cabaña del Bosque" in offer


async def test_a_numeric_long_weekend_minimum_is_said_as_set(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    await set_rules(wa_client, long_weekend_min_nights=3)
    run = a_long_weekend()
    evening_before = run.first - timedelta(days=1)
    [refusal] = await guest.say(f"del {spoken(evening_before)} al {spoken(run.first)}, somos 2")
    assert refusal.startswith("Para el finde largo la estadía mínima es de 3 noches")


async def test_without_the_rule_a_long_weekend_night_is_offered(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    await set_rules(wa_client)
    run = a_long_weekend()
    [offer] = await guest.say(f"del {spoken(run.first)} al {spoken(run.first + timedelta(days=1))}, somos 2")
    assert "tenemos libre" in offer


async def test_a_season_minimum_is_named(guest: Guest, wa_client: httpx.AsyncClient) -> None:
    start = today_ar() + timedelta(days=30)
    season = {
        "name": "la temporada de invierno",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=20)).isoformat(),
        "multiplier": "1.1",
        "min_nights": 5,
    }
    assert (await wa_client.post("/api/v1/seasons", json=season)).status_code == 201
    arrive = start + timedelta(days=3)
    [refusal] = await guest.say(f"del {spoken(arrive)} al {spoken(arrive + timedelta(days=2))}, somos 2")
    assert refusal.startswith(
        f"En la temporada de invierno, para llegar el {fecha(arrive)} la estadía mínima es de 5 noches."
    )


async def test_the_complex_minimum_keeps_its_words(guest: Guest, wa_client: httpx.AsyncClient) -> None:
    await set_rules(wa_client, default_min_nights=2)
    arrive = today_ar() + timedelta(days=40)
    while calendar_ar.run_of(arrive + timedelta(days=1)) is not None:  # a weekday night, no long weekend
        arrive += timedelta(days=1)
    [refusal] = await guest.say(f"del {spoken(arrive)} al {spoken(arrive + timedelta(days=1))}, somos 2")
    assert refusal == (
        f"Para llegar el {fecha(arrive)} la estadía mínima es de 2 noches. ¿Querés que busque con 2 noches?"
        "\n[Buscar 2 noches]"
    )
