"""The calendar grid: each unit's nights, from our reservations and other channels' blocks."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.admin.conftest import Panel, log_in, screenshot, upcoming


def test_the_calendar_shows_stays_and_free_nights_per_unit(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    panel.unit("Cabaña del Lago")
    start = upcoming(3)
    code = panel.booking(unit["id"], start, nights=2, guest_name="Carla Gómez")["code"]
    log_in(page, panel.base)
    page.get_by_role("link", name="Calendario").click()
    grid = page.locator("#grilla")
    row = grid.locator("tr", has=page.get_by_role("rowheader", name="Cabaña del Bosque"))
    expect(row.locator("td.pre_reserved")).to_have_count(2)
    expect(row.get_by_role("link", name="Carla")).to_have_attribute("href", f"/admin/reservas/{code}")
    lake = grid.locator("tr", has=page.get_by_role("rowheader", name="Cabaña del Lago"))
    expect(lake.locator("td.libre")).to_have_count(14)
    screenshot(page, "calendario")

    page.get_by_role("link", name="Dos semanas después →").click()
    expect(row.locator("td.pre_reserved")).to_have_count(0)  # the stay is in the first two weeks
