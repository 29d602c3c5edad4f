"""The dashboard's figures come from the reservations, computed the way the page explains."""

from __future__ import annotations

import calendar
from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from alojamientos.conversation.format import pesos
from tests.admin.conftest import Panel, log_in, screenshot, upcoming
from tests.fixtures.api import today_ar


def test_the_dashboard_shows_today_holds_the_month_and_what_needs_attention(panel: Panel, page: Page) -> None:
    today = today_ar()
    unit = panel.unit()
    other = panel.unit("Cabaña del Lago")
    stay = panel.booking(unit["id"], today, nights=3, status="confirmed", guest_name="Carla Gómez")
    hold = panel.booking(other["id"], upcoming(), guest_name="Bruno Díaz")
    panel.sql(
        "INSERT INTO operator_alerts (kind, message, data) VALUES ('payment_problem', %s, '{}')",
        "El pago de Bruno fue rechazado",
    )
    panel.sql("INSERT INTO jobs (kind, status, attempts) VALUES ('email.send', 'dead', 8)")
    panel.sql(  # our own maintenance block: closed nights, not occupancy
        "INSERT INTO reservations (code, accommodation_id, check_in, check_out, guests, guest_name, status,"
        " source, kind, total_amount, deposit_amount) VALUES ('PINT2A', %s, %s, %s, 1, 'Pintura',"
        " 'confirmed', 'admin', 'block', 0, 0)",
        other["id"],
        today,
        today + timedelta(days=2),
    )

    days = calendar.monthrange(today.year, today.month)[1]
    month_end = today.replace(day=1) + timedelta(days=days)
    nights_in_month = (min(today + timedelta(days=3), month_end) - today).days
    revenue = (Decimal(stay["total_amount"]) * nights_in_month / 3).quantize(Decimal("0.01"))
    occupancy = round(100 * nights_in_month / (2 * days))

    log_in(page, panel.base)
    expect(page.locator("#llegadas")).to_contain_text("Llegan hoy (1)")
    expect(page.locator("#llegadas")).to_contain_text("Carla Gómez")
    expect(page.locator("#pre-reservas")).to_contain_text(hold["code"])
    expect(page.locator("#pre-reservas")).to_contain_text("vence en")
    expect(page.locator("#ocupacion .valor")).to_have_text(f"{occupancy} %")
    expect(page.locator("#ocupacion")).to_contain_text(f"{nights_in_month} de {2 * days} noches")
    expect(page.locator("#ingresos .valor")).to_have_text(pesos(revenue))
    expect(page.locator("#atencion")).to_contain_text("El pago de Bruno fue rechazado")
    expect(page.locator("#atencion")).to_contain_text("Tarea que no se pudo hacer")
    screenshot(page, "dashboard")


def test_an_alert_is_resolved_from_the_dashboard(panel: Panel, page: Page) -> None:
    panel.sql(
        "INSERT INTO operator_alerts (kind, message, data) VALUES ('handoff', %s, '{}'), ('late_payment', %s, '{}')",
        "Marta pide hablar con una persona",
        "Llegó un pago de Jorge después del vencimiento",
    )
    [(handoff_id,)] = panel.sql("SELECT id FROM operator_alerts WHERE kind = 'handoff'")
    log_in(page, panel.base)
    alert = page.locator(f"#aviso-{handoff_id}")
    expect(alert).to_contain_text("Marta pide hablar con una persona")
    expect(page.locator("#atencion h2")).to_have_text("Requiere atención (2)")

    alert.get_by_role("button", name="Marcar como resuelto").click()
    expect(page.get_by_role("status")).to_have_text("Listo: el aviso quedó resuelto.")
    expect(page.locator(f"#aviso-{handoff_id}")).to_have_count(0)
    expect(page.locator("#atencion")).to_contain_text("Llegó un pago de Jorge")
    expect(page.locator("#atencion h2")).to_have_text("Requiere atención (1)")
    [(resolved_at,)] = panel.sql("SELECT resolved_at FROM operator_alerts WHERE id = %s", handoff_id)
    assert resolved_at is not None
    # The API's resolve is the same function: resolving again keeps the first time.
    again = panel.api.post(f"/api/v1/alerts/{handoff_id}/resolve")
    assert again.status_code == 200
    assert panel.sql("SELECT resolved_at FROM operator_alerts WHERE id = %s", handoff_id) == [(resolved_at,)]
    assert panel.api.get("/api/v1/alerts").json()[0]["kind"] == "late_payment"


def test_the_dashboard_links_dead_letters_to_the_system_page(panel: Panel, page: Page) -> None:
    panel.sql("INSERT INTO jobs (kind, status, attempts) VALUES ('email.send', 'dead', 8)")
    log_in(page, panel.base)
    expect(page.locator("#atencion")).to_contain_text("Enviar un e-mail tras 8 intentos")
    page.locator("#ver-fallidas").click()
    expect(page).to_have_url(f"{panel.base}/admin/sistema#fallidas")
    expect(page.locator("#fallidas")).to_contain_text("Tareas que no se pudieron hacer (1)")
