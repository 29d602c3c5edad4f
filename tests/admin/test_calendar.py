"""The month calendar: stays as bars by status and source, a click opens one, free nights start a booking."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from playwright.sync_api import Page, expect

from tests.admin.conftest import Panel, log_in, screenshot
from tests.fixtures.api import today_ar


def next_month() -> date:
    """The first of next month: every night of it is in the future and in one calendar page."""
    return (today_ar().replace(day=1) + timedelta(days=32)).replace(day=1)


def row(page: Page, unit_name: str):  # type: ignore[no-untyped-def]
    return page.locator("#grilla tr", has=page.get_by_role("rowheader", name=unit_name))


def test_the_month_shows_each_stay_as_a_bar_coloured_by_status_and_source(panel: Panel, page: Page) -> None:
    forest = panel.unit()
    lake = panel.unit("Cabaña del Lago")
    first = next_month()
    hold = panel.booking(forest["id"], first + timedelta(days=2), nights=3, guest_name="Carla Gómez")
    confirmed = panel.booking(forest["id"], first + timedelta(days=9), nights=2, guest_name="Bruno Díaz")
    assert panel.api.post(f"/api/v1/reservations/{confirmed['code']}/confirm").status_code == 200
    panel.sql(
        "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests, guest_name, status,"
        " source, kind, total_amount, deposit_amount) VALUES ('AIRBN2', %s, %s, %s, 1, 'Reserved',"
        " 'confirmed', 'airbnb', 'block', 0, 0)",
        lake["id"],
        first + timedelta(days=4),
        first + timedelta(days=8),
    )
    log_in(page, panel.base)
    page.get_by_role("link", name="Calendario").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calendario de")
    page.get_by_role("link", name="Mes siguiente →").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(first.year))

    bars = row(page, "Cabaña del Bosque").locator("a.barra-estadia")
    expect(bars).to_have_count(2)
    carla = bars.filter(has_text="Carla Gómez")
    expect(carla).to_have_class("barra-estadia pre_reserved stay origen-admin")
    expect(carla.locator("xpath=..")).to_have_attribute("colspan", "3")
    expect(bars.filter(has_text="Bruno Díaz")).to_have_class("barra-estadia confirmed stay origen-admin")
    airbnb = row(page, "Cabaña del Lago").locator("a.barra-estadia")
    expect(airbnb).to_have_class("barra-estadia confirmed block origen-airbnb")
    expect(airbnb).to_contain_text("Airbnb")
    days_in_month = len(page.locator("#grilla thead th").all()) - 1
    expect(row(page, "Cabaña del Lago").locator("td.libre")).to_have_count(days_in_month - 4)
    screenshot(page, "calendario")
    page.set_viewport_size({"width": 1280, "height": 720})
    screenshot(page, "calendario-escritorio")

    carla.click()
    expect(page).to_have_url(f"{panel.base}/admin/reservas/{hold['code']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(hold["code"])


def test_tapping_free_nights_starts_a_booking_with_the_dates_filled_in(panel: Panel, page: Page) -> None:
    panel.unit()
    first = next_month()
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/calendario?mes={first:%Y-%m}")
    forest = row(page, "Cabaña del Bosque")
    forest.locator(f'a[data-fecha="{first + timedelta(days=5)}"]').click()
    expect(page.locator("#seleccion")).to_contain_text("1 noche")
    forest.locator(f'a[data-fecha="{first + timedelta(days=7)}"]').click()  # the third night
    expect(page.locator("#seleccion")).to_contain_text("3 noches")
    expect(forest.locator("td.elegida")).to_have_count(3)
    page.get_by_role("link", name="Cargar reserva").click()

    expect(page.get_by_label("Entrada")).to_have_value((first + timedelta(days=5)).isoformat())
    expect(page.get_by_label("Salida")).to_have_value((first + timedelta(days=8)).isoformat())
    expect(page.locator("#cotizacion")).to_contain_text("Total $")
    expect(page.locator("#libres")).to_contain_text("Cabaña del Bosque")
    page.get_by_label("Nombre y apellido").fill("Lucía Sosa")
    page.get_by_role("button", name="Cargar la reserva").click()
    expect(page.get_by_role("status")).to_have_text("Listo: la reserva quedó cargada.")
    code = page.url.split("/admin/reservas/")[1].split("?")[0]
    found = panel.reservation(code)
    assert (found["check_in"], found["check_out"]) == (
        (first + timedelta(days=5)).isoformat(),
        (first + timedelta(days=8)).isoformat(),
    )


def test_a_maintenance_block_closes_the_nights_everywhere_until_released(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    first = next_month()
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/calendario?mes={first:%Y-%m}")
    forest = row(page, "Cabaña del Bosque")
    forest.locator(f'a[data-fecha="{first + timedelta(days=10)}"]').click()
    forest.locator(f'a[data-fecha="{first + timedelta(days=11)}"]').click()
    page.get_by_role("link", name="Bloquear esas noches").click()
    expect(page.get_by_label("Primera noche bloqueada")).to_have_value(
        (first + timedelta(days=10)).isoformat()
    )
    expect(page.get_by_label("Vuelve a estar libre el")).to_have_value(
        (first + timedelta(days=12)).isoformat()
    )
    page.get_by_label("Motivo").fill("Pintura del deck")
    page.get_by_role("button", name="Bloquear").click()
    expect(page.get_by_role("status")).to_have_text("Listo: esas noches quedaron bloqueadas.")
    screenshot(page, "bloqueo")

    # Nobody can book those nights: not the API, not WhatsApp (same constraint); other channels see it.
    def book_the_blocked_nights() -> httpx.Response:
        return panel.api.post(
            "/api/v1/reservations",
            json={
                "accommodation_id": unit["id"],
                "check_in": (first + timedelta(days=11)).isoformat(),
                "check_out": (first + timedelta(days=13)).isoformat(),
                "guests": 2,
                "guest_name": "Otro Huésped",
                "guest_phone": "11 3333-4444",
            },
        )

    taken = book_the_blocked_nights()
    assert taken.status_code == 409, taken.text
    url = panel.api.post(f"/api/v1/accommodations/{unit['id']}/ical-token").json()["ical_export_url"]
    feed = panel.api.get(url.split("/api/v1/", 1)[1].join(["/api/v1/", ""]))
    assert feed.status_code == 200, feed.text
    assert f"DTSTART;VALUE=DATE:{first + timedelta(days=10):%Y%m%d}" in feed.text
    assert panel.sql("SELECT count(*) FROM jobs WHERE kind = 'reservation.notify'") == [(0,)]  # no guest

    page.goto(f"{panel.base}/admin/calendario?mes={first:%Y-%m}")
    block = forest.locator("a.barra-estadia")
    expect(block).to_contain_text("Pintura del deck")
    block.click()
    page.get_by_text("Liberar estas noches").click()
    page.get_by_role("button", name="Sí, liberar").click()
    expect(page.get_by_role("status")).to_have_text("Listo: esas noches vuelven a estar disponibles.")
    again = book_the_blocked_nights()
    assert again.status_code == 201, again.text


def test_a_block_over_a_stay_is_refused_in_spanish(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    first = next_month()
    panel.booking(unit["id"], first + timedelta(days=3), nights=2)
    log_in(page, panel.base)
    page.goto(
        f"{panel.base}/admin/bloqueos/nuevo?unidad={unit['id']}"
        f"&entrada={first + timedelta(days=2)}&salida={first + timedelta(days=6)}"
    )
    page.get_by_role("button", name="Bloquear").click()
    expect(page.get_by_role("alert")).to_contain_text("Esas fechas ya no están libres")
    assert panel.sql("SELECT count(*) FROM reservations WHERE kind = 'block'") == [(0,)]
