"""What a newcomer meets in the browser: `/` leads to the panel, and Ajustes → Calendarios says plainly
that the export links cannot work while PUBLIC_BASE_URL is this machine's address (issue 13.9)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.admin.conftest import Panel, log_in, screenshot


def test_the_bare_address_opens_the_panel(panel: Panel, page: Page) -> None:
    page.goto(f"{panel.base}/")
    expect(page).to_have_url(f"{panel.base}/admin/login?next=/admin/")
    expect(page.get_by_role("button", name="Ingresar")).to_be_visible()
    log_in(page, panel.base)
    page.goto(f"{panel.base}/")
    expect(page.get_by_role("link", name="Calendario")).to_be_visible()


def test_the_calendars_page_warns_that_the_export_links_need_a_public_address(
    panel: Panel, page: Page
) -> None:
    unit = panel.unit()
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes/calendarios")
    export = page.get_by_label("Dirección para exportar (pegala en Airbnb o Booking)")
    expect(export).to_have_value(
        re.compile(rf"^http://127\.0\.0\.1:8000/api/v1/ical/{unit['id']}\.ics\?token=\w+$")
    )
    warning = page.locator("#direccion-publica")
    expect(warning).to_contain_text("Airbnb y Booking no van a poder leer estas direcciones para exportar.")
    expect(warning).to_contain_text("Empiezan con http://127.0.0.1:8000, que es esta misma computadora")
    expect(warning).to_contain_text(
        "configurá PUBLIC_BASE_URL con la dirección pública del servidor, con https"
    )
    screenshot(page, "ajustes-calendarios-direccion-publica")
