"""The panel refuses what PostgreSQL cannot store, applies the stay limits, and takes names as typed
(issue 11, points 6 and 7)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.admin.conftest import Panel, form_session, log_in, upcoming
from tests.fixtures.api import today_ar


def test_a_nul_in_a_form_field_is_refused_in_spanish_and_nothing_changes(panel: Panel) -> None:
    before = panel.sql("SELECT topic, text FROM bot_answers ORDER BY topic")
    with form_session(panel.base) as (client, csrf):
        refused = client.post(
            "/admin/ajustes/respuestas/wifi", data={"csrf_token": csrf, "texto": "clave\x00123"}
        )
        long = client.post("/admin/ajustes/respuestas/wifi", data={"csrf_token": csrf, "texto": "x" * 20_001})
        search = client.get("/admin/reservas", params={"q": "Ana\x00"})
    for response in (refused, long, search):
        assert response.status_code == 422
        assert "carácter invisible que no se puede guardar" in response.text
    assert panel.sql("SELECT topic, text FROM bot_answers ORDER BY topic") == before


def test_an_id_beyond_what_postgres_stores_is_a_422_not_a_500(panel: Panel) -> None:
    with form_session(panel.base) as (client, csrf):
        season = client.post(
            "/admin/ajustes/temporadas/99999999999999999999/borrar", data={"csrf_token": csrf}
        )
        unit = client.get("/admin/ajustes/cabanas/99999999999")
        booking = client.post(
            "/admin/reservas/nueva",
            data={"csrf_token": csrf, "unidad": "99999999999", "entrada": f"{upcoming()}",
                  "salida": f"{upcoming(22)}", "personas": "2", "nombre": "Ana"},
        )  # fmt: skip
        listing = client.get("/admin/reservas", params={"unidad": "99999999999999999999"})
    for response in (season, unit, booking):
        assert response.status_code == 422, response.text
    assert listing.status_code == 200  # a filter that matches nothing


def test_the_stay_limits_are_set_in_prices_and_rules(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/precios")
    expect(page.get_by_label("Máximo de noches por estadía")).to_have_value("60")
    expect(page.get_by_label("Se puede reservar hasta (días desde hoy)")).to_have_value("730")
    page.get_by_label("Máximo de noches por estadía").fill("30")
    page.get_by_label("Se puede reservar hasta (días desde hoy)").fill("365")
    page.get_by_role("button", name="Guardar largo de las estadías").click()
    expect(page.get_by_role("status")).to_contain_text("guardamos el largo máximo de las estadías")
    assert panel.sql("SELECT max_nights, booking_horizon_days FROM price_settings") == [(30, 365)]
    assert panel.api.get("/api/v1/settings/stay-limits").json() == {
        "max_nights": 30,
        "booking_horizon_days": 365,
    }

    with form_session(panel.base) as (client, csrf):
        refused = client.post(
            "/admin/ajustes/precios/estadias",
            data={"csrf_token": csrf, "max_noches": "0", "horizonte": "365"},
        )
    assert refused.status_code == 422
    assert "de 1 a 365 noches como máximo" in refused.text
    assert panel.sql("SELECT max_nights FROM price_settings") == [(30,)]


def test_the_panel_refuses_a_booking_longer_than_the_maximum(panel: Panel) -> None:
    unit = panel.unit()
    start = today_ar() + timedelta(days=10)
    with form_session(panel.base) as (client, csrf):
        refused = client.post(
            "/admin/reservas/nueva",
            data={"csrf_token": csrf, "unidad": str(unit["id"]), "entrada": f"{start}",
                  "salida": f"{start + timedelta(days=61)}", "personas": "2", "nombre": "Ana Pérez",
                  "telefono": "11 5555-1234", "estado": "pre_reserved", "medio": "transfer"},
        )  # fmt: skip
    assert refused.status_code == 422
    assert "La estadía supera el máximo de noches que tomamos" in refused.text
    assert panel.sql("SELECT count(*) FROM reservations") == [(0,)]


def test_a_calendar_named_as_typed_is_saved(panel: Panel) -> None:
    unit = panel.unit()
    with form_session(panel.base) as (client, csrf):
        added = client.post(
            f"/admin/ajustes/calendarios/{unit['id']}",
            data={"csrf_token": csrf, "nombre": "Booking.com", "url": "http://127.0.0.1:9/booking.ics"},
        )
        named = client.post(
            f"/admin/ajustes/calendarios/{unit['id']}",
            data={"csrf_token": csrf, "nombre": "Cabaña 3", "url": "http://127.0.0.1:9/cabana.ics"},
        )
    assert added.status_code == 303 and named.status_code == 303
    assert panel.sql("SELECT source FROM ical_feeds ORDER BY source") == [("booking",), ("cabana-3",)]
