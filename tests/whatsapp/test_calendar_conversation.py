"""The Argentine calendar in the conversation (issue 15, points 2 and 3), as a guest sees it on WhatsApp.

Dates are what `calendar_ar` (fed by the `holidays` package) says for the clock the app runs on; on
2026-11-30, carnaval is Friday 5 → Tuesday 9 February 2027 and the next long weekends are 4 → 8
December, 24 → 27 December and 31 December → 3 January.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from alojamientos.conversation.format import fecha, rango
from alojamientos.kit import calendar_ar
from tests.fixtures.api import today_ar
from tests.fixtures.database import psycopg_url
from tests.whatsapp.conftest import Guest


def stays(clean_db: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(psycopg_url(clean_db)) as conn:
        return conn.execute(
            "SELECT status, source, guest_name, check_in, check_out, guests FROM reservations"
            " WHERE source = 'whatsapp' ORDER BY id"
        ).fetchall()


def carnaval() -> calendar_ar.Window:
    found = calendar_ar.named_period("carnaval", today_ar())
    assert found is not None
    return found


def says(window: calendar_ar.Window, opening: str) -> str:
    return f"{opening} va del {rango(window.check_in, window.check_out)} ({window.nights} noches)."


async def book(client: httpx.AsyncClient, unit_id: int, check_in: date, check_out: date) -> None:
    response = await client.post("/api/v1/reservations", json={
        "accommodation_id": unit_id, "check_in": check_in.isoformat(), "check_out": check_out.isoformat(),
        "guests": 2, "guest_name": "Otro", "guest_phone": "+5491155550000", "status": "confirmed",
    })  # fmt: skip
    assert response.status_code == 201, response.text


def test_the_clock_of_these_tests_places_carnaval_as_the_issue_says() -> None:
    window = calendar_ar.named_period("carnaval", date(2026, 11, 30))
    assert window is not None
    assert (window.check_in, window.check_out, window.nights) == (date(2027, 2, 5), date(2027, 2, 9), 4)
    assert rango(window.check_in, window.check_out) == "viernes 5 al martes 9 de febrero"


# -- point 2: the bot says what it understood, in dates ---------------------------------------------


async def test_carnaval_for_two_ends_in_a_hold_for_exactly_the_resolved_dates(
    guest: Guest, clean_db: str
) -> None:
    window = carnaval()
    [offer] = await guest.say("Hola! tienen lugar para el finde largo de carnaval? somos 2")
    assert offer.startswith(says(window, "El finde largo de carnaval") + " Para 2 personas tenemos libre:\n")
    assert "• Cabaña del Bosque: $ " in offer and "• Cabaña del Lago: $ " in offer
    [(unit_row, title), _] = guest.last_choices()
    [ask_name] = await guest.tap(unit_row, title, kind="list_reply")
    assert ask_name.startswith(
        f"¡Buenísimo! Cabaña del Bosque, del {fecha(window.check_in)} al {fecha(window.check_out)}, $ "
    )
    [held] = await guest.say("Lucía Gómez")
    assert held.startswith("¡Listo, Lucía! Te reservé Cabaña del Bosque del ")
    assert stays(clean_db) == [
        ("pre_reserved", "whatsapp", "Lucía Gómez", window.check_in, window.check_out, 2)
    ]


@pytest.mark.parametrize(
    ("correction", "arrival_shift", "departure_shift"),
    [
        ("llegamos el sábado", 1, 0),
        ("mejor llegamos el sábado a la mañana", 1, 0),
        ("llegamos el jueves", -1, 0),
        ("nos vamos el lunes", 0, -1),
        ("y nos vamos el miércoles", 0, 1),
    ],
)
async def test_a_correction_moves_one_end_and_keeps_the_other_and_the_party(
    guest: Guest, clean_db: str, correction: str, arrival_shift: int, departure_shift: int
) -> None:
    window = carnaval()
    check_in = window.check_in + timedelta(days=arrival_shift)
    check_out = window.check_out + timedelta(days=departure_shift)
    nights = (check_out - check_in).days
    await guest.say("Hola! tienen lugar para el finde largo de carnaval? somos 2")
    [offer] = await guest.say(correction)
    assert offer.startswith(
        f"Para 2 personas, del {fecha(check_in)} al {fecha(check_out)} ({nights} noches), tenemos libre:"
    ), offer
    assert "va del" not in offer  # the correction is not announced as the period again
    [(unit_row, title), _] = guest.last_choices()
    await guest.tap(unit_row, title, kind="list_reply")
    await guest.say("Lucía Gómez")
    assert stays(clean_db) == [("pre_reserved", "whatsapp", "Lucía Gómez", check_in, check_out, 2)]


MONTHS = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()


@pytest.mark.parametrize(
    ("write", "arrival_shift", "departure_shift"),
    [
        (lambda w: f"llegamos el {(w.check_in + timedelta(days=1)).day}", 1, 0),
        (lambda w: f"nos vamos el {(w.check_out - timedelta(days=1)).day}", 0, -1),
        (lambda w: "mejor del sábado al lunes", 1, -1),
        (
            lambda w: (
                f"mejor del {(w.check_in + timedelta(days=1)).day} al {(w.check_out - timedelta(days=1)).day}"
            ),
            1,
            -1,
        ),
        (
            lambda w: f"llegamos el {(w.check_in + timedelta(days=1)).day} de {MONTHS[w.check_in.month - 1]}",
            1,
            0,
        ),
    ],
    ids=["day-number arrival", "day-number departure", "weekday range", "day-number range", "day and month"],
)
async def test_corrections_written_as_days_of_the_month_or_ranges(
    guest: Guest, write: Any, arrival_shift: int, departure_shift: int
) -> None:
    window = carnaval()
    check_in = window.check_in + timedelta(days=arrival_shift)
    check_out = window.check_out + timedelta(days=departure_shift)
    await guest.say("Hola! tienen lugar para el finde largo de carnaval? somos 2")
    [offer] = await guest.say(write(window))
    nights = (check_out - check_in).days
    assert offer.startswith(
        f"Para 2 personas, del {fecha(check_in)} al {fecha(check_out)} ({nights} noches), tenemos libre:"
    ), offer


async def test_a_new_stay_far_from_the_period_is_taken_as_written(guest: Guest) -> None:
    window = carnaval()
    await guest.say("Hola! tienen lugar para el finde largo de carnaval? somos 2")
    later = window.check_out + timedelta(days=60)
    [offer] = await guest.say(
        f"mejor del {later.day}/{later.month} al {(later + timedelta(days=2)).day}/{(later + timedelta(days=2)).month}"
    )
    assert offer.startswith(
        f"Para 2 personas, del {fecha(later)} al {fecha(later + timedelta(days=2))} (2 noches)"
    ), offer


async def test_the_correction_after_a_hold_replaces_it(guest: Guest, clean_db: str) -> None:
    window = carnaval()
    await guest.say("Hola! tienen lugar para el finde largo de carnaval? somos 2")
    await guest.tap(guest.last_choices()[0][0], kind="list_reply")
    await guest.say("Lucía Gómez")
    [offer] = await guest.say("uh perdón, llegamos el sábado")
    assert "(3 noches), tenemos libre:" in offer
    await guest.tap(guest.last_choices()[0][0], kind="list_reply")
    [held, replaced] = await guest.say("Lucía Gómez")
    assert replaced.startswith("Cancelé tu reserva anterior")
    saturday = window.check_in + timedelta(days=1)
    assert f"del {fecha(saturday)} al {fecha(window.check_out)} para 2 personas" in held
    assert [(s[0], s[3], s[4]) for s in stays(clean_db)] == [
        ("cancelled", window.check_in, window.check_out),
        ("pre_reserved", saturday, window.check_out),
    ]


@pytest.mark.parametrize(
    ("message", "opening", "find"),
    [
        ("para Semana Santa somos 4", "El finde largo de Semana Santa", ("semana_santa",)),
        ("Navidad en familia, somos 4", "El finde largo de Navidad", ("navidad",)),
        ("para recibir el año somos 4", "El finde largo de Año Nuevo", ("ano_nuevo",)),
        ("el finde largo de abril, somos 4", "El finde largo de abril", ("month", 4)),
        ("hay lugar el próximo finde largo? somos 4", "El próximo finde largo", ("next",)),
        (
            "Precio para el finde largo del 8 de diciembre, somos 4",
            "El finde largo del 8 de diciembre",
            ("holiday", 8, 12),
        ),
    ],
)
async def test_each_kind_of_period_is_said_in_dates_before_the_units(
    guest: Guest, message: str, opening: str, find: tuple[Any, ...]
) -> None:
    today = today_ar()
    match find:
        case ("month", month):
            window = calendar_ar.long_weekend_of_month(month, today)
        case ("next",):
            window = calendar_ar.next_long_weekend(today)
        case ("holiday", day, month):
            window = calendar_ar.holiday_period(day, month, today)
        case (anchor,):
            window = calendar_ar.named_period(anchor, today)
    assert window is not None
    [offer] = await guest.say(message)
    assert offer.startswith(says(window, opening)), offer
    assert "Para 4 personas tenemos libre:\n" in offer, offer


async def test_a_moved_holiday_says_where_it_moved() -> None:
    from alojamientos.conversation.calendar_talk import Understood
    from alojamientos.conversation.nlu import parse

    parsed = parse("Precio para el feriado del 17 de junio, somos 4", date(2026, 5, 20))
    assert parsed.period is not None
    assert Understood.from_period(parsed.period).says() == (
        "El finde largo del 17 de junio va del viernes 12 al lunes 15 de junio (3 noches)."
        " El feriado se pasa al lunes 15 de junio."
    )


async def test_without_the_party_the_period_is_said_and_then_the_party_asked(guest: Guest) -> None:
    window = carnaval()
    [ask] = await guest.say("tienen lugar para carnaval?")
    assert (
        ask
        == says(window, "El finde largo de carnaval")
        + "\n¿Cuántas personas serían en total, contando a los chicos?"
    )
    [offer] = await guest.say("somos 3")
    assert offer.startswith(
        f"Para 3 personas, del {fecha(window.check_in)} al {fecha(window.check_out)} (4 noches), tenemos libre:"
    ), offer


async def test_when_is_carnaval_with_the_party_goes_straight_to_the_offer(guest: Guest) -> None:
    window = carnaval()
    [offer] = await guest.say("¿cuándo es carnaval? somos 2")
    assert offer.startswith(says(window, "El finde largo de carnaval") + " Para 2 personas tenemos libre:\n")


async def test_a_vague_period_with_explicit_dates_takes_the_dates(guest: Guest) -> None:
    year = today_ar().year + 1
    [offer] = await guest.say(f"vacaciones de invierno, del 13 al 20 de julio de {year}, somos 4")
    assert offer.startswith(
        f"Para 4 personas, del {fecha(date(year, 7, 13))} al {fecha(date(year, 7, 20))} (7 noches), tenemos libre:"
    ), offer


@pytest.mark.parametrize(
    ("message", "vague_words"),
    [
        ("Vacaciones de invierno, ¿tienen para 6?", "Las vacaciones de invierno cambian según la provincia"),
        ("para las fiestas somos 4", "Las fiestas pueden ser Navidad, Año Nuevo o las dos"),
        ("Navidad y Año Nuevo, somos 4", "Las fiestas pueden ser Navidad, Año Nuevo o las dos"),
        ("tienen algo para el verano? somos 2", "El verano es largo"),
    ],
)
async def test_a_vague_period_is_asked_about_saying_it_is_vague(
    guest: Guest, message: str, vague_words: str
) -> None:
    [ask] = await guest.say(message)
    assert ask.startswith(vague_words), ask
    assert "¿Qué días serían?" in ask


async def test_the_fiestas_question_gives_both_stays_in_dates(guest: Guest) -> None:
    navidad = calendar_ar.named_period("navidad", today_ar())
    ano_nuevo = calendar_ar.named_period("ano_nuevo", today_ar())
    assert navidad and ano_nuevo
    [ask] = await guest.say("para las fiestas somos 4")
    assert says(navidad, "El finde largo de Navidad") in ask
    assert says(ano_nuevo, "El finde largo de Año Nuevo") in ask


# -- point 2: never the same question a third time --------------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["vacaciones de invierno", "tienen lugar?", "tienen lugar para algún finde de marzo?"],
)
async def test_the_same_question_is_not_asked_a_third_time(
    guest: Guest, wa_client: httpx.AsyncClient, message: str
) -> None:
    first, second = await guest.say(message), await guest.say(message)
    assert first == second and "?" in first[0]
    [offer] = await guest.say(message)
    assert offer.startswith(
        "Me parece que no me estoy explicando bien 🙈. ¿Querés que te comunique con una persona"
    )
    assert [t for _, t in guest.last_choices()] == ["Sí, con una persona", "Seguir con el bot"]
    [handoff] = await guest.tap("menu:human", "Sí, con una persona")
    assert "le aviso a una persona del equipo" in handoff
    thread = (await wa_client.get(f"/api/v1/conversations/{guest.phone}")).json()
    assert thread["bot_paused"] is True
    assert [a["kind"] for a in (await wa_client.get("/api/v1/alerts")).json()] == ["handoff"]


async def test_repeating_the_period_without_the_party_offers_a_person_the_third_time(guest: Guest) -> None:
    first = await guest.say("finde largo de carnaval")
    second = await guest.say("finde largo de carnaval")
    assert first == second and first[0].endswith("¿Cuántas personas serían en total, contando a los chicos?")
    [offer] = await guest.say("finde largo de carnaval")
    assert offer.startswith("Me parece que no me estoy explicando bien")


async def test_ignoring_the_offer_hands_off_instead_of_asking_a_fourth_time(
    guest: Guest, wa_client: httpx.AsyncClient
) -> None:
    for _ in range(3):
        await guest.say("tienen lugar?")
    [handoff] = await guest.say("tienen lugar?")
    assert "le aviso a una persona del equipo" in handoff
    assert (await wa_client.get(f"/api/v1/conversations/{guest.phone}")).json()["bot_paused"] is True
    assert await guest.say("tienen lugar?") == []


async def test_keeping_the_bot_starts_the_count_again(guest: Guest) -> None:
    for _ in range(3):
        await guest.say("tienen lugar?")
    [again] = await guest.tap("menu:bot", "Seguir con el bot")
    assert again.startswith("¿Para qué fechas y cuántas personas serían?")
    [asked] = await guest.say("tienen lugar?")
    assert asked.startswith("¿Para qué fechas y cuántas personas serían?")


async def test_answering_something_new_is_not_a_repeated_question(guest: Guest) -> None:
    await guest.say("tienen lugar?")
    await guest.say("tienen lugar?")
    [asked] = await guest.say("somos 4")
    assert asked.startswith("¿Para qué fechas serían?")


# -- point 3: the next long weekends, with what is free ---------------------------------------------


def upcoming() -> list[calendar_ar.Window]:
    today = today_ar()
    runs = calendar_ar.long_weekends(today + timedelta(days=1), today + timedelta(days=400))[:3]
    windows = [calendar_ar.window(run, today) for run in runs]
    assert all(windows) and len(windows) == 3
    return [w for w in windows if w is not None]


def line(window: calendar_ar.Window, free: str) -> str:
    return f"• Del {rango(window.check_in, window.check_out)} ({window.nights} noches): {free}"


@pytest.mark.parametrize(
    "question",
    [
        "¿Cuándo es el próximo finde largo?",
        "¿qué findes largos quedan libres?",
        "próximos feriados?",
        "Hola! qué fines de semana largos tienen libres?",
        "cuándo cae el próximo fin de semana largo",
        "tienen algún finde largo libre?",
    ],
)
async def test_next_long_weekends_with_what_is_free_on_each(
    guest: Guest, wa_client: httpx.AsyncClient, units: dict[str, int], question: str
) -> None:
    first, second, third = upcoming()
    await book(wa_client, units["Cabaña del Bosque"], second.check_in, second.check_out)
    [answer] = await guest.say(question)
    assert answer.startswith("Estos son los próximos findes largos:\n"), answer
    assert line(first, "libre Cabaña del Bosque, Cabaña del Lago.") in answer
    assert line(second, "libre Cabaña del Lago.") in answer
    assert line(third, "libre Cabaña del Bosque, Cabaña del Lago.") in answer
    rows = guest.last_choices()
    assert [i for i, _ in rows] == [f"alt:{w.check_in}:{w.check_out}" for w in (first, second, third)]


async def test_a_long_weekend_with_nothing_free_says_so_and_offers_no_row(
    guest: Guest, wa_client: httpx.AsyncClient, units: dict[str, int]
) -> None:
    first, second, third = upcoming()
    for unit_id in units.values():
        await book(wa_client, unit_id, first.check_in, first.check_out)
    [answer] = await guest.say("cuándo es el próximo finde largo? somos 2")
    assert answer.startswith("Para 2 personas, estos son los próximos findes largos:\n")
    assert line(first, "no nos queda nada libre.") in answer
    assert [i for i, _ in guest.last_choices()] == [
        f"alt:{w.check_in}:{w.check_out}" for w in (second, third)
    ]


async def test_picking_a_long_weekend_from_the_list_quotes_it(guest: Guest) -> None:
    first, *_ = upcoming()
    await guest.say("¿Cuándo es el próximo finde largo?")
    [ask] = await guest.tap(f"alt:{first.check_in}:{first.check_out}", kind="list_reply")
    assert ask.startswith("¿Cuántas personas serían")
    [offer] = await guest.say("somos 2")
    assert f"({first.nights} noches), tenemos libre:" in offer


async def test_when_is_carnaval_gives_its_dates_and_free_units_then_the_party(
    guest: Guest, wa_client: httpx.AsyncClient, units: dict[str, int], clean_db: str
) -> None:
    window = carnaval()
    await book(wa_client, units["Cabaña del Lago"], window.check_in, window.check_out)
    [answer] = await guest.say("¿cuándo es carnaval?")
    assert answer == (
        says(window, "El finde largo de carnaval")
        + " Tenemos libre: Cabaña del Bosque.\n¿Cuántas personas serían?"
    )
    [offer] = await guest.say("somos 2")
    assert "tenemos libre:\n• Cabaña del Bosque: $ " in offer
    assert "Cabaña del Lago" not in offer
