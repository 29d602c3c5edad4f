"""Changing prices in the panel changes the next quote (and never an existing reservation)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from alojamientos.conversation.format import pesos
from tests.admin.conftest import Panel, log_in, screenshot
from tests.fixtures.api import next_weekday


def test_a_new_price_changes_the_live_quote(panel: Panel, page: Page) -> None:
    unit = panel.unit(base_price="50000")
    monday = next_weekday(0)  # two weeknights: no weekend surcharge
    log_in(page, panel.base)

    def quote() -> None:
        page.goto(f"{panel.base}/admin/reservas/nueva")
        page.get_by_label("Cabaña").select_option(str(unit["id"]))
        page.get_by_label("Entrada").fill(monday.isoformat())
        page.get_by_label("Salida").fill((monday + timedelta(days=2)).isoformat())
        page.get_by_label("Personas").fill("2")

    quote()
    expect(page.locator("#cotizacion")).to_contain_text(f"Total {pesos(Decimal(100000))}")
    expect(page.locator("#cotizacion")).to_contain_text(f"seña {pesos(Decimal(30000))} (30 %)")

    page.get_by_role("link", name="Ajustes").click()
    page.get_by_label("Cabaña del Bosque").fill("65.000")
    page.get_by_role("button", name="Guardar", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("el precio nuevo vale")
    expect(page.get_by_label("Cabaña del Bosque")).to_have_value("65.000")
    page.get_by_label("Seña (% del total)").fill("50")
    page.get_by_role("button", name="Guardar reglas").click()
    expect(page.get_by_label("Seña (% del total)")).to_have_value("50")
    expect(page.get_by_label("Recargo de fin de semana y feriados (%)")).to_have_value("20")
    screenshot(page, "precios")

    quote()
    expect(page.locator("#cotizacion")).to_contain_text(f"Total {pesos(Decimal(130000))}")
    expect(page.locator("#cotizacion")).to_contain_text(f"seña {pesos(Decimal(65000))} (50 %)")


def test_a_wrong_percentage_is_refused_in_spanish(panel: Panel, page: Page) -> None:
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/ajustes")
    page.get_by_label("Seña (% del total)").fill("150")
    page.get_by_role("button", name="Guardar reglas").click()
    expect(page.get_by_role("alert")).to_contain_text("porcentajes entre 0 y 100")
    expect(page.get_by_label("Seña (% del total)")).to_have_value("30")
