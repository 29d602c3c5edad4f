"""Settings (Ajustes): units, prices and seasons, the bot's answers, calendars, flags and accounts.

Each change is made in the browser and checked where it matters: the live quote, the JSON API,
the bot's own reply, the login form.
"""

from __future__ import annotations

import calendar
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alojamientos.conversation.format import pesos
from alojamientos.kit import calendar_ar
from tests.admin.conftest import PHONE_VIEWPORT, Panel, form_session, log_in, screenshot
from tests.fakes.http import ThreadedServer
from tests.fixtures.api import next_weekday, today_ar

FEEDS = Path(__file__).resolve().parents[1] / "calendar_sync" / "feeds"


def _quote(page: Page, panel: Panel, unit_id: int, check_in: str, check_out: str) -> None:
    page.goto(f"{panel.base}/admin/reservas/nueva")
    page.get_by_label("Cabaña").select_option(str(unit_id))
    page.get_by_label("Entrada").fill(check_in)
    page.get_by_label("Salida").fill(check_out)
    page.get_by_label("Personas").fill("2")


# -- units -------------------------------------------------------------------------------------------


def test_a_new_price_changes_the_live_quote(panel: Panel, page: Page) -> None:
    unit = panel.unit(base_price="50000")
    monday = next_weekday(0)  # two weeknights: no weekend surcharge
    log_in(page, panel.base)

    def quote() -> None:
        _quote(page, panel, unit["id"], monday.isoformat(), (monday + timedelta(days=2)).isoformat())

    quote()
    expect(page.locator("#cotizacion")).to_contain_text(f"Total {pesos(Decimal(100000))}")
    expect(page.locator("#cotizacion")).to_contain_text(f"seña {pesos(Decimal(30000))} (30 %)")

    page.get_by_role("link", name="Ajustes", exact=True).click()
    page.get_by_role("link", name="Precios y reglas").click()
    page.get_by_label("Cabaña del Bosque").fill("65.000")
    page.get_by_role("button", name="Guardar", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("el precio nuevo vale")
    expect(page.get_by_label("Cabaña del Bosque")).to_have_value("65.000")
    page.get_by_label("Seña (% del total)").fill("50")
    page.get_by_role("button", name="Guardar reglas").click()
    expect(page.get_by_label("Seña (% del total)")).to_have_value("50")
    expect(page.get_by_label("Recargo de fin de semana y feriados (%)")).to_have_value("20")

    quote()
    expect(page.locator("#cotizacion")).to_contain_text(f"Total {pesos(Decimal(130000))}")
    expect(page.locator("#cotizacion")).to_contain_text(f"seña {pesos(Decimal(65000))} (50 %)")


def test_a_wrong_percentage_is_refused_in_spanish(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/precios")
    page.get_by_label("Seña (% del total)").fill("150")
    page.get_by_role("button", name="Guardar reglas").click()
    expect(page.get_by_role("alert").filter(has_text="porcentajes")).to_contain_text(
        "porcentajes entre 0 y 100"
    )
    expect(page.get_by_label("Seña (% del total)")).to_have_value("30")


def test_a_unit_is_created_and_edited(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    page.get_by_role("link", name="Ajustes", exact=True).click()
    expect(page).to_have_url(f"{panel.base}/admin/ajustes/cabanas")
    page.get_by_label("Nombre").fill("Cabaña del Lago")
    page.get_by_label("Capacidad máxima (personas)").fill("5")
    page.get_by_label("Personas incluidas en el precio").fill("2")
    page.get_by_label("Precio por noche").fill("70.000")
    page.get_by_role("button", name="Crear cabaña").click()
    expect(page.get_by_role("status")).to_contain_text("la cabaña quedó creada")

    page.get_by_label("Descripción").fill("Frente al lago, con muelle propio.")
    page.get_by_label("Fotos").fill(
        "https://fotos.example.com/lago/frente.jpg\n\nhttp://fotos.example.com/lago/muelle.jpg\n"
    )
    page.get_by_label("Instrucciones de llegada").fill(
        "La llave está en la caja junto a la puerta; código 4321."
    )
    page.get_by_label("Toma reservas").uncheck()
    page.get_by_role("button", name="Guardar cambios").click()
    expect(page.get_by_role("status")).to_contain_text("guardamos los datos de la cabaña")
    expect(page.get_by_label("Descripción")).to_have_value("Frente al lago, con muelle propio.")
    expect(page.get_by_label("Toma reservas")).not_to_be_checked()
    screenshot(page, "ajustes-cabana")

    [unit] = panel.api.get("/api/v1/accommodations").json()
    assert unit["name"] == "Cabaña del Lago"
    assert (unit["capacity"], unit["base_occupancy"], unit["base_price"]) == (5, 2, "70000.00")
    assert unit["description"] == "Frente al lago, con muelle propio."
    assert unit["photos"] == [
        "https://fotos.example.com/lago/frente.jpg",
        "http://fotos.example.com/lago/muelle.jpg",
    ]
    assert unit["check_in_instructions"] == "La llave está en la caja junto a la puerta; código 4321."
    assert unit["active"] is False

    page.get_by_role("link", name="Todas las cabañas").click()
    expect(page.get_by_role("row", name="Cabaña del Lago")).to_contain_text("No toma reservas")
    screenshot(page, "ajustes-cabanas")


def test_a_bad_photo_url_is_refused_in_spanish_and_nothing_is_lost(panel: Panel, page: Page) -> None:
    unit = panel.unit(photos=["https://fotos.example.com/bosque.jpg"])
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/cabanas/{unit['id']}")
    page.get_by_label("Descripción").fill("Texto nuevo que no se tiene que perder")
    page.get_by_label("Fotos").fill("https://fotos.example.com/bien.jpg\njavascript:alert(1)")
    page.get_by_role("button", name="Guardar cambios").click()
    expect(page.get_by_role("alert")).to_contain_text("empiecen con http:// o https://")
    # What was typed comes back, so it can be fixed; nothing of it was stored.
    expect(page.get_by_label("Descripción")).to_have_value("Texto nuevo que no se tiene que perder")
    expect(page.get_by_label("Fotos")).to_have_value(
        "https://fotos.example.com/bien.jpg\njavascript:alert(1)"
    )
    [stored] = panel.api.get("/api/v1/accommodations").json()
    assert stored["photos"] == ["https://fotos.example.com/bosque.jpg"]
    assert stored["description"] == ""

    with form_session(panel.base) as (client, csrf):
        refused = client.post(
            f"/admin/ajustes/cabanas/{unit['id']}",
            data={"csrf_token": csrf, "nombre": "Cabaña del Bosque", "capacidad": "4", "ocupacion": "2",
                  "precio": "50.000", "fotos": "ftp://fotos.example.com/x.jpg", "activa": "si"},
        )  # fmt: skip
        assert refused.status_code == 422
        assert "http:// o https://" in refused.text
        too_many = client.post(
            f"/admin/ajustes/cabanas/{unit['id']}",
            data={"csrf_token": csrf, "nombre": "Cabaña del Bosque", "capacidad": "4", "ocupacion": "6",
                  "precio": "50.000", "activa": "si"},
        )  # fmt: skip
        assert too_many.status_code == 422
        assert "entre 1 y esa capacidad de personas incluidas en el precio" in too_many.text
    # The JSON API refuses the same photo.
    bad = panel.api.post(
        "/api/v1/accommodations",
        json={"name": "Otra", "capacity": 2, "base_price": "1", "photos": ["data:image/png;base64,AAAA"]},
    )
    assert bad.status_code == 422


# -- prices and rules ---------------------------------------------------------------------------------


def test_a_season_changes_the_live_quote_and_can_be_deleted(panel: Panel, page: Page) -> None:
    unit = panel.unit(base_price="50000")
    panel.unit(name="Cabaña del Río", base_price="40000")
    monday = next_weekday(0)
    check_in, check_out = monday.isoformat(), (monday + timedelta(days=2)).isoformat()
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/precios")
    page.get_by_label("Nombre de la temporada").fill("Vacaciones de invierno")
    page.get_by_label("Para qué cabañas").select_option(label="Cabaña del Bosque")
    page.get_by_label("Primera noche").fill(check_in)
    page.get_by_label("Hasta (esa noche ya no entra)").fill((monday + timedelta(days=1)).isoformat())
    page.get_by_label("Ajuste sobre el precio (%)").fill("50")
    page.get_by_label("Mínimo de noches (opcional)").fill("2")
    page.get_by_role("button", name="Agregar temporada").click()
    expect(page.get_by_role("status")).to_contain_text("la temporada vale")
    expect(page.get_by_role("row", name="Vacaciones de invierno")).to_contain_text("+50 %")
    screenshot(page, "ajustes-precios")

    # Only the first night is in the season [start, end): 75.000 + 50.000.
    _quote(page, panel, unit["id"], check_in, check_out)
    expect(page.locator("#cotizacion")).to_contain_text(f"Total {pesos(Decimal(125000))}")

    page.goto(f"{panel.base}/admin/ajustes/precios")
    page.get_by_label("Nombre de la temporada").fill("Precio fijo mal cargado")
    page.get_by_label("Primera noche").fill(check_in)
    page.get_by_label("Hasta (esa noche ya no entra)").fill(check_out)
    page.get_by_label("Precio por noche", exact=True).fill("90.000")
    page.get_by_label("Ajuste sobre el precio (%)").fill("10")
    page.get_by_role("button", name="Agregar temporada").click()
    expect(page.get_by_role("alert").filter(has_text="Revisá la temporada")).to_contain_text(
        "un precio por noche o un ajuste en %, no los dos"
    )
    expect(page.get_by_label("Nombre de la temporada")).to_have_value("Precio fijo mal cargado")
    assert panel.sql("SELECT count(*) FROM seasons") == [(1,)]

    row = page.get_by_role("row", name="Vacaciones de invierno")
    row.get_by_text("Borrar", exact=True).click()
    row.get_by_role("button", name="Sí, borrar la temporada").click()
    expect(page.get_by_role("status")).to_contain_text("borramos la temporada")
    expect(page.get_by_text("No hay temporadas")).to_be_visible()
    _quote(page, panel, unit["id"], check_in, check_out)
    expect(page.locator("#cotizacion")).to_contain_text(f"Total {pesos(Decimal(100000))}")


def test_a_yearly_season_is_added_shown_and_edited(panel: Panel, page: Page) -> None:
    unit = panel.unit(base_price="50000")
    year = today_ar().year + (1 if today_ar() >= date(today_ar().year, 2, 26) else 0)
    check_in, check_out = f"{year}-02-26", f"{year}-03-02"
    february = calendar.monthrange(year, 2)[1]  # nights from the 26th to February's last day
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/precios")
    page.get_by_label("Recargo de fin de semana y feriados (%)").fill("0")  # prices show only the season
    page.get_by_role("button", name="Guardar reglas").click()

    page.get_by_label("Nombre de la temporada").fill("Verano")
    page.get_by_label("Se repite todos los años").check()
    page.get_by_label("Todos los años desde (día/mes)").fill("15/12")
    page.get_by_label("Todos los años hasta (día/mes, esa noche incluida)").fill("29/02")
    page.get_by_label("Precio por noche", exact=True).fill("90.000")
    page.get_by_role("button", name="Agregar temporada").click()
    expect(page.get_by_role("status")).to_contain_text("la temporada vale")
    row = page.get_by_role("row", name="Verano")
    expect(row).to_contain_text("todos los años, del 15/12 al 29/02 (última noche incluida)")
    expect(row).to_contain_text(f"{pesos(Decimal(90000))} por noche")
    screenshot(page, "ajustes-temporada-anual")

    _quote(page, panel, unit["id"], check_in, check_out)
    in_season = february - 25
    expected = Decimal(90000) * in_season + Decimal(50000) * (4 - in_season)
    expect(page.locator("#cotizacion")).to_contain_text(f"Total {pesos(expected)}")

    page.goto(f"{panel.base}/admin/ajustes/precios")
    page.get_by_role("link", name="Editar la temporada Verano").click()
    expect(page.get_by_role("heading", name="Editar la temporada «Verano»")).to_be_visible()
    expect(page.get_by_label("Se repite todos los años")).to_be_checked()
    expect(page.get_by_label("Todos los años desde (día/mes)")).to_have_value("15/12")
    until = page.get_by_label("Todos los años hasta (día/mes, esa noche incluida)")
    expect(until).to_have_value("29/02")
    until.fill("31/04")
    page.get_by_role("button", name="Guardar la temporada").click()
    expect(page.get_by_role("alert").filter(has_text="Revisá la temporada")).to_be_visible()
    expect(until).to_have_value("31/04")  # what was typed comes back with the message
    until.fill("27/02")
    page.get_by_role("button", name="Guardar la temporada").click()
    expect(page.get_by_role("status")).to_contain_text("guardamos los cambios de la temporada")
    expect(page.get_by_role("row", name="Verano")).to_contain_text("del 15/12 al 27/02")
    assert panel.sql("SELECT count(*) FROM seasons") == [(1,)]

    _quote(page, panel, unit["id"], check_in, check_out)
    expect(page.locator("#cotizacion")).to_contain_text(f"Total {pesos(Decimal(90000 * 2 + 50000 * 2))}")


def test_the_long_weekend_minimum_is_set_and_enforced_by_the_quote(panel: Panel, page: Page) -> None:
    unit = panel.unit(base_price="50000")
    window = calendar_ar.next_long_weekend(today_ar() + timedelta(days=2))
    assert window is not None
    run = window.run
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/precios")
    expect(page.get_by_label("Sin mínimo especial")).to_be_checked()
    page.get_by_label("Todo el finde largo").check()
    page.get_by_role("button", name="Guardar reglas").click()
    expect(page.get_by_label("Todo el finde largo")).to_be_checked()
    screenshot(page, "ajustes-finde-largo")

    short = (run.first.isoformat(), (run.first + timedelta(days=2)).isoformat())
    _quote(page, panel, unit["id"], *short)
    expect(page.locator("#cotizacion")).to_contain_text(
        f"Para el finde largo la estadía mínima es de {run.days} noches."
    )

    page.goto(f"{panel.base}/admin/ajustes/precios")
    page.get_by_label("Una cantidad de noches").check()
    page.get_by_label("Noches mínimas en fines de semana largos").fill("2")
    page.get_by_role("button", name="Guardar reglas").click()
    expect(page.get_by_label("Una cantidad de noches")).to_be_checked()
    expect(page.get_by_label("Noches mínimas en fines de semana largos")).to_have_value("2")
    assert panel.sql("SELECT long_weekend_min_nights, long_weekend_whole_run FROM price_settings") == [
        (2, False)
    ]
    _quote(page, panel, unit["id"], *short)
    expect(page.locator("#cotizacion")).to_contain_text("Total")

    page.goto(f"{panel.base}/admin/ajustes/precios")
    page.get_by_label("Sin mínimo especial").check()
    page.get_by_role("button", name="Guardar reglas").click()
    assert panel.sql("SELECT long_weekend_min_nights, long_weekend_whole_run FROM price_settings") == [
        (None, False)
    ]


def test_hold_windows_and_texts_for_guests_are_saved(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/precios")
    page.get_by_label("Plazo para pagar con Mercado Pago (minutos)").fill("45")
    page.get_by_label("Plazo para transferir (horas)").fill("12")
    page.get_by_label("Datos para transferencia").fill("Alias: cabanas.del.bosque\nTitular: Ana Pérez")
    page.get_by_label("Política de cancelación").fill("Hasta 7 días antes se devuelve la seña.")
    page.get_by_role("button", name="Guardar plazos y textos").click()
    expect(page.get_by_role("status")).to_contain_text("guardamos los plazos")
    expect(page.get_by_label("Plazo para transferir (horas)")).to_have_value("12")
    assert panel.sql(
        "SELECT hold_minutes_mercadopago, hold_hours_transfer, bank_transfer_details, cancellation_policy"
        " FROM price_settings"
    ) == [
        (45, 12, "Alias: cabanas.del.bosque\nTitular: Ana Pérez", "Hasta 7 días antes se devuelve la seña.")
    ]

    with form_session(panel.base) as (client, csrf):
        refused = client.post(
            "/admin/ajustes/precios/reservas",
            data={"csrf_token": csrf, "plazo_mp": "2", "plazo_transferencia": "12",
                  "datos_bancarios": "otro alias", "cancelacion": "otra"},
        )  # fmt: skip
    assert refused.status_code == 422
    assert "de 5 a 1440 minutos para Mercado Pago" in refused.text
    assert "otro alias" in refused.text  # what was typed comes back
    assert panel.sql("SELECT hold_minutes_mercadopago, bank_transfer_details FROM price_settings") == [
        (45, "Alias: cabanas.del.bosque\nTitular: Ana Pérez")
    ]


def test_the_complex_name_times_and_instruction_day_are_saved(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/precios")
    page.get_by_label("Nombre (así lo leen los huéspedes en los mensajes)").fill("Cabañas del Bosque")
    page.get_by_label("Hora de entrada").fill("15:00")
    page.get_by_label("Hora de salida").fill("10:30")
    page.get_by_label("Días antes de la llegada para mandar las instrucciones").fill("2")
    page.get_by_role("button", name="Guardar datos del complejo").click()
    expect(page.get_by_role("status")).to_contain_text("guardamos los datos del complejo")
    expect(page.get_by_label("Hora de salida")).to_have_value("10:30")
    assert panel.sql(
        "SELECT complex_name, check_in_time::text, check_out_time::text, checkin_instructions_days_before"
        " FROM price_settings"
    ) == [("Cabañas del Bosque", "15:00:00", "10:30:00", 2)]

    with form_session(panel.base) as (client, csrf):
        refused = client.post(
            "/admin/ajustes/precios/complejo",
            data={
                "csrf_token": csrf,
                "nombre": "Otro nombre",
                "entrada": "25:00",
                "salida": "10:00",
                "dias": "1",
            },
        )
    assert refused.status_code == 422
    assert "las horas como 14:00" in refused.text
    assert "Otro nombre" in refused.text  # what was typed comes back
    assert panel.sql("SELECT complex_name FROM price_settings") == [("Cabañas del Bosque",)]


# -- the bot's answers --------------------------------------------------------------------------------


def test_an_edited_answer_is_what_the_bot_says(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/respuestas")
    page.get_by_label("Respuesta sobre mascotas").fill("Sí, aceptamos perros chicos, con aviso previo.")
    page.locator("#respuesta-mascotas").get_by_role("button", name="Guardar respuesta").click()
    expect(page.get_by_role("status")).to_contain_text("el bot ya usa la respuesta nueva")
    expect(page.get_by_label("Respuesta sobre mascotas")).to_have_value(
        "Sí, aceptamos perros chicos, con aviso previo."
    )
    screenshot(page, "ajustes-respuestas")

    answers = {a["topic"]: a["text"] for a in panel.api.get("/api/v1/bot/answers").json()}
    assert answers["mascotas"] == "Sí, aceptamos perros chicos, con aviso previo."
    # The bot itself, through the same engine as WhatsApp (`alojamientos chat`), on the same database.
    chat = subprocess.run(
        [sys.executable, "-m", "alojamientos", "chat", "--phone", "+5492944111222"],
        input="se puede ir con perro?\n/salir\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ,
        check=True,
    )
    assert "bot> Sí, aceptamos perros chicos, con aviso previo." in chat.stdout

    page.get_by_label("Respuesta sobre wifi").fill("   ")
    page.locator("#respuesta-wifi").get_by_role("button", name="Guardar respuesta").evaluate(
        "b => b.form.noValidate = true"
    )
    page.locator("#respuesta-wifi").get_by_role("button", name="Guardar respuesta").click()
    expect(page.get_by_role("alert")).to_contain_text("Escribí la respuesta")
    answers = {a["topic"]: a["text"] for a in panel.api.get("/api/v1/bot/answers").json()}
    assert answers["wifi"].startswith("Sí, hay wifi")


# -- calendars ----------------------------------------------------------------------------------------


@dataclass
class FeedHost:
    base: str
    body: bytes


@pytest.fixture(scope="module")
def feed_host() -> Iterator[FeedHost]:
    """An Airbnb export (moved to next year) at /airbnb.ics; /roto.ics answers 500."""
    body = (FEEDS / "airbnb.ics").read_bytes().replace(b"2027", str(today_ar().year + 1).encode())

    async def serve(request: Request) -> Response:
        if request.path_params["name"] == "airbnb.ics":
            return Response(body, media_type="text/calendar")
        return Response("upstream trouble", status_code=500)

    server = ThreadedServer(Starlette(routes=[Route("/{name}", serve)]))
    server.start()
    yield FeedHost(server.base, body)
    server.stop()


def test_feeds_are_added_synced_and_removed(panel: Panel, page: Page, feed_host: FeedHost) -> None:
    unit = panel.unit()
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/calendarios")
    export = page.get_by_label("Dirección para exportar (pegala en Airbnb o Booking)")
    [listed] = panel.api.get("/api/v1/accommodations").json()
    expect(export).to_have_value(listed["ical_export_url"])
    assert export.input_value().startswith("http")
    assert f"/api/v1/ical/{unit['id']}.ics?token=" in export.input_value()

    page.get_by_label("Nombre del calendario").fill("Airbnb")
    page.get_by_label("Dirección del calendario (.ics)").fill(f"{feed_host.base}/airbnb.ics")
    page.get_by_role("button", name="Agregar calendario").click()
    expect(page.get_by_role("status")).to_contain_text("agregamos el calendario")
    feed = page.locator(".ajustes-feed", has_text="airbnb")
    expect(feed).to_contain_text("Todavía no")
    feed.get_by_role("button", name="Sincronizar ahora").click()
    expect(page.get_by_role("status")).to_contain_text("sincronizamos el calendario")
    feed = page.locator(".ajustes-feed", has_text="airbnb")
    expect(feed).not_to_contain_text("Todavía no")
    expect(feed.locator("dd").nth(1)).to_have_text("3")
    assert panel.sql("SELECT count(*) FROM reservations WHERE kind = 'block'") == [(3,)]

    page.get_by_label("Nombre del calendario").fill("booking")
    page.get_by_label("Dirección del calendario (.ics)").fill(f"{feed_host.base}/roto.ics")
    page.get_by_role("button", name="Agregar calendario").click()
    broken = page.locator(".ajustes-feed", has_text="booking")
    broken.get_by_role("button", name="Sincronizar ahora").click()
    expect(page.get_by_role("alert")).to_contain_text("No se pudo sincronizar el calendario")
    broken = page.locator(".ajustes-feed", has_text="booking")
    expect(broken).to_contain_text("El calendario respondió con un error (HTTP 500).")
    expect(broken.locator("dd").nth(1)).to_have_text("0")
    screenshot(page, "ajustes-calendarios")

    # The API's own rules: one feed per name and unit, http(s) only.
    page.get_by_label("Nombre del calendario").fill("airbnb")
    page.get_by_label("Dirección del calendario (.ics)").fill(f"{feed_host.base}/airbnb.ics")
    page.get_by_role("button", name="Agregar calendario").click()
    expect(page.get_by_role("alert")).to_contain_text("ya tiene un calendario con ese nombre")
    page.get_by_label("Nombre del calendario").fill("vrbo")
    page.get_by_label("Dirección del calendario (.ics)").fill("ftp://calendarios.example.com/x.ics")
    page.get_by_role("button", name="Agregar calendario").click()
    expect(page.get_by_role("alert")).to_contain_text("una dirección http")
    expect(page.get_by_label("Dirección del calendario (.ics)")).to_have_value(
        "ftp://calendarios.example.com/x.ics"
    )

    feed = page.locator(".ajustes-feed", has_text="airbnb")
    feed.get_by_text("Quitar", exact=True).click()
    feed.get_by_role("button", name="Sí, quitar el calendario").click()
    expect(page.get_by_role("status")).to_contain_text("quitamos el calendario")
    expect(page.locator(".ajustes-feed", has_text="airbnb")).to_have_count(0)
    assert panel.sql("SELECT count(*) FROM reservations WHERE kind = 'block'") == [(0,)]


# -- feature flags ------------------------------------------------------------------------------------


def test_a_flag_is_switched_off_and_on(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/funciones")
    email = page.locator("#funcion-email")
    expect(email).to_contain_text("Enviar e-mails a huéspedes y al operador")
    expect(email).to_contain_text("Prendida")
    email.get_by_text("Apagar", exact=True).click()
    email.get_by_role("button", name="Sí, apagar").click()
    expect(page.get_by_role("status")).to_contain_text("la función quedó apagada")
    expect(page.locator("#funcion-email")).to_contain_text("Apagada")
    screenshot(page, "ajustes-funciones")
    flags = {f["name"]: f for f in panel.api.get("/api/v1/flags").json()}
    assert flags["email"]["enabled"] is False
    assert flags["email"]["updated_by"] == "operator:operadora@example.com"

    page.locator("#funcion-email").get_by_role("button", name="Prender").click()
    expect(page.get_by_role("status")).to_contain_text("la función quedó prendida")
    flags = {f["name"]: f for f in panel.api.get("/api/v1/flags").json()}
    assert flags["email"]["enabled"] is True


# -- operator accounts --------------------------------------------------------------------------------


def test_an_operator_is_added_can_log_in_and_once_deactivated_cannot(
    panel: Panel, page: Page, browser: Browser
) -> None:
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/operadores")
    expect(page.get_by_role("row", name="operadora@example.com")).to_contain_text("Es tu cuenta")
    page.get_by_label("E-mail de la cuenta nueva").fill("Juan@Example.com")
    page.get_by_label("Nombre").fill("Juan")
    page.get_by_label("Contraseña inicial").fill("corta")
    page.get_by_label("Contraseña inicial").evaluate("i => i.form.noValidate = true")
    page.get_by_role("button", name="Crear cuenta").click()
    expect(page.get_by_role("alert")).to_contain_text("al menos 10 caracteres")
    expect(page.get_by_label("E-mail de la cuenta nueva")).to_have_value("Juan@Example.com")
    assert panel.sql("SELECT count(*) FROM operators") == [(1,)]
    page.get_by_label("Contraseña inicial").fill("otra-clave-bien-larga")
    page.get_by_role("button", name="Crear cuenta").click()
    expect(page.get_by_role("status")).to_contain_text("la cuenta quedó creada")
    expect(page.get_by_role("row", name="juan@example.com")).to_contain_text("Activa")

    juan = browser.new_context(viewport=PHONE_VIEWPORT, locale="es-AR").new_page()
    try:
        juan.goto(f"{panel.base}/admin/login")
        juan.get_by_label("E-mail").fill("juan@example.com")
        juan.get_by_label("Contraseña").fill("otra-clave-bien-larga")
        juan.get_by_role("button", name="Ingresar").click()
        expect(juan.get_by_role("link", name="Ajustes", exact=True)).to_be_visible()

        row = page.get_by_role("row", name="juan@example.com")
        row.get_by_text("Desactivar", exact=True).click()
        row.get_by_role("button", name="Sí, desactivar la cuenta").click()
        expect(page.get_by_role("status")).to_contain_text("la cuenta quedó desactivada")
        expect(page.get_by_role("row", name="juan@example.com")).to_contain_text("Desactivada")
        screenshot(page, "ajustes-operadores")

        juan.goto(f"{panel.base}/admin/reservas")  # the open session ends
        expect(juan).to_have_url(f"{panel.base}/admin/login?next=/admin/reservas")
        juan.get_by_label("E-mail").fill("juan@example.com")
        juan.get_by_label("Contraseña").fill("otra-clave-bien-larga")
        juan.get_by_role("button", name="Ingresar").click()
        expect(juan.get_by_role("alert")).to_be_visible()
        expect(juan.get_by_role("link", name="Ajustes", exact=True)).to_have_count(0)
    finally:
        juan.context.close()
    token = panel.api.post(
        "/api/v1/auth/token", data={"username": "juan@example.com", "password": "otra-clave-bien-larga"}
    )
    assert token.status_code == 401

    page.get_by_role("row", name="juan@example.com").get_by_role("button", name="Reactivar").click()
    expect(page.get_by_role("status")).to_contain_text("vuelve a estar activa")


def test_nobody_deactivates_their_own_account(panel: Panel) -> None:
    [(me,)] = panel.sql("SELECT id FROM operators")
    with form_session(panel.base) as (client, csrf):
        page = client.get("/admin/ajustes/operadores")
        assert "Es tu cuenta" in page.text
        refused = client.post(
            f"/admin/ajustes/operadores/{me}/desactivar",
            data={"csrf_token": csrf},
            headers={"Referer": f"{panel.base}/admin/ajustes/operadores"},
            follow_redirects=True,
        )
        assert "No podés desactivar tu propia cuenta." in refused.text
    assert panel.sql("SELECT active FROM operators") == [(True,)]
