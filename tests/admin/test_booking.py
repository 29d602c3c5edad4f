"""A phone or walk-in booking from the panel: the quote updates live, and the service decides."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from alojamientos.conversation.format import pesos
from alojamientos.kit.phone import to_e164
from tests.admin.conftest import Panel, form_session, log_in, screenshot, upcoming


def _fill(page: Page, unit_name: str, nights: int = 2, name: str = "Diego Fernández") -> None:
    start = upcoming(25)
    page.get_by_label("Cabaña").select_option(label=f"{unit_name} (hasta 4 personas)")
    page.get_by_label("Entrada").fill(start.isoformat())
    page.get_by_label("Salida").fill((start + timedelta(days=nights)).isoformat())
    page.get_by_label("Personas").fill("3")
    page.get_by_label("Nombre y apellido").fill(name)
    page.get_by_label("Teléfono (WhatsApp)").fill("11 4444-5678")


def test_a_phone_booking_with_a_live_quote(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    start = upcoming(25)
    expected = panel.api.post(
        "/api/v1/quotes",
        json={
            "accommodation_id": unit["id"],
            "check_in": start.isoformat(),
            "check_out": (start + timedelta(days=2)).isoformat(),
            "guests": 3,
        },
    )
    assert expected.status_code == 200, expected.text
    total = Decimal(expected.json()["total"])

    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/reservas")
    page.get_by_role("link", name="Nueva reserva").click()
    expect(page.locator("#cotizacion")).to_contain_text("Elegí cabaña, fechas y personas")
    _fill(page, unit["name"])
    expect(page.locator("#cotizacion")).to_contain_text(f"Total {pesos(total)}")
    screenshot(page, "nueva-reserva")
    page.get_by_role("button", name="Cargar la reserva").click()

    expect(page.get_by_role("status")).to_have_text("Listo: la reserva quedó cargada.")
    expect(page.locator("#estado")).to_have_text("Pre-reserva")
    code = page.url.split("/admin/reservas/")[1].split("?")[0]
    found = panel.reservation(code)
    assert found["source"] == "admin"
    assert found["guest_phone"] == to_e164("11 4444-5678")  # normalised as the JSON API does
    assert Decimal(found["total_amount"]) == total
    assert found["events"][0]["actor"] == "operator:operadora@example.com"


def test_taken_dates_are_refused_in_spanish_and_the_form_is_kept(panel: Panel, page: Page) -> None:
    unit = panel.unit()
    panel.booking(unit["id"], upcoming(25), nights=2)
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/reservas/nueva")
    _fill(page, unit["name"], name="Elena Ruiz")
    page.get_by_role("button", name="Cargar la reserva").click()
    expect(page.get_by_role("alert").first).to_contain_text("Esas fechas ya no están libres")
    expect(page.get_by_label("Nombre y apellido")).to_have_value("Elena Ruiz")
    assert len(panel.api.get("/api/v1/reservations").json()["items"]) == 1


def test_mercado_pago_is_offered_only_when_links_can_be_made(panel: Panel, page: Page) -> None:
    """The test server has no Mercado Pago access token: a link could never be made, so no option."""
    unit = panel.unit()
    log_in(page, panel.base)
    page.goto(f"{panel.base}/admin/reservas/nueva")
    expect(page.get_by_label("Cómo va a pagar la seña").locator("option")).to_have_text(["Transferencia"])
    start = upcoming(25)
    with form_session(panel.base) as (client, csrf):
        refused = client.post(
            "/admin/reservas/nueva",
            data={"csrf_token": csrf, "unidad": str(unit["id"]), "entrada": start.isoformat(),
                  "salida": (start + timedelta(days=2)).isoformat(), "personas": "2",
                  "nombre": "Ana Pérez", "medio": "mercadopago"},
        )  # fmt: skip
    assert refused.status_code == 422
    assert "Mercado Pago está apagado o sin configurar" in refused.text
    assert panel.api.get("/api/v1/reservations").json()["items"] == []
