"""The calendar: a window from a few days ago and weeks ahead (or a month), stays as bars by status and
source, a click opens one, free nights start a booking; on a phone, an agenda per cabin."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
from playwright.sync_api import Page, ViewportSize, expect

from tests.admin.conftest import PHONE_VIEWPORT, Panel, log_in, screenshot
from tests.fixtures.api import today_ar

DESK: ViewportSize = {"width": 1280, "height": 720}


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
    page.set_viewport_size(DESK)
    log_in(page, panel.base)
    page.get_by_role("link", name="Calendario").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calendario del")
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
    screenshot(page, "calendario-mes-escritorio")

    carla.click()
    expect(page).to_have_url(f"{panel.base}/admin/reservas/{hold['code']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(hold["code"])


def test_tapping_free_nights_starts_a_booking_with_the_dates_filled_in(panel: Panel, page: Page) -> None:
    panel.unit()
    first = next_month()
    page.set_viewport_size(DESK)  # the grid is a desk's; a phone gets the agenda (tested below)
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
    page.set_viewport_size(DESK)
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


WEEKDAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")


def short(day: date) -> str:
    """How the panel writes a day in a list: `vie 4/12`, with the year when it is not this year's."""
    text = f"{WEEKDAYS[day.weekday()]} {day.day}/{day.month}"
    return text if day.year == today_ar().year else f"{text}/{day.year}"


def test_the_calendar_opens_on_the_coming_weeks_and_moves_by_four_weeks(panel: Panel, page: Page) -> None:
    forest = panel.unit()
    today = today_ar()
    soon = panel.booking(forest["id"], today + timedelta(days=2), nights=3, guest_name="Carla Gómez")
    later = panel.booking(forest["id"], today + timedelta(days=40), nights=2, guest_name="Bruno Díaz")
    page.set_viewport_size(DESK)
    log_in(page, panel.base)
    page.get_by_role("link", name="Calendario").click()

    first, last = today - timedelta(days=3), today + timedelta(days=27)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Calendario del {short(first)} al {short(last)}"
    )
    headers = page.locator("#grilla thead th")
    expect(headers).to_have_count(1 + 31)
    expect(headers.nth(1)).to_have_attribute("title", re.compile(rf"\b{first.day} de "))
    expect(headers.nth(4)).to_have_class(re.compile(r"\bhoy\b"))  # today is the fourth night shown
    bosque = row(page, "Cabaña del Bosque")
    expect(bosque.locator("a.barra-estadia")).to_have_count(1)
    expect(bosque.locator("a.barra-estadia")).to_contain_text("Carla Gómez")
    expect(bosque.locator("td.libre.pasado")).to_have_count(3)  # only the three days before today
    assert page.evaluate("document.documentElement.scrollWidth") <= DESK["width"]  # fits a desk
    expect(page.locator(".agenda")).to_be_hidden()
    screenshot(page, "calendario-ventana-escritorio")

    page.get_by_role("link", name="4 semanas después →").click()
    moved = first + timedelta(days=28)
    expect(page).to_have_url(f"{panel.base}/admin/calendario?desde={moved.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Calendario del {short(moved)} al {short(moved + timedelta(days=30))}"
    )
    expect(bosque.locator("a.barra-estadia")).to_have_text(re.compile("Bruno Díaz"))
    expect(bosque.locator(f'a[data-fecha="{today + timedelta(days=39)}"]')).to_have_count(1)  # bookable

    page.get_by_role("link", name="← 4 semanas antes").click()
    page.get_by_role("link", name="← 4 semanas antes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Calendario del {short(first - timedelta(days=28))} al {short(last - timedelta(days=28))}"
    )
    expect(bosque.locator("a.dia-libre")).to_have_count(0)  # the past is not bookable
    page.get_by_role("link", name="Desde hoy").click()
    expect(bosque.locator("a.barra-estadia")).to_contain_text("Carla Gómez")

    page.get_by_role("link", name="Mes siguiente →").click()  # months stay a click away
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    expect(page).to_have_url(f"{panel.base}/admin/calendario?mes={following:%Y-%m}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(following.year))
    bosque.locator("a.barra-estadia").filter(has_text="Carla Gómez").or_(
        bosque.locator("a.barra-estadia").filter(has_text="Bruno Díaz")
    ).first.wait_for()
    assert soon["code"] != later["code"]


def test_on_a_phone_the_calendar_is_an_agenda_of_arrivals_departures_and_free_nights(
    panel: Panel, page: Page
) -> None:
    forest = panel.unit()
    lake = panel.unit("Cabaña del Lago")
    today = today_ar()
    # Staying since yesterday (made before today, so through SQL), leaving in two days.
    panel.sql(
        "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests, guest_name, status,"
        " source, kind, total_amount, deposit_amount) VALUES ('ESTAN1', %s, %s, %s, 2, 'Marta Ríos',"
        " 'confirmed', 'whatsapp', 'stay', 100000, 30000)",
        forest["id"],
        today - timedelta(days=1),
        today + timedelta(days=2),
    )
    arriving = panel.booking(forest["id"], today + timedelta(days=5), nights=3, guest_name="Carla Gómez")
    panel.sql(
        "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests, guest_name, status,"
        " source, kind, total_amount, deposit_amount) VALUES ('AIRBN3', %s, %s, %s, 1, 'Reserved',"
        " 'confirmed', 'airbnb', 'block', 0, 0)",
        lake["id"],
        today + timedelta(days=10),
        today + timedelta(days=14),
    )
    log_in(page, panel.base)
    page.get_by_role("link", name="Calendario").click()

    expect(page.locator("#grilla")).to_be_hidden()  # no sideways-scrolling grid on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    bosque = page.locator(".agenda-cabana", has=page.get_by_role("heading", name="Cabaña del Bosque"))
    lines = bosque.locator("li")
    expect(lines).to_have_text(
        [
            re.compile(
                rf"^\s*{short(today)}\s+Está Marta Ríos hasta el {short(today + timedelta(days=2))}\s+Confirmada\s*$"
            ),
            re.compile(rf"^\s*{short(today + timedelta(days=2))}\s+Se va Marta Ríos\s*$"),
            re.compile(
                rf"^\s*{short(today + timedelta(days=2))}\s+Libre del {short(today + timedelta(days=2))}"
                rf" al {short(today + timedelta(days=5))} \(3 noches\)\s+Reservar\s+Bloquear\s*$"
            ),
            re.compile(
                rf"^\s*{short(today + timedelta(days=5))}\s+Llega Carla Gómez · 3 noches, 2 personas\s+Pre-reserva\s*$"
            ),
            re.compile(rf"^\s*{short(today + timedelta(days=8))}\s+Se va Carla Gómez\s*$"),
            re.compile(
                rf"^\s*{short(today + timedelta(days=8))}\s+Libre desde el {short(today + timedelta(days=8))}"
                r" \(20 noches o más\)\s+Reservar\s+Bloquear\s*$"
            ),
        ]
    )
    lago = page.locator(".agenda-cabana", has=page.get_by_role("heading", name="Cabaña del Lago"))
    expect(lago.locator("li")).to_have_text(
        [
            re.compile(rf"Libre del {short(today)} al {short(today + timedelta(days=10))} \(10 noches\)"),
            re.compile(
                rf"Bloqueada {short(today + timedelta(days=10))} a {short(today + timedelta(days=14))}:"
                r" No disponible \(Airbnb\)"
            ),
            re.compile(rf"^\s*{short(today + timedelta(days=14))}\s+Termina el bloqueo"),
            re.compile(rf"Libre desde el {short(today + timedelta(days=14))} \(14 noches o más\)"),
        ]
    )
    screenshot(page, "calendario-agenda-telefono")

    bosque.locator("li", has_text="Llega Carla Gómez").get_by_role("link").click()
    expect(page).to_have_url(f"{panel.base}/admin/reservas/{arriving['code']}")
    page.go_back()

    # The gap between two stays is offered whole: one tap, the booking form with the dates filled in.
    bosque.get_by_role("link", name="Reservar Cabaña del Bosque desde el").first.click()
    expect(page.get_by_label("Entrada")).to_have_value((today + timedelta(days=2)).isoformat())
    expect(page.get_by_label("Salida")).to_have_value((today + timedelta(days=5)).isoformat())
    expect(page.locator("#cotizacion")).to_contain_text("Total $")
    page.get_by_label("Nombre y apellido").fill("Lucía Sosa")
    page.get_by_role("button", name="Cargar la reserva").click()
    expect(page.get_by_role("status")).to_have_text("Listo: la reserva quedó cargada.")

    page.goto(f"{panel.base}/admin/calendario")
    expect(bosque.locator("li", has_text="Llega Lucía Sosa")).to_contain_text("3 noches")
    expect(bosque.locator("li.agenda-libre")).to_have_count(1)  # the gap is filled
    # Blocking from the agenda fills the block form the same way.
    bosque.get_by_role("link", name=re.compile("^Bloquear Cabaña del Bosque desde el")).click()
    expect(page.get_by_label("Primera noche bloqueada")).to_have_value(
        (today + timedelta(days=8)).isoformat()
    )
    expect(page.get_by_label("Vuelve a estar libre el")).to_have_value(
        (today + timedelta(days=9)).isoformat()
    )
